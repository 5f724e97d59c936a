// The console page, loaded on demand (xterm.js is most of its weight): the live
// terminal, power buttons, the command line and graphs of what the server uses.

import '@xterm/xterm/css/xterm.css';

import { Alert, Box, Button, Card, Group, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';

import { api } from '../../lib/api';
import { type Connection, ConsoleSocket, LineBatcher, type Stats } from '../../lib/consoleSocket';
import { type PowerState, bytes, can, uptime } from '../../lib/servers';
import { ErrorNotice } from '../parts';
import { useCurrentServer } from './ServerLayout';

/** Lines the terminal keeps; older ones scroll away for good. */
const SCROLLBACK = 5000;
/** Samples the graphs show (wings sends one every few seconds). */
const SAMPLES = 60;

interface Sample {
  cpu: number;
  memory: number;
  rx: number;
  tx: number;
}

function useCommandHistory(key: string) {
  const storageKey = `hatchery.console-history.${key}`;
  const [history, setHistory] = useState<string[]>(() => {
    try {
      const stored: unknown = JSON.parse(sessionStorage.getItem(storageKey) ?? '[]');
      return Array.isArray(stored) ? stored.filter((line): line is string => typeof line === 'string') : [];
    } catch {
      return [];
    }
  });
  const remember = (line: string) => {
    const next = [line, ...history.filter((old) => old !== line)].slice(0, 50);
    setHistory(next);
    sessionStorage.setItem(storageKey, JSON.stringify(next));
  };
  return { history, remember };
}

export default function Console() {
  const server = useCurrentServer();
  const queries = useQueryClient();
  const screen = useRef<HTMLDivElement>(null);
  const socket = useRef<ConsoleSocket | null>(null);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [state, setState] = useState<PowerState | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);
  const [samples, setSamples] = useState<Sample[]>([]);
  const [notice, setNotice] = useState<{ message: string; severity: 'info' | 'error' } | null>(null);
  const [command, setCommand] = useState('');
  const [recalled, setRecalled] = useState(-1);
  const { history, remember } = useCommandHistory(server.uuid);

  useEffect(() => {
    const element = screen.current;
    if (element === null) {
      return undefined;
    }
    const terminal = new Terminal({
      scrollback: SCROLLBACK,
      convertEol: false,
      disableStdin: true,
      cursorBlink: false,
      fontSize: 13,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
      theme: { background: '#101113' },
    });
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open(element);
    fit.fit();
    const resize = new ResizeObserver(() => {
      fit.fit();
    });
    resize.observe(element);
    const lines: LineBatcher = new LineBatcher((text) => {
      terminal.write(text);
      // Read by the console benchmark (e2e/console-bench.mjs).
      element.dataset.linesWritten = String(lines.written);
      element.dataset.linesSkipped = String(lines.skipped);
    }, SCROLLBACK);
    // Wings reports bytes sent and received since the start; the graph shows rates.
    let previous: { at: number; rx: number; tx: number } | null = null;
    const live = new ConsoleSocket(server.short_id, {
      history: () => {
        terminal.reset();
      },
      output: (output) => {
        lines.push(output);
      },
      status: (next) => {
        setState(next);
      },
      stats: (next) => {
        setStats(next);
        const at = Date.now();
        const seconds = previous === null ? 0 : (at - previous.at) / 1000;
        const rate = (now: number, before: number) =>
          seconds > 0 ? Math.max(0, now - before) / seconds : 0;
        const sample = {
          cpu: next.cpu_absolute,
          memory: next.memory_bytes,
          rx: rate(next.network.rx_bytes, previous?.rx ?? 0),
          tx: rate(next.network.tx_bytes, previous?.tx ?? 0),
        };
        previous = { at, rx: next.network.rx_bytes, tx: next.network.tx_bytes };
        setSamples((old) => [...old, sample].slice(-SAMPLES));
      },
      notice: (message, severity) => {
        if (severity === 'error') {
          setNotice({ message, severity });
        } else {
          lines.push([`\x1b[36m[Hatchery] ${message}\x1b[0m`]);
        }
      },
      connection: (next) => {
        setConnection(next);
        if (next === 'connected') {
          setNotice(null);
        }
      },
    });
    socket.current = live;
    live.start();
    return () => {
      live.close();
      resize.disconnect();
      terminal.dispose();
      socket.current = null;
    };
  }, [server.short_id]);

  const power = useMutation({
    mutationFn: (signal: string) =>
      api('POST', `/api/client/servers/${server.short_id}/power`, { signal }),
    onSettled: () => queries.invalidateQueries({ queryKey: ['server', server.short_id, 'resources'] }),
  });

  const mayType = can(server.permissions, 'control.console');
  const running = state === 'running' || state === 'starting';
  // Installing, suspended or being deleted: wings would refuse power actions.
  const held = server.status !== null;
  const send = () => {
    const line = command.trim();
    if (line === '' || socket.current === null) {
      return;
    }
    if (socket.current.command(line)) {
      remember(line);
      setCommand('');
      setRecalled(-1);
    } else {
      setNotice({ message: 'The console is not connected; the command was not sent.', severity: 'error' });
    }
  };
  const recall = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      send();
      return;
    }
    const step = event.key === 'ArrowUp' ? 1 : event.key === 'ArrowDown' ? -1 : 0;
    if (step === 0) {
      return;
    }
    event.preventDefault();
    const next = Math.max(-1, Math.min(history.length - 1, recalled + step));
    setRecalled(next);
    setCommand(next === -1 ? '' : (history[next] ?? ''));
  };

  const latest = samples.at(-1);
  const limit = stats?.memory_limit_bytes ?? 0;
  return (
    <Stack gap="sm">
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Text size="sm" c="dimmed" aria-live="polite" data-testid="console-connection">
          {connection === 'connected'
            ? 'Connected'
            : connection === 'reconnecting'
              ? 'Reconnecting to the node…'
              : connection === 'closed'
                ? 'Disconnected'
                : 'Connecting…'}
        </Text>
        <Group gap="xs">
          {can(server.permissions, 'control.start') && (
            <Button
              size="xs"
              color="green"
              disabled={held || running || state === 'stopping'}
              loading={power.isPending && power.variables === 'start'}
              onClick={() => {
                power.mutate('start');
              }}
            >
              Start
            </Button>
          )}
          {can(server.permissions, 'control.restart') && (
            <Button
              size="xs"
              variant="default"
              disabled={held || state === 'offline'}
              loading={power.isPending && power.variables === 'restart'}
              onClick={() => {
                power.mutate('restart');
              }}
            >
              Restart
            </Button>
          )}
          {can(server.permissions, 'control.stop') &&
            (state === 'stopping' ? (
              <Button
                size="xs"
                color="red"
                loading={power.isPending && power.variables === 'kill'}
                onClick={() => {
                  power.mutate('kill');
                }}
              >
                Kill
              </Button>
            ) : (
              <Button
                size="xs"
                color="red"
                variant="light"
                disabled={held || state === 'offline'}
                loading={power.isPending && power.variables === 'stop'}
                onClick={() => {
                  power.mutate('stop');
                }}
              >
                Stop
              </Button>
            ))}
        </Group>
      </Group>
      {power.isError && <ErrorNotice error={power.error} />}
      {notice !== null && (
        <Alert color="red" variant="light" withCloseButton onClose={() => setNotice(null)}>
          {notice.message}
        </Alert>
      )}
      <Box
        ref={screen}
        data-testid="console"
        style={{ height: 'min(60vh, 480px)', background: '#101113', borderRadius: 8, padding: 8, overflow: 'hidden' }}
      />
      {mayType && (
        <TextInput
          aria-label="Console command"
          placeholder={connection === 'connected' ? 'Type a command; ↑ and ↓ recall earlier ones' : 'Waiting for the console…'}
          value={command}
          onChange={(event) => {
            setCommand(event.currentTarget.value);
          }}
          onKeyDown={recall}
          disabled={connection !== 'connected'}
          ff="monospace"
        />
      )}
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <Graph
          title="CPU"
          value={latest === undefined ? '—' : `${latest.cpu.toFixed(1)}%`}
          values={samples.map((sample) => sample.cpu)}
          ceiling={Math.max(100, server.cpu_percent)}
          color="var(--mantine-color-blue-5)"
        />
        <Graph
          title="Memory"
          value={latest === undefined ? '—' : `${bytes(latest.memory)}${limit > 0 ? ` of ${bytes(limit)}` : ''}`}
          values={samples.map((sample) => sample.memory)}
          ceiling={limit > 0 ? limit : Math.max(1, ...samples.map((sample) => sample.memory))}
          color="var(--mantine-color-grape-5)"
        />
        <Graph
          title="Network"
          value={latest === undefined ? '—' : `↓ ${bytes(Math.round(latest.rx))}/s ↑ ${bytes(Math.round(latest.tx))}/s`}
          values={samples.map((sample) => sample.rx + sample.tx)}
          ceiling={Math.max(1024, ...samples.map((sample) => sample.rx + sample.tx))}
          color="var(--mantine-color-teal-5)"
        />
      </SimpleGrid>
      {stats !== null && stats.uptime > 0 && (
        <Text size="xs" c="dimmed">
          Up {uptime(stats.uptime)} · disk {bytes(stats.disk_bytes)}
        </Text>
      )}
    </Stack>
  );
}

/** A fixed-size line graph, so new samples never move the page around. */
function Graph(props: { title: string; value: string; values: number[]; ceiling: number; color: string }) {
  const width = 240;
  const height = 48;
  const step = width / (SAMPLES - 1);
  const offset = SAMPLES - props.values.length;
  const points = props.values
    .map((value, index) => {
      const x = (offset + index) * step;
      const y = height - (Math.min(value, props.ceiling) / props.ceiling) * (height - 2) - 1;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
  return (
    <Card withBorder padding="sm">
      <Group justify="space-between" gap={4} wrap="nowrap">
        <Text size="sm" fw={500}>
          {props.title}
        </Text>
        <Text size="sm" c="dimmed" truncate>
          {props.value}
        </Text>
      </Group>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        width="100%"
        height={height}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${props.title}: ${props.value}`}
      >
        {props.values.length > 1 && (
          <polyline points={points} fill="none" stroke={props.color} strokeWidth={1.5} vectorEffect="non-scaling-stroke" />
        )}
      </svg>
    </Card>
  );
}
