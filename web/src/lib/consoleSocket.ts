// The console websocket to a server's wings, in Pterodactyl's protocol: JSON frames
// `{event, args}`, authenticated with a short-lived token the panel signs. The token is
// renewed on the same socket before it runs out; a dropped socket reconnects with
// back-off, and asks for recent output again so nothing on screen goes missing.

import { type Data, api } from './api';
import type { PowerState } from './servers';

export interface Stats {
  memory_bytes: number;
  memory_limit_bytes: number;
  cpu_absolute: number;
  disk_bytes: number;
  network: { rx_bytes: number; tx_bytes: number };
  uptime: number;
  state?: PowerState;
}

export type Connection = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ConsoleEvents {
  /** Recent output is about to be sent again (on every connect): start the screen afresh. */
  history(): void;
  /** Output lines, console and install alike, in order. */
  output(lines: string[]): void;
  status(state: PowerState): void;
  stats(stats: Stats): void;
  /** Something wings or the panel says about the console itself (not game output). */
  notice(message: string, severity: 'info' | 'error'): void;
  connection(state: Connection): void;
}

interface ConsoleAccess {
  token: string;
  socket: string;
}

export interface Frame {
  event: string;
  args: string[];
}

/** One frame off the wire, or null when it is not one. */
export function parseFrame(text: string): Frame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  const { event, args } = value as { event?: unknown; args?: unknown };
  if (typeof event !== 'string') {
    return null;
  }
  const strings = Array.isArray(args) ? args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))) : [];
  return { event, args: strings };
}

/** Delay before reconnect attempt `attempt` (0-based): 1 s doubling to 30 s. */
export function backoff(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
}

const POWER_STATES = new Set(['offline', 'starting', 'running', 'stopping']);

export class ConsoleSocket {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** Whether this socket has authenticated once (a renewed token authenticates again). */
  private authenticated = false;

  constructor(
    private readonly serverId: string,
    private readonly events: ConsoleEvents,
  ) {}

  start(): void {
    this.closed = false;
    void this.connect();
  }

  close(): void {
    this.closed = true;
    if (this.retry !== null) {
      clearTimeout(this.retry);
    }
    this.socket?.close();
    this.socket = null;
    this.events.connection('closed');
  }

  /** Sends a console line; false when the socket is not open. */
  command(line: string): boolean {
    return this.send('send command', [line]);
  }

  private send(event: string, args: string[]): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) {
      return false;
    }
    this.socket.send(JSON.stringify({ event, args }));
    return true;
  }

  private async access(): Promise<ConsoleAccess> {
    const answer = await api<Data<ConsoleAccess>>(
      'GET',
      `/api/client/servers/${this.serverId}/websocket`,
    );
    return answer.data;
  }

  private async connect(): Promise<void> {
    this.events.connection(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let access: ConsoleAccess;
    try {
      access = await this.access();
    } catch (error) {
      this.events.notice(error instanceof Error ? error.message : 'The console is not available.', 'error');
      this.reconnectLater();
      return;
    }
    if (this.closed) {
      return;
    }
    const socket = new WebSocket(access.socket);
    this.socket = socket;
    this.authenticated = false;
    socket.onopen = () => {
      socket.send(JSON.stringify({ event: 'auth', args: [access.token] }));
    };
    socket.onmessage = (message: MessageEvent) => {
      if (typeof message.data === 'string') {
        const frame = parseFrame(message.data);
        if (frame !== null) {
          this.receive(frame);
        }
      }
    };
    socket.onclose = () => {
      if (this.socket === socket) {
        this.socket = null;
        this.reconnectLater();
      }
    };
  }

  private reconnectLater(): void {
    if (this.closed) {
      return;
    }
    this.events.connection('reconnecting');
    const delay = backoff(this.attempt);
    this.attempt += 1;
    this.retry = setTimeout(() => void this.connect(), delay);
  }

  private async renew(): Promise<void> {
    try {
      const access = await this.access();
      this.send('auth', [access.token]);
    } catch (error) {
      this.events.notice(error instanceof Error ? error.message : 'The console token could not be renewed.', 'error');
    }
  }

  private receive({ event, args }: Frame): void {
    const first = args[0] ?? '';
    switch (event) {
      case 'auth success':
        this.attempt = 0;
        this.events.connection('connected');
        if (!this.authenticated) {
          this.authenticated = true;
          this.events.history();
          this.send('send logs', []);
          this.send('send stats', []);
        }
        break;
      case 'console output':
      case 'install output':
        this.events.output([first]);
        break;
      case 'install started':
        this.events.notice('The server is being installed; its output follows.', 'info');
        break;
      case 'install completed':
        this.events.notice(
          first === 'false' ? 'The installation failed; its output is above.' : 'The installation finished.',
          first === 'false' ? 'error' : 'info',
        );
        break;
      case 'status':
        if (POWER_STATES.has(first)) {
          this.events.status(first as PowerState);
        }
        break;
      case 'stats':
        try {
          const stats = JSON.parse(first) as Stats;
          this.events.stats(stats);
          if (stats.state !== undefined && POWER_STATES.has(stats.state)) {
            this.events.status(stats.state);
          }
        } catch {
          // A malformed stats frame is skipped; the next one comes within seconds.
        }
        break;
      case 'token expiring':
      case 'token expired':
        void this.renew();
        break;
      case 'daemon message':
        this.events.notice(first, 'info');
        break;
      case 'daemon error':
      case 'jwt error':
        this.events.notice(first, 'error');
        break;
      default:
        break;
    }
  }
}

/**
 * Collects lines and hands them over at most once per frame, so a server that floods
 * its console costs one terminal write per frame. When more than `cap` lines wait (the
 * tab was in the background, or the flood outruns the screen), the oldest are dropped
 * and counted.
 */
export class LineBatcher {
  private pending: string[] = [];
  private dropped = 0;
  private scheduled = false;
  /** Lines handed to the screen, and lines skipped, since the start. */
  written = 0;
  skipped = 0;

  constructor(
    private readonly flush: (text: string) => void,
    private readonly cap = 5000,
    private readonly schedule: (run: () => void) => void = (run) => {
      requestAnimationFrame(run);
    },
  ) {}

  push(lines: string[]): void {
    this.pending.push(...lines);
    if (this.pending.length > this.cap) {
      const excess = this.pending.length - this.cap;
      this.pending.splice(0, excess);
      this.dropped += excess;
      this.skipped += excess;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => {
        this.drain();
      });
    }
  }

  private drain(): void {
    this.scheduled = false;
    if (this.pending.length === 0) {
      return;
    }
    let text = '';
    if (this.dropped > 0) {
      text += `\x1b[33m[${this.dropped} lines skipped to keep up]\x1b[0m\r\n`;
      this.dropped = 0;
    }
    // Terminals want CRLF; game servers write LF (or CRLF already).
    text += this.pending
      .map((line) => line.replace(/\r?\n$/, '').replace(/\r?\n/g, '\r\n') + '\r\n')
      .join('');
    this.written += this.pending.length;
    this.pending = [];
    this.flush(text);
  }
}
