// A file in CodeMirror: Ctrl/⌘-S saves, the history of its saves sits beside it, and
// unsaved changes are guarded: leaving asks first, closing the tab asks the browser,
// and a draft kept in this tab's storage is offered back if the page goes anyway.

import { Alert, Badge, Button, Group, Loader, Paper, Stack, Text, useComputedColorScheme, useMediaQuery } from '@hatchery/ui';
import type { Text as Doc } from '@codemirror/state';
import { useCallback, useEffect, useRef, useState } from 'react';

import { FilesError, baseName, parent } from './client';
import type { EditorHandle } from './codemirror';
import { PathCrumbs, errorText, useFiles } from './context';
import { HistoryPanel } from './History';

type Loaded =
  | { state: 'loading' }
  | { state: 'ready'; text: string }
  | { state: 'binary' }
  | { state: 'failed'; message: string; missing: boolean };

interface Draft {
  text: string;
  /** The file's text the draft started from. */
  base: string;
}

function draftKey(server: string, path: string): string {
  return `core-files:draft:${server}:${path}`;
}

function readDraft(key: string): Draft | null {
  try {
    const raw = window.sessionStorage.getItem(key);
    return raw === null ? null : (JSON.parse(raw) as Draft);
  } catch {
    return null;
  }
}

function writeDraft(key: string, draft: Draft | null) {
  try {
    if (draft === null) {
      window.sessionStorage.removeItem(key);
    } else {
      window.sessionStorage.setItem(key, JSON.stringify(draft));
    }
  } catch {
    // Storage full or refused: the other guards still hold.
  }
}

