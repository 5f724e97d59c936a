// Servers as the client API describes them, and the numbers people read off them.

import { useQuery } from '@tanstack/react-query';

import { type Data, api } from './api';

export interface Allocation {
  id: number;
  ip: string;
  alias: string | null;
  port: number;
  notes: string | null;
}

export interface ServerSummary {
  uuid: string;
  short_id: string;
  name: string;
  description: string;
  memory_mb: number;
  disk_mb: number;
  cpu_percent: number;
  status: string | null;
}

export interface ServerDetails extends ServerSummary {
  allocation_id: number;
  allocation_limit: number;
  image: string;
  allocations: Allocation[];
  /** What the caller may do here; `*` is everything. */
  permissions: string[];
  is_owner: boolean;
  sftp: { host: string; port: number };
}

export type PowerState = 'offline' | 'starting' | 'running' | 'stopping';

export interface Resources {
  current_state: PowerState;
  is_suspended: boolean;
  resources: {
    memory_bytes: number;
    memory_limit_bytes: number;
    cpu_absolute: number;
    disk_bytes: number;
    network_rx_bytes: number;
    network_tx_bytes: number;
    uptime: number;
  };
}

/** The server's address part of a URL: its short id. */
export function serverPath(server: { short_id: string }, page = ''): string {
  return `/servers/${server.short_id}${page === '' ? '' : `/${page}`}`;
}

export function can(permissions: readonly string[], permission: string): boolean {
  return permissions.includes('*') || permissions.includes(permission);
}

export function useServer(id: string) {
  return useQuery({
    queryKey: ['server', id],
    queryFn: () =>
      api<Data<ServerDetails>>('GET', `/api/client/servers/${id}`).then((answer) => answer.data),
    // An install ends on its own; the page follows without a reload.
    refetchInterval: (query) => (query.state.data?.status === 'installing' ? 2000 : false),
  });
}

/** Live state and use, asked of the node every few seconds while shown. */
export function useResources(id: string, enabled = true) {
  return useQuery({
    queryKey: ['server', id, 'resources'],
    queryFn: () =>
      api<Data<Resources>>('GET', `/api/client/servers/${id}/resources`).then(
        (answer) => answer.data,
      ),
    enabled,
    refetchInterval: 10_000,
    retry: false,
  });
}

/** A server's lifecycle status (null once installed and in use) in words. */
export const LIFECYCLE: Record<string, { label: string; color: string }> = {
  installing: { label: 'Installing', color: 'blue' },
  install_failed: { label: 'Install failed', color: 'red' },
  reinstall_failed: { label: 'Reinstall failed', color: 'red' },
  suspended: { label: 'Suspended', color: 'orange' },
  deleting: { label: 'Being deleted', color: 'gray' },
};

export const POWER: Record<PowerState, { label: string; color: string }> = {
  offline: { label: 'Offline', color: 'gray' },
  starting: { label: 'Starting', color: 'yellow' },
  running: { label: 'Running', color: 'green' },
  stopping: { label: 'Stopping', color: 'orange' },
};

export function bytes(count: number): string {
  if (count < 1024) {
    return `${count} B`;
  }
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = count / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** A limit in MiB as configured (0 is unlimited). */
export function limit(megabytes: number): string {
  return megabytes === 0 ? 'unlimited' : bytes(megabytes * 1024 * 1024);
}

export function uptime(milliseconds: number): string {
  const seconds = Math.floor(milliseconds / 1000);
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) {
    return `${days}d ${hours}h`;
  }
  if (hours > 0) {
    return `${hours}h ${minutes}m`;
  }
  return `${minutes}m ${seconds % 60}s`;
}

/** `ip:port`, or the alias the admin gave the address. */
export function address(allocation: Allocation): string {
  return `${allocation.alias ?? allocation.ip}:${allocation.port}`;
}
