// The Files tab (`server.tabs/v1`): the folder list, the editor with its history, the
// archive browser and search. Which one shows, and on what, lives in the address's
// hash (`#dir=/plugins`, `#edit=/server.properties`, `#archive=/x.zip`,
// `#search=/`), so every view can be bookmarked, shared and left with Back.

import { Alert, CloseButton, Stack, Text } from '@hatchery/ui';
import type { SlotProps } from '@hatchery/ui';
import { useCallback, useEffect, useMemo, useState } from 'react';

import { ArchiveBrowser } from './Archive';
import { FilesClient } from './client';
import { type Confirm, ConfirmDialog, FilesContext, type FilesTools, type Notice, type View } from './context';
import { EditorPage } from './Editor';
import { FolderPage } from './Folder';
import { SearchPage } from './Search';

function viewOf(hash: string): View {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const edit = params.get('edit');
  if (edit !== null) {
    return { kind: 'edit', path: edit };
  }
  const archive = params.get('archive');
  if (archive !== null) {
    return { kind: 'archive', path: archive };
  }
  const search = params.get('search');
  if (search !== null) {
    return { kind: 'search', path: search };
  }
  return { kind: 'dir', path: params.get('dir') ?? '/' };
}

function hashOf(view: View): string {
  return `#${new URLSearchParams({ [view.kind]: view.path }).toString()}`;
}

export default function Files({ server }: SlotProps) {
  const [view, setView] = useState<View>(() => viewOf(window.location.hash));
  const [notice, setNotice] = useState<Notice | null>(null);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  // Set by the editor while it is open: whether it holds unsaved changes.
  const [unsaved, setUnsaved] = useState<(() => boolean) | null>(null);
  const client = useMemo(() => new FilesClient(server?.short_id ?? ''), [server?.short_id]);

  // Errors stay until dismissed; news of work done goes by itself.
  useEffect(() => {
    if (notice?.kind !== 'done') {
      return;
    }
    const timer = window.setTimeout(() => setNotice(null), 6000);
    return () => window.clearTimeout(timer);
  }, [notice]);

  useEffect(() => {
    const follow = () => setView(viewOf(window.location.hash));
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);

  const go = useCallback(
    (next: View) => {
      const leave = () => {
        window.location.hash = hashOf(next);
      };
      if (unsaved?.() === true) {
      setConfirm({
        title: 'Leave without saving?',
        message: 'Your changes to this file are not saved. They stay as a draft in this browser tab, offered when you open the file again.',
        action: 'Leave',
        danger: true,
        run: leave,
      });
      return;
    }
    leave();
  },
    [unsaved],
  );

  // Stable, so the editor hands its check over once, not on every change of `go`.
  const guard = useCallback((check: (() => boolean) | null) => setUnsaved(() => check), []);

  // A panel too old to say the person's permissions shows everything; it checks anyway.
  const granted = (server?.permissions ?? ['*']).join(',');
  const can = useMemo(() => {
    const held = new Set(granted.split(','));
    return (permission: string) => held.has('*') || held.has(permission);
  }, [granted]);

  const tools: FilesTools = useMemo(
    () => ({
      client,
      server: server?.short_id ?? '',
      go,
      notify: setNotice,
      ask: setConfirm,
      guard,
      can,
    }),
    [can, client, go, guard, server?.short_id],
  );

  if (server === undefined) {
    return <Alert color="red">The Files tab needs a server.</Alert>;
  }
  // Without `ui_trusted` the module runs in a sandboxed frame that cannot reach the
  // panel or the node itself; the file manager needs both.
  if (window.origin === 'null') {
    return (
      <Alert color="yellow" title="Files needs to run in the panel's page">
        An administrator grants it with <code>hatchery plugin grant core-files ui_trusted</code>.
      </Alert>
    );
  }

  return (
    <FilesContext value={tools}>
      <Stack gap="sm" data-testid="core-files">
        {notice !== null && (
          <Alert
            color={notice.kind === 'error' ? 'red' : 'teal'}
            role={notice.kind === 'error' ? 'alert' : 'status'}
            withCloseButton={false}
            py="xs"
          >
            <Text size="sm" style={{ display: 'flex', alignItems: 'center', gap: 8 }}>
              <span style={{ flex: 1 }}>{notice.message}</span>
              <CloseButton size="sm" aria-label="Dismiss" onClick={() => setNotice(null)} />
            </Text>
          </Alert>
        )}
        {view.kind === 'dir' && <FolderPage key={view.path} directory={view.path} />}
        {view.kind === 'edit' && <EditorPage key={view.path} path={view.path} />}
        {view.kind === 'archive' && <ArchiveBrowser key={view.path} path={view.path} />}
        {view.kind === 'search' && <SearchPage key={view.path} directory={view.path} />}
      </Stack>
      <ConfirmDialog confirm={confirm} close={() => setConfirm(null)} />
    </FilesContext>
  );
}