export function EditorPage({ path }: { path: string }) {
  const { client, server, go, notify, guard, can } = useFiles();
  // Saving an existing file needs file.update; without it the editor only shows.
  const readOnly = !can('file.update');
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const [dirty, setDirty] = useState(false);
  const [saving, setSaving] = useState(false);
  const [savedAt, setSavedAt] = useState<Date | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [historyOpen, setHistoryOpen] = useState(true);
  const [historyVersion, setHistoryVersion] = useState(0);
  const dark = useComputedColorScheme('light') === 'dark';
  const wide = useMediaQuery('(min-width: 62em)');
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<EditorHandle | null>(null);
  const savedDoc = useRef<Doc | null>(null);
  const base = useRef('');
  const dirtyRef = useRef(false);
  const key = draftKey(server, path);

  const [version, setVersion] = useState(0);
  const load = () => {
    setLoaded({ state: 'loading' });
    setVersion((old) => old + 1);
  };

  useEffect(() => {
    let live = true;
    client.contents(path).then(
      (text) => live && setLoaded(text.includes('\0') ? { state: 'binary' } : { state: 'ready', text }),
      (error: unknown) =>
        live &&
        setLoaded({
          state: 'failed',
          message: errorText(error),
          missing: error instanceof FilesError && error.status === 404,
        }),
    );
    return () => {
      live = false;
    };
  }, [client, path, version]);

  const save = useCallback(async () => {
    const handle = editor.current;
    if (handle === null || readOnly) {
      return;
    }
    const doc = handle.doc();
    setSaving(true);
    try {
      const text = doc.toString();
      await client.write(path, text);
      savedDoc.current = doc;
      base.current = text;
      const stillDirty = !handle.doc().eq(doc);
      dirtyRef.current = stillDirty;
      setDirty(stillDirty);
      if (!stillDirty) {
        writeDraft(key, null);
      }
      setSavedAt(new Date());
      setHistoryVersion((version) => version + 1);
    } catch (error) {
      notify({ kind: 'error', message: `Not saved: ${errorText(error)}` });
    } finally {
      setSaving(false);
    }
  }, [client, key, notify, path, readOnly]);

  // The editor itself: made once the text is here, remade when it is loaded anew.
  useEffect(() => {
    if (loaded.state !== 'ready' || host.current === null) {
      return;
    }
    let live = true;
    let timer = 0;
    void import('./codemirror').then(({ createEditor }) => {
      if (!live || host.current === null) {
        return;
      }
      host.current.replaceChildren();
      base.current = loaded.text;
      const handle = createEditor(host.current, {
        text: loaded.text,
        filename: baseName(path),
        dark,
        readOnly,
        onSave: () => void save(),
        onChange: (doc) => {
          const changed = savedDoc.current === null || !doc.eq(savedDoc.current);
          dirtyRef.current = changed;
          setDirty(changed);
          window.clearTimeout(timer);
          timer = window.setTimeout(() => writeDraft(key, changed ? { text: doc.toString(), base: base.current } : null), 500);
        },
      });
      editor.current = handle;
      savedDoc.current = handle.doc();
      const kept = readDraft(key);
      setDraft(kept !== null && kept.text !== loaded.text ? kept : null);
      handle.focus();
    });
    return () => {
      live = false;
      window.clearTimeout(timer);
      if (editor.current !== null && dirtyRef.current) {
        writeDraft(key, { text: editor.current.text(), base: base.current });
      }
      editor.current?.destroy();
      editor.current = null;
    };
    // The theme follows below without remaking the editor.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [loaded, key, path, readOnly, save]);

  useEffect(() => {
    editor.current?.setDark(dark);
  }, [dark]);

  // Leaving the Files tab's views asks first; closing or reloading the page asks the browser.
  useEffect(() => {
    guard(() => dirtyRef.current);
    const beforeUnload = (event: BeforeUnloadEvent) => {
      if (dirtyRef.current) {
        event.preventDefault();
      }
    };
    window.addEventListener('beforeunload', beforeUnload);
    return () => {
      guard(null);
      window.removeEventListener('beforeunload', beforeUnload);
    };
  }, [guard]);

  const status = saving ? 'Saving…' : dirty ? 'Unsaved changes' : savedAt !== null ? `Saved at ${savedAt.toLocaleTimeString()}` : 'No changes';

  return (
    <Stack gap="sm">
      <Group justify="space-between" gap="xs" wrap="wrap">
        <PathCrumbs path={path} />
        <Group gap="xs" wrap="wrap">
          <Badge variant="light" color={dirty ? 'yellow' : 'gray'} data-testid="editor-status">
            {readOnly ? 'Read only' : status}
          </Badge>
          <Button size="xs" variant="default" onClick={() => setHistoryOpen((open) => !open)} aria-pressed={historyOpen}>
            History
          </Button>
          <Button size="xs" variant="default" onClick={() => go({ kind: 'dir', path: parent(path) })}>
            Close
          </Button>
          {!readOnly && (
            <Button size="xs" onClick={() => void save()} loading={saving} disabled={loaded.state !== 'ready'} title="Ctrl+S / ⌘S">
              Save
            </Button>
          )}
        </Group>
      </Group>

      {draft !== null && (
        <Alert color="yellow" title="Unsaved changes from before" data-testid="draft-notice">
          <Text size="sm">
            This tab kept changes to {baseName(path)} that were never saved
            {draft.base !== (loaded.state === 'ready' ? loaded.text : draft.base) ? ', and the file has changed since' : ''}.
          </Text>
          <Group gap="xs" mt="xs">
            <Button
              size="compact-sm"
              onClick={() => {
                editor.current?.replace(draft.text);
                setDraft(null);
              }}
            >
              Restore them
            </Button>
            <Button
              size="compact-sm"
              variant="default"
              onClick={() => {
                writeDraft(key, null);
                setDraft(null);
              }}
            >
              Discard
            </Button>
          </Group>
        </Alert>
      )}

      <div style={{ display: 'flex', flexDirection: wide === true ? 'row' : 'column', gap: 12, alignItems: 'stretch' }}>
        <Paper withBorder style={{ flex: 1, minWidth: 0, overflow: 'hidden' }}>
          {loaded.state === 'loading' && (
            <Group p="md" gap="xs">
              <Loader size="sm" />
              <Text size="sm">Opening {baseName(path)}…</Text>
            </Group>
          )}
          {loaded.state === 'binary' && (
            <Text p="md" size="sm">
              {baseName(path)} is not text, so it cannot be edited here. Use Download from the folder's list.
            </Text>
          )}
          {loaded.state === 'failed' && (
            <Stack p="md" gap="xs">
              <Text size="sm" c="red" role="alert">
                {loaded.missing ? `${path} does not exist (any more).` : loaded.message}
              </Text>
              <Group gap="xs">
                <Button
                  size="compact-sm"
                  variant="default"
                  onClick={load}
                >
                  Try again
                </Button>
              </Group>
            </Stack>
          )}
          <div
            ref={host}
            data-testid="editor"
            style={{
              height: 'max(360px, calc(100vh - 330px))',
              display: loaded.state === 'ready' ? 'block' : 'none',
            }}
          />
        </Paper>
        {historyOpen && (
          <HistoryPanel
            path={path}
            version={historyVersion}
            wide={wide === true}
            restored={() => {
              dirtyRef.current = false;
              setDirty(false);
              writeDraft(key, null);
              setHistoryVersion((version) => version + 1);
              load();
            }}
          />
        )}
      </div>
    </Stack>
  );
}
