// Messages between the panel page and a sandboxed plugin frame.

import type { ApiAnswer, RouteScope, SlotProps } from '../shared/hatchery-ui';

/** Page → frame: what to render. */
export interface FrameInit {
  type: 'init';
  module: string;
  export: string;
  props: Omit<SlotProps, 'api'>;
  colorScheme: 'light' | 'dark';
}

/** Page → frame: the answer to call `id`. */
export interface FrameAnswer {
  type: 'answer';
  id: number;
  answer: ApiAnswer<unknown>;
}

/** Frame → page. */
export type FrameMessage =
  | { type: 'ready' }
  | { type: 'height'; height: number }
  | { type: 'api'; id: number; method: string; path: string; body?: unknown; scope: RouteScope };

const SCOPES = new Set(['panel', 'server', 'admin', 'account']);
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function isParentMessage(value: unknown): value is FrameInit | FrameAnswer {
  return isObject(value) && (value.type === 'init' || value.type === 'answer');
}

/** A frame's message, checked field by field: the frame runs code nobody vetted. */
export function frameMessage(value: unknown): FrameMessage | null {
  if (!isObject(value)) {
    return null;
  }
  switch (value.type) {
    case 'ready':
      return { type: 'ready' };
    case 'height':
      return typeof value.height === 'number' && Number.isFinite(value.height)
        ? { type: 'height', height: value.height }
        : null;
    case 'api': {
      const { id, method, path, scope } = value;
      if (
        typeof id !== 'number' ||
        typeof method !== 'string' ||
        !METHODS.has(method.toUpperCase()) ||
        typeof path !== 'string' ||
        typeof scope !== 'string' ||
        !SCOPES.has(scope)
      ) {
        return null;
      }
      return { type: 'api', id, method: method.toUpperCase(), path, body: value.body, scope: scope as RouteScope };
    }
    default:
      return null;
  }
}

/**
 * The URL a plugin's call goes to, or null when `path` could leave the plugin's scope
 * (`..`, `//`, a query smuggling another path, anything but plain path characters).
 * The panel also refuses a call marked as a plugin's that reaches anything else.
 */
export function pluginUrl(plugin: string, scope: RouteScope, path: string, server: string | undefined): string | null {
  if (!/^\/[A-Za-z0-9._~\-/]*(\?[A-Za-z0-9._~\-=&%]*)?$/.test(path) || /(^|\/)\.\.?(\/|$|\?)/.test(path) || path.includes('//')) {
    return null;
  }
  switch (scope) {
    case 'panel':
      return `/api/plugins/${plugin}${path}`;
    case 'server':
      return server === undefined ? null : `/api/client/servers/${server}${path}`;
    case 'admin':
      return `/api/admin${path}`;
    case 'account':
      return `/api/client/account${path}`;
  }
}
