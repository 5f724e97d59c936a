// Search a folder on the node by name, glob or content, with size and date filters.
// The node streams its hits as it finds them, so the first show at once; Stop ends it.

import { Button, Group, NumberInput, Paper, SegmentedControl, Stack, Switch, Text, TextInput, UnstyledButton } from '@hatchery/ui';
import { type FormEvent, useEffect, useRef, useState } from 'react';

import { type SearchHit, type SearchQuery, type SearchSummary, isArchive, parent, streamSearch } from './client';
import { PathCrumbs, errorText, useFiles } from './context';
import { bytes, isText } from './format';
import { FileIcon, FolderIcon, TextIcon } from './icons';
import { VirtualList } from './VirtualList';

type Mode = 'name' | 'glob' | 'content';

const PLACEHOLDER: Record<Mode, string> = {
  name: 'Part of a name: config',
  glob: 'A pattern: *.yml or plugins/**/config.yml',
  content: 'Text inside files: max-players',
};

/** Seconds since the epoch at the start of `day` (`2026-11-30`), or undefined. */
function epoch(day: string): number | undefined {
  if (day === '') {
    return undefined;
  }
  const time = Date.parse(`${day}T00:00:00`);
  return Number.isNaN(time) ? undefined : Math.floor(time / 1000);
}

