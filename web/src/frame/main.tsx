// A sandboxed plugin UI: this page runs in an iframe with an opaque origin, so the
// plugin's code holds none of the signed-in person's power. The panel page sends what
// to render (`init`); API calls go back to it (`api`), and it forwards only those that
// reach the plugin's own routes. The frame reports its height so the page can size it.

import '@mantine/core/styles.css';

import { MantineProvider } from '@mantine/core';
import { type ComponentType, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import type { ApiAnswer, SlotProps } from '../shared/hatchery-ui';
import { type FrameInit, type FrameMessage, isParentMessage } from '../lib/frameProtocol';
import { PluginError, PluginErrorBoundary } from '../lib/pluginError';

const pending = new Map<number, (answer: ApiAnswer<unknown>) => void>();
let next = 1;

function post(message: FrameMessage) {
  // The parent is the panel page; its origin is this page's URL origin.
  window.parent.postMessage(message, '*');
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (event.source !== window.parent || !isParentMessage(event.data)) {
    return;
  }
  const message = event.data;
  if (message.type === 'init') {
    void render(message);
  } else if (message.type === 'answer') {
    pending.get(message.id)?.(message.answer);
    pending.delete(message.id);
  }
});

async function render(init: FrameInit) {
  const root = document.getElementById('root');
  if (root === null) {
    return;
  }
  const api: SlotProps['api'] = {
    request: (method, path, body, scope = 'panel') =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, resolve as (answer: ApiAnswer<unknown>) => void);
        post({ type: 'api', id, method, path, body, scope });
      }),
  };
  let Component: ComponentType<SlotProps> | null = null;
  let failure: string | null = null;
  try {
    const module = (await import(/* @vite-ignore */ init.module)) as Record<string, unknown>;
    const exported = module[init.export];
    if (typeof exported === 'function') {
      Component = exported as ComponentType<SlotProps>;
    } else {
      failure = `the module has no export named ${init.export}`;
    }
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
  }
  const props: SlotProps = { ...init.props, api };
  createRoot(root).render(
    <StrictMode>
      <MantineProvider forceColorScheme={init.colorScheme}>
        <PluginErrorBoundary plugin={init.props.plugin}>
          {Component === null ? <PluginError plugin={init.props.plugin} message={failure ?? 'nothing to show'} /> : <Component {...props} />}
        </PluginErrorBoundary>
      </MantineProvider>
    </StrictMode>,
  );
  // The frame is as tall as what it shows (the document is never shorter than the
  // frame itself, so the content is measured, not the document).
  document.body.style.margin = '0';
  new ResizeObserver(() => {
    post({ type: 'height', height: Math.ceil(root.getBoundingClientRect().height) });
  }).observe(root);
}

post({ type: 'ready' });
