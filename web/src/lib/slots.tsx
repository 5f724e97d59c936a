// UI slots: places in the panel where enabled plugins' browser modules appear, without
// a frontend build. A plugin granted `ui_trusted` renders in this page (its module is
// imported, sharing React and `@hatchery/ui` through the import map); any other renders
// in a sandboxed frame and reaches the panel only through the bridge here, which
// forwards calls to the plugin's own routes and nothing else.

import { Card, Loader, Text, useComputedColorScheme } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import {
  type ComponentType,
  type LazyExoticComponent,
  type ReactNode,
  Suspense,
  createElement,
  lazy,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';

import type { ApiAnswer, PluginApi, RouteScope, SlotId, SlotProps } from '../shared/hatchery-ui';
import { useAccount } from './account';
import { type FrameAnswer, type FrameInit, frameMessage, pluginUrl } from './frameProtocol';
import { PluginError, PluginErrorBoundary } from './pluginError';

export interface Contribution {
  plugin: string;
  slot: string;
  title: string;
  export: string;
  module: string;
  integrity: string;
  path: string | null;
  /** On server slots: the server permission needed on the server shown. */
  permission: string | null;
  trusted: boolean;
  /** Its place among the slot's items, lower first; null: after the panel's own. */
  order: number | null;
}

/** Where a contribution without an `order` goes: after everything the panel places. */
export const LAST = 1001;

/** The enabled plugins' contributions the signed-in person may see. */
export function useContributions(slot: SlotId) {
  const query = useQuery({
    queryKey: ['ui', 'contributions'],
    queryFn: async () => {
      const response = await fetch('/api/ui/contributions', { credentials: 'same-origin' });
      if (!response.ok) {
        throw new Error(`The panel answered ${response.status}.`);
      }
      return ((await response.json()) as { contributions: Contribution[] }).contributions;
    },
    // Plugins are enabled and disabled while pages are open.
    refetchInterval: 30_000,
    staleTime: 5_000,
  });
  return {
    ...query,
    data: query.data
      ?.filter((contribution) => contribution.slot === slot)
      .sort((a, b) => (a.order ?? LAST) - (b.order ?? LAST)),
  };
}

/** A page contribution's address segment: its `path`, or its title in lowercase. */
export function pagePath(contribution: Contribution): string {
  return contribution.path ?? contribution.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

async function call<T>(url: string, method: string, body: unknown, plugin: string | null): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = {};
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  if (plugin !== null) {
    headers['x-hatchery-plugin'] = plugin;
  }
  try {
    const response = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: T | null = null;
    try {
      parsed = text === '' ? null : (JSON.parse(text) as T);
    } catch {
      parsed = null;
    }
    return { status: response.status, ok: response.ok, body: parsed };
  } catch {
    return { status: 0, ok: false, body: null };
  }
}

function refused<T>(): ApiAnswer<T> {
  return { status: 403, ok: false, body: { error: { code: 'forbidden', message: 'a plugin may call only its own routes' } } as T };
}

/** The plugin's API client: its own routes, with the `server` of the slot if any. */
export function pluginApi(plugin: string, server: string | undefined, sandboxed: boolean): PluginApi {
  return {
    request: <T,>(method: string, path: string, body?: unknown, scope: RouteScope = 'panel') => {
      const url = pluginUrl(plugin, scope, path, server);
      return url === null ? Promise.resolve(refused<T>()) : call<T>(url, method.toUpperCase(), body, sandboxed ? plugin : null);
    },
  };
}

interface SlotContext {
  server?: SlotProps['server'];
}

/** Every contribution to slot `id`, each on its own: one that breaks shows an error card. */
export function Slot({ id, server, wrap }: { id: SlotId; wrap?: (title: string, content: ReactNode) => ReactNode } & SlotContext) {
  const contributions = useContributions(id);
  return (
    <>
      {contributions.data?.map((contribution) => {
        const content = (
          <ContributionView contribution={contribution} {...(server === undefined ? {} : { server })} />
        );
        return (
          <div key={`${contribution.plugin}:${contribution.module}:${contribution.export}`} data-testid="slot-contribution" data-plugin={contribution.plugin}>
            {wrap === undefined ? content : wrap(contribution.title, content)}
          </div>
        );
      })}
    </>
  );
}

/** One contribution, in this page or in a sandboxed frame. */
export function ContributionView({ contribution, server }: { contribution: Contribution } & SlotContext) {
  const account = useAccount();
  const props: Omit<SlotProps, 'api'> = {
    plugin: contribution.plugin,
    slot: contribution.slot,
    user: { username: account.data?.username ?? '', admin: account.data?.admin ?? false },
    ...(server === undefined ? {} : { server }),
  };
  return (
    <PluginErrorBoundary plugin={contribution.plugin}>
      {contribution.trusted ? <InPage contribution={contribution} props={props} /> : <Sandboxed contribution={contribution} props={props} />}
    </PluginErrorBoundary>
  );
}

/** Each module's component, made once: React must see the same component every render. */
const components = new Map<string, LazyExoticComponent<ComponentType<SlotProps>>>();

function componentOf(contribution: Contribution): LazyExoticComponent<ComponentType<SlotProps>> {
  const key = `${contribution.module}#${contribution.export}`;
  let component = components.get(key);
  if (component === undefined) {
    component = lazy(async () => {
      const module = (await import(/* @vite-ignore */ contribution.module)) as Record<string, unknown>;
      const exported = module[contribution.export];
      if (typeof exported !== 'function') {
        throw new Error(`its module has no export named ${contribution.export}`);
      }
      return { default: exported as ComponentType<SlotProps> };
    });
    components.set(key, component);
  }
  return component;
}

function InPage({ contribution, props }: { contribution: Contribution; props: Omit<SlotProps, 'api'> }) {
  const api = useMemo(() => pluginApi(contribution.plugin, props.server?.short_id, false), [contribution.plugin, props.server?.short_id]);
  return (
    <Suspense fallback={<Loader size="sm" aria-label={`Loading ${contribution.title}`} />}>
      {/* The component comes from the cache above, the same one every render. */}
      {createElement(componentOf(contribution), { ...props, api })}
    </Suspense>
  );
}

/** The largest height a frame may ask for, so a plugin cannot stretch the page away. */
const MAX_FRAME_HEIGHT = 4000;

function Sandboxed({ contribution, props }: { contribution: Contribution; props: Omit<SlotProps, 'api'> }) {
  const frame = useRef<HTMLIFrameElement>(null);
  const [height, setHeight] = useState(48);
  const [failed, setFailed] = useState<string | null>(null);
  const scheme = useComputedColorScheme('light');
  const init = useRef<FrameInit | null>(null);
  useEffect(() => {
    init.current = {
      type: 'init',
      module: new URL(contribution.module, window.location.origin).href,
      export: contribution.export,
      props,
      colorScheme: scheme,
    };
  });

  useEffect(() => {
    const api = pluginApi(contribution.plugin, props.server?.short_id, true);
    const listen = (event: MessageEvent<unknown>) => {
      const target = frame.current?.contentWindow;
      if (target === null || target === undefined || event.source !== target) {
        return;
      }
      const message = frameMessage(event.data);
      if (message === null) {
        return;
      }
      if (message.type === 'ready' && init.current !== null) {
        target.postMessage(init.current, '*');
      } else if (message.type === 'height') {
        setHeight(Math.max(24, Math.min(MAX_FRAME_HEIGHT, Math.ceil(message.height))));
      } else if (message.type === 'api') {
        void api.request(message.method, message.path, message.body, message.scope).then((answer) => {
          const reply: FrameAnswer = { type: 'answer', id: message.id, answer };
          target.postMessage(reply, '*');
        });
      }
    };
    window.addEventListener('message', listen);
    return () => {
      window.removeEventListener('message', listen);
    };
  }, [contribution.plugin, props.server?.short_id]);

  if (failed !== null) {
    return <PluginError plugin={contribution.plugin} message={failed} />;
  }
  return (
    <iframe
      ref={frame}
      title={contribution.title}
      src="/plugin-frame"
      sandbox="allow-scripts"
      style={{ border: 0, width: '100%', height, display: 'block', colorScheme: 'normal' }}
      onError={() => setFailed('its frame did not load')}
    />
  );
}

/** A dashboard widget's frame: a card with the contribution's title. */
export function WidgetCard(title: string, content: ReactNode) {
  return (
    <Card withBorder>
      <Text fw={600} mb="xs">
        {title}
      </Text>
      {content}
    </Card>
  );
}