export function SearchPage({ directory }: { directory: string }) {
  const { client, go } = useFiles();
  const [mode, setMode] = useState<Mode>('name');
  const [text, setText] = useState('');
  const [caseSensitive, setCaseSensitive] = useState(false);
  const [minSize, setMinSize] = useState<number | string>('');
  const [maxSize, setMaxSize] = useState<number | string>('');
  const [after, setAfter] = useState('');
  const [before, setBefore] = useState('');
  const [hits, setHits] = useState<SearchHit[]>([]);
  const [summary, setSummary] = useState<SearchSummary | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const stop = useRef<AbortController | null>(null);

  useEffect(() => () => stop.current?.abort(), []);

  const run = async (event: FormEvent) => {
    event.preventDefault();
    stop.current?.abort();
    const controller = new AbortController();
    stop.current = controller;
    const query: SearchQuery = { case_sensitive: caseSensitive };
    if (text.trim() !== '') {
      query[mode] = text.trim();
    }
    const kib = (value: number | string) => (value === '' ? undefined : Math.round(Number(value) * 1024));
    query.min_size = kib(minSize);
    query.max_size = kib(maxSize);
    query.modified_after = epoch(after);
    const until = epoch(before);
    query.modified_before = until === undefined ? undefined : until + 86_400;
    setHits([]);
    setSummary(null);
    setFailure(null);
    setRunning(true);
    // Hits arrive in bursts; they are shown a frame at a time.
    let pending: SearchHit[] = [];
    let frame = 0;
    const flush = () => {
      frame = 0;
      const batch = pending;
      pending = [];
      setHits((old) => old.concat(batch));
    };
    try {
      const url = await client.searchUrl(directory, query);
      const done = await streamSearch(url, controller.signal, (hit) => {
        pending.push(hit);
        if (frame === 0) {
          frame = window.requestAnimationFrame(flush);
        }
      });
      window.cancelAnimationFrame(frame);
      flush();
      setSummary(done);
    } catch (error) {
      window.cancelAnimationFrame(frame);
      flush();
      if (!(error instanceof DOMException && error.name === 'AbortError')) {
        setFailure(errorText(error));
      }
    } finally {
      if (stop.current === controller) {
        setRunning(false);
      }
    }
  };

  const open = (hit: SearchHit) => {
    if (hit.directory) {
      go({ kind: 'dir', path: hit.path });
    } else if (isArchive(hit.path)) {
      go({ kind: 'archive', path: hit.path });
    } else if (isText(hit.path, '')) {
      go({ kind: 'edit', path: hit.path });
    } else {
      go({ kind: 'dir', path: parent(hit.path) });
    }
  };

  return (
    <Stack gap="sm">
      <Group justify="space-between" gap="xs" wrap="wrap">
        <Group gap={6}>
          <Text size="sm">Searching in</Text>
          <PathCrumbs path={directory} last="link" />
        </Group>
        <Button size="xs" variant="default" onClick={() => go({ kind: 'dir', path: directory })}>
          Back to the folder
        </Button>
      </Group>
      <Paper withBorder p="sm">
        <form onSubmit={run}>
          <Stack gap="xs">
            <SegmentedControl
              size="xs"
              value={mode}
              onChange={(value) => setMode(value as Mode)}
              data={[
                { value: 'name', label: 'Name' },
                { value: 'glob', label: 'Pattern' },
                { value: 'content', label: 'Content' },
              ]}
              style={{ alignSelf: 'flex-start' }}
            />
            <Group gap="xs" align="flex-end" wrap="wrap">
              <TextInput
                label="Look for"
                placeholder={PLACEHOLDER[mode]}
                value={text}
                onChange={(event) => setText(event.currentTarget.value)}
                style={{ flex: '1 1 260px' }}
                data-autofocus
              />
              <Switch label="Match case" checked={caseSensitive} onChange={(event) => setCaseSensitive(event.currentTarget.checked)} mb={8} />
            </Group>
            <Group gap="xs" wrap="wrap">
              <NumberInput label="At least (KiB)" value={minSize} onChange={setMinSize} min={0} w={140} size="xs" />
              <NumberInput label="At most (KiB)" value={maxSize} onChange={setMaxSize} min={0} w={140} size="xs" />
              <TextInput label="Changed since" type="date" value={after} onChange={(event) => setAfter(event.currentTarget.value)} w={160} size="xs" />
              <TextInput label="Changed before" type="date" value={before} onChange={(event) => setBefore(event.currentTarget.value)} w={160} size="xs" />
            </Group>
            <Group gap="xs">
              <Button type="submit" size="xs" loading={running}>
                Search
              </Button>
              {running && (
                <Button size="xs" variant="default" onClick={() => stop.current?.abort()}>
                  Stop
                </Button>
              )}
            </Group>
          </Stack>
        </form>
      </Paper>

      {failure !== null && (
        <Text c="red" size="sm" role="alert">
          {failure}
        </Text>
      )}
      {(running || summary !== null) && (
        <Text size="sm" c="dimmed" data-testid="search-summary" aria-live="polite">
          {summary === null
            ? `Searching… ${hits.length} found so far`
            : `${summary.hits} found among ${summary.scanned.toLocaleString()} entries in ${summary.elapsed_ms} ms${summary.truncated ? ' — the limit was reached; narrow the search to see the rest' : ''}.`}
        </Text>
      )}
      {hits.length > 0 && (
        <Paper withBorder style={{ overflow: 'hidden' }}>
          <VirtualList
            count={hits.length}
            rowHeight={mode === 'content' ? 58 : 40}
            height={`min(${hits.length * (mode === 'content' ? 58 : 40) + 2}px, max(300px, calc(100vh - 420px)))`}
            label="Search results"
            row={(index) => {
              const hit = hits[index];
              if (hit === undefined) {
                return null;
              }
              const first = hit.matches?.[0];
              return (
                <UnstyledButton
                  role="row"
                  onClick={() => open(hit)}
                  style={{
                    display: 'flex',
                    flexDirection: 'column',
                    justifyContent: 'center',
                    width: '100%',
                    height: '100%',
                    padding: '0 10px',
                    borderBottom: '1px solid var(--mantine-color-default-border)',
                  }}
                >
                  <Group gap={8} wrap="nowrap" style={{ minWidth: 0, width: '100%' }}>
                    {hit.directory ? <FolderIcon /> : isText(hit.path, '') ? <TextIcon /> : <FileIcon />}
                    <Text size="sm" truncate style={{ flex: 1 }}>
                      {hit.path}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {hit.directory ? '' : bytes(hit.size)}
                    </Text>
                  </Group>
                  {first !== undefined && (
                    <Text size="xs" c="dimmed" ff="monospace" truncate style={{ width: '100%', paddingLeft: 26 }}>
                      {first.line}: {first.text}
                      {(hit.matches?.length ?? 0) > 1 ? ` (+${(hit.matches?.length ?? 1) - 1} more)` : ''}
                    </Text>
                  )}
                </UnstyledButton>
              );
            }}
          />
        </Paper>
      )}
      {summary !== null && hits.length === 0 && (
        <Text size="sm">Nothing matches. Try fewer filters, or search a folder higher up.</Text>
      )}
    </Stack>
  );
}
