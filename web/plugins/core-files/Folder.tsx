// A folder: its entries in a virtualised list (every one of them, however many), with
// breadcrumbs, a filter, multi-select (click, Ctrl/⌘-click, Shift-click, keyboard),
// a context menu (right-click or the ⋯ button), and uploads dropped anywhere on it.

import {
  ActionIcon,
  Box,
  Button,
  Checkbox,
  Group,
  Menu,
  Paper,
  Progress,
  Skeleton,
  Stack,
  Text,
  TextInput,
  Tooltip,
  UnstyledButton,
  useMediaQuery,
} from '@hatchery/ui';
import { type DragEvent, type KeyboardEvent, type MouseEvent, useCallback, useMemo, useRef, useState } from 'react';

import { type FileEntry, isArchive, join, parent, upload } from './client';
import { PathCrumbs, errorText, useAction, useFetched, useFiles } from './context';
import { ChecksumDialog, ChmodDialog, PullDialog, TextDialog } from './dialogs';
import { MAX_FILES, type Picked, droppedFiles, pickedFiles } from './dropped';
import { EDITABLE_BYTES, ago, bytes, isText, nameProblem } from './format';
import { ArchiveIcon, FileIcon, FolderIcon, LinkIcon, MoreIcon, RefreshIcon, SearchIcon, TextIcon, UploadIcon } from './icons';
import { VirtualList } from './VirtualList';

const ROW = 40;
/** Uploads running at once; the rest wait their turn. */
const PARALLEL_UPLOADS = 3;

type Dialog =
  | { kind: 'new-file' | 'new-folder' | 'pull' }
  | { kind: 'rename' | 'copy' | 'checksum'; entry: FileEntry }
  | { kind: 'move' | 'chmod'; entries: FileEntry[] };

interface Upload {
  id: number;
  name: string;
  size: number;
  sent: number;
  state: 'waiting' | 'sending' | 'done' | 'failed';
  error?: string;
  abort?: () => void;
}

type SortKey = 'name' | 'size' | 'modified';

function sortEntries(entries: FileEntry[], key: SortKey, descending: boolean): FileEntry[] {
  const sign = descending ? -1 : 1;
  return [...entries].sort((a, b) => {
    if (a.is_file !== b.is_file) {
      return a.is_file ? 1 : -1;
    }
    const order =
      key === 'size'
        ? a.size - b.size
        : key === 'modified'
          ? a.modified_at.localeCompare(b.modified_at)
          : a.name.localeCompare(b.name, undefined, { numeric: true });
    return order * sign;
  });
}

/** A file the editor opens: text, and small enough to edit in a browser tab. */
function editable(entry: FileEntry): boolean {
  return entry.is_file && isText(entry.name, entry.mimetype) && entry.size <= EDITABLE_BYTES;
}

function EntryIcon({ entry }: { entry: FileEntry }) {
  if (entry.is_symlink) {
    return <LinkIcon />;
  }
  if (!entry.is_file) {
    return <FolderIcon />;
  }
  if (isArchive(entry.name)) {
    return <ArchiveIcon />;
  }
  return isText(entry.name, entry.mimetype) ? <TextIcon /> : <FileIcon />;
}

export function FolderPage({ directory }: { directory: string }) {
  const { client, go, notify, ask, can } = useFiles();
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'name', descending: false });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [anchor, setAnchor] = useState(-1);
  const [cursor, setCursor] = useState(-1);
  const [menu, setMenu] = useState<{ x: number; y: number; entry: FileEntry } | null>(null);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dropping, setDropping] = useState(false);
  const [busy, act] = useAction();
  const wide = useMediaQuery('(min-width: 48em)');
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((old) => old + 1), []);
  const listing = useFetched(
    useCallback(() => client.list(directory), [client, directory]),
    version,
  );
  const entries = listing.data;
  const loadError = listing.error;

  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const kept = needle === '' ? (entries ?? []) : (entries ?? []).filter((entry) => entry.name.toLowerCase().includes(needle));
    return sortEntries(kept, sort.key, sort.descending);
  }, [entries, filter, sort]);

  const chosen = shown.filter((entry) => selected.has(entry.name));

  const open = (entry: FileEntry) => {
    const path = join(directory, entry.name);
    if (!entry.is_file) {
      go({ kind: 'dir', path });
    } else if (!can('file.read-content')) {
      notify({ kind: 'error', message: `You may see ${entry.name} here but not open it.` });
    } else if (isArchive(entry.name)) {
      go({ kind: 'archive', path });
    } else if (editable(entry)) {
      go({ kind: 'edit', path });
    } else {
      void download(entry);
    }
  };

  const download = async (entry: FileEntry) => {
    await act(async () => {
      const url = await client.downloadUrl(join(directory, entry.name));
      const link = document.createElement('a');
      link.href = url;
      link.rel = 'noopener';
      link.download = entry.name;
      document.body.append(link);
      link.click();
      link.remove();
    });
  };

  const click = (event: MouseEvent, index: number, entry: FileEntry) => {
    if (event.shiftKey && anchor >= 0) {
      const [from, to] = anchor < index ? [anchor, index] : [index, anchor];
      setSelected(new Set(shown.slice(from, to + 1).map((item) => item.name)));
    } else if (event.ctrlKey || event.metaKey) {
      toggle(entry.name);
      setAnchor(index);
    } else {
      open(entry);
    }
    setCursor(index);
  };

  const toggle = (name: string) => {
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(name)) {
        next.delete(name);
      } else {
        next.add(name);
      }
      return next;
    });
  };

  const remove = (targets: FileEntry[]) => {
    ask({
      title: targets.length === 1 ? `Delete ${targets[0]?.name}?` : `Delete ${targets.length} items?`,
      message:
        targets.some((entry) => !entry.is_file)
          ? 'Folders are deleted with everything in them. This cannot be undone.'
          : 'This cannot be undone; a text file keeps its edit history.',
      action: 'Delete',
      danger: true,
      run: async () => {
        if (await act(() => client.remove(directory, targets.map((entry) => entry.name)), `Deleted ${targets.length === 1 ? targets[0]?.name : `${targets.length} items`}.`)) {
          setSelected(new Set());
          reload();
        }
      },
    });
  };

  const compress = async (targets: FileEntry[]) => {
    let made: FileEntry | null = null;
    if (
      await act(async () => {
        made = await client.compress(directory, targets.map((entry) => entry.name));
      })
    ) {
      notify({ kind: 'done', message: `Packed into ${(made as FileEntry | null)?.name ?? 'a new archive'}.` });
      setSelected(new Set());
      reload();
    }
  };

  const keyboard = (event: KeyboardEvent<HTMLDivElement>) => {
    if (shown.length === 0) {
      return;
    }
    const current = shown[cursor];
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const next = Math.max(0, Math.min(shown.length - 1, cursor + (event.key === 'ArrowDown' ? 1 : -1)));
      setCursor(next);
      if (event.shiftKey && current !== undefined) {
        setSelected((old) => new Set(old).add(current.name).add(shown[next]?.name ?? ''));
      }
    } else if (event.key === 'Enter' && current !== undefined) {
      open(current);
    } else if (event.key === ' ' && current !== undefined) {
      event.preventDefault();
      toggle(current.name);
    } else if (event.key === 'a' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      setSelected(new Set(shown.map((entry) => entry.name)));
    } else if (event.key === 'Escape') {
      setSelected(new Set());
    } else if (event.key === 'Delete' && chosen.length > 0) {
      remove(chosen);
    } else if (event.key === 'Backspace' && directory !== '/') {
      go({ kind: 'dir', path: parent(directory) });
    }
  };

  // Uploads go to the node directly, a few at a time, each with its own one-use URL
  // for the folder it lands in (the node makes missing folders).
  const nextUpload = useRef(0);
  const queue = useRef<{ id: number; picked: Picked }[]>([]);
  const running = useRef(0);
  const pump = () => {
    while (running.current < PARALLEL_UPLOADS && queue.current.length > 0) {
      const job = queue.current.shift();
      if (job === undefined) {
        break;
      }
      running.current += 1;
      const update = (change: Partial<Upload>) =>
        setUploads((old) => old.map((item) => (item.id === job.id ? { ...item, ...change } : item)));
      void (async () => {
        try {
          const url = await client.uploadUrl(job.picked.folder === '' ? directory : join(directory, job.picked.folder));
          const sending = upload(url, job.picked.file, (sent) => update({ sent }));
          update({ state: 'sending', abort: sending.abort });
          await sending.done;
          update({ state: 'done', sent: job.picked.file.size });
          if (queue.current.length === 0) {
            reload();
          }
        } catch (error) {
          update({ state: 'failed', error: errorText(error) });
        } finally {
          running.current -= 1;
          pump();
        }
      })();
    }
  };

  const startUploads = (picked: Picked[]) => {
    if (picked.length > MAX_FILES) {
      notify({ kind: 'error', message: `That is more than ${MAX_FILES} files: pack them into a .zip, upload it, and extract it here.` });
      return;
    }
    const added = picked.map((one) => ({ id: ++nextUpload.current, picked: one }));
    setUploads((old) => [
      ...old.filter((item) => item.state !== 'done'),
      ...added.map(({ id, picked: one }) => ({
        id,
        name: one.folder === '' ? one.file.name : `${one.folder}/${one.file.name}`,
        size: one.file.size,
        sent: 0,
        state: 'waiting' as const,
      })),
    ]);
    queue.current.push(...added);
    pump();
  };

  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDropping(false);
    if (!can('file.create')) {
      notify({ kind: 'error', message: 'You may not upload files to this server.' });
      return;
    }
    void (async () => {
      try {
        const { files, empty } = await droppedFiles(event.dataTransfer);
        for (const folder of empty) {
          await client.createFolder(directory, folder);
        }
        if (empty.length > 0 && files.length === 0) {
          reload();
        }
        startUploads(files);
      } catch (error) {
        notify({ kind: 'error', message: `The dropped files could not be read: ${errorText(error)}` });
      }
    })();
  };

  const picker = useRef<HTMLInputElement>(null);
  const folderPicker = useRef<HTMLInputElement>(null);
  // The context menu acts on the selection when opened on one of it, else on its row.
  const single = menu?.entry;
  const menuTargets = single !== undefined && selected.has(single.name) && chosen.length > 1 ? chosen : single === undefined ? [] : [single];
  const lone = menuTargets.length === 1 ? (menuTargets[0] ?? null) : null;

  return (
    <Stack
      gap="sm"
      onDragOver={(event) => {
        if (event.dataTransfer.types.includes('Files')) {
          event.preventDefault();
          setDropping(true);
        }
      }}
      onDragLeave={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) {
          setDropping(false);
        }
      }}
      onDrop={drop}
      style={{ position: 'relative' }}
    >
      <Group justify="space-between" gap="xs" wrap="wrap">
        <PathCrumbs path={directory} />
        <Group gap="xs" wrap="wrap">
          <Button size="xs" variant="default" leftSection={<SearchIcon />} onClick={() => go({ kind: 'search', path: directory })}>
            Search
          </Button>
          {can('file.create') && (
            <>
              <Button size="xs" variant="default" onClick={() => setDialog({ kind: 'new-folder' })}>
                New folder
              </Button>
              <Button size="xs" variant="default" onClick={() => setDialog({ kind: 'new-file' })}>
                New file
              </Button>
              <Button size="xs" variant="default" onClick={() => setDialog({ kind: 'pull' })}>
                From URL
              </Button>
              <Button size="xs" variant="default" onClick={() => folderPicker.current?.click()}>
                Upload folder
              </Button>
              <Button size="xs" leftSection={<UploadIcon />} onClick={() => picker.current?.click()}>
                Upload
              </Button>
            </>
          )}
          <input
            ref={picker}
            type="file"
            multiple
            hidden
            data-testid="upload-input"
            onChange={(event) => {
              startUploads(pickedFiles(event.currentTarget.files));
              event.currentTarget.value = '';
            }}
          />
          <input
            ref={folderPicker}
            type="file"
            hidden
            data-testid="upload-folder-input"
            {...{ webkitdirectory: '' }}
            onChange={(event) => {
              startUploads(pickedFiles(event.currentTarget.files));
              event.currentTarget.value = '';
            }}
          />
        </Group>
      </Group>

      <Group gap="xs" wrap="nowrap">
        <TextInput
          size="xs"
          placeholder="Filter this folder"
          aria-label="Filter this folder"
          value={filter}
          onChange={(event) => setFilter(event.currentTarget.value)}
          style={{ flex: 1 }}
        />
        <Tooltip label="Refresh">
          <ActionIcon variant="default" aria-label="Refresh" onClick={() => reload()}>
            <RefreshIcon />
          </ActionIcon>
        </Tooltip>
      </Group>

      {uploads.length > 0 && (
        <Paper withBorder p="xs" data-testid="uploads">
          <Stack gap={6}>
            {uploads.map((item) => (
              <div key={item.id}>
                <Group justify="space-between" gap="xs" wrap="nowrap">
                  <Text size="xs" truncate style={{ minWidth: 0 }}>
                    {item.name}
                  </Text>
                  <Group gap={6} wrap="nowrap">
                    <Text size="xs" c={item.state === 'failed' ? 'red' : 'dimmed'}>
                      {item.state === 'failed'
                        ? item.error
                        : item.state === 'done'
                          ? `Uploaded, ${bytes(item.size)}`
                          : item.state === 'waiting'
                            ? 'Waiting'
                            : `${bytes(item.sent)} of ${bytes(item.size)}`}
                    </Text>
                    {(item.state === 'sending' || item.state === 'waiting') && (
                      <UnstyledButton
                        aria-label={`Cancel the upload of ${item.name}`}
                        onClick={() => {
                          queue.current = queue.current.filter((job) => job.id !== item.id);
                          if (item.abort === undefined) {
                            setUploads((old) => old.filter((other) => other.id !== item.id));
                          } else {
                            item.abort();
                          }
                        }}
                      >
                        <Text size="xs" c="red">
                          Cancel
                        </Text>
                      </UnstyledButton>
                    )}
                  </Group>
                </Group>
                <Progress
                  size="sm"
                  value={item.size === 0 ? 100 : (100 * item.sent) / item.size}
                  color={item.state === 'failed' ? 'red' : item.state === 'done' ? 'teal' : 'blue'}
                  aria-label={`Upload of ${item.name}`}
                />
              </div>
            ))}
            {uploads.every((item) => item.state === 'done' || item.state === 'failed') && (
              <Group justify="flex-end">
                <Button size="compact-xs" variant="subtle" onClick={() => setUploads([])}>
                  Clear
                </Button>
              </Group>
            )}
          </Stack>
        </Paper>
      )}

      {chosen.length > 0 && (
        <Paper withBorder p="xs" data-testid="selection-bar">
          <Group justify="space-between" gap="xs">
            <Text size="sm">{chosen.length === 1 ? '1 selected' : `${chosen.length} selected`}</Text>
            <Group gap="xs">
              {can('file.update') && (
                <>
                  <Button size="compact-sm" variant="default" onClick={() => setDialog({ kind: 'move', entries: chosen })}>
                    Move
                  </Button>
                  <Button size="compact-sm" variant="default" onClick={() => setDialog({ kind: 'chmod', entries: chosen })}>
                    Permissions
                  </Button>
                </>
              )}
              {can('file.archive') && (
                <Button size="compact-sm" variant="default" loading={busy} onClick={() => void compress(chosen)}>
                  Compress
                </Button>
              )}
              {can('file.delete') && (
                <Button size="compact-sm" color="red" variant="light" onClick={() => remove(chosen)}>
                  Delete
                </Button>
              )}
              <Button size="compact-sm" variant="subtle" onClick={() => setSelected(new Set())}>
                Clear
              </Button>
            </Group>
          </Group>
        </Paper>
      )}

      <Paper withBorder style={{ overflow: 'hidden', position: 'relative' }}>
        <Header
          wide={wide === true}
          sort={sort}
          setSort={setSort}
          all={shown.length > 0 && chosen.length === shown.length}
          some={chosen.length > 0}
          selectAll={(on) => setSelected(on ? new Set(shown.map((entry) => entry.name)) : new Set())}
        />
        {entries === null && loadError === null ? (
          <Stack gap={6} p="sm" aria-label="Loading the folder">
            {[0, 1, 2, 3, 4].map((line) => (
              <Skeleton key={line} height={24} />
            ))}
          </Stack>
        ) : loadError !== null ? (
          <Text c="red" p="md" role="alert">
            {loadError}
          </Text>
        ) : shown.length === 0 ? (
          <Stack align="center" gap={4} py="xl" px="md">
            <Text fw={500}>{filter === '' ? 'This folder is empty' : 'Nothing here matches the filter'}</Text>
            <Text size="sm" c="dimmed" ta="center">
              {filter === '' ? 'Drop files or folders here, or use Upload, New file or New folder.' : 'Clear the filter to see everything.'}
            </Text>
          </Stack>
        ) : (
          <VirtualList
            count={shown.length}
            rowHeight={ROW}
            height={`min(${shown.length * ROW + 2}px, max(320px, calc(100vh - 340px)))`}
            label={`Files in ${directory}`}
            onKeyDown={keyboard}
            focusIndex={cursor}
            row={(index) => {
              const entry = shown[index];
              return entry === undefined ? null : (
                <Row
                  entry={entry}
                  index={index}
                  wide={wide === true}
                  selected={selected.has(entry.name)}
                  focused={cursor === index}
                  toggle={() => {
                    toggle(entry.name);
                    setAnchor(index);
                  }}
                  click={(event) => click(event, index, entry)}
                  menu={(x, y) => setMenu({ x, y, entry })}
                />
              );
            }}
          />
        )}
        {dropping && (
          <Box
            style={{
              position: 'absolute',
              inset: 0,
              display: 'flex',
              alignItems: 'center',
              justifyContent: 'center',
              background: 'color-mix(in srgb, var(--mantine-color-blue-filled) 14%, transparent)',
              border: '2px dashed var(--mantine-color-blue-filled)',
              pointerEvents: 'none',
            }}
          >
            <Text fw={600}>Drop to upload into {directory}</Text>
          </Box>
        )}
      </Paper>
      {entries !== null && entries.length > 0 && (
        <Text size="xs" c="dimmed">
          {shown.length === entries.length ? `${entries.length} items` : `${shown.length} of ${entries.length} items`}
        </Text>
      )}

      <Menu opened={menu !== null} onChange={(opened) => !opened && setMenu(null)} position="bottom-start" withinPortal shadow="md">
        <Menu.Target>
          <div style={{ position: 'fixed', left: menu?.x ?? 0, top: menu?.y ?? 0, width: 1, height: 1, pointerEvents: 'none' }} />
        </Menu.Target>
        <Menu.Dropdown>
          {menuTargets.length > 0 && <Menu.Label>{lone === null ? `${menuTargets.length} selected` : lone.name}</Menu.Label>}
          {lone !== null && (
            <>
              {(!lone.is_file || can('file.read-content')) && (
                <Menu.Item onClick={() => open(lone)}>{lone.is_file ? (isArchive(lone.name) ? 'Browse' : editable(lone) ? 'Edit' : 'Download') : 'Open'}</Menu.Item>
              )}
              {lone.is_file && isArchive(lone.name) && can('file.archive') && (
                <Menu.Item onClick={() => void act(() => client.decompress(directory, lone.name), `Extracted ${lone.name}.`).then(reload)}>
                  Extract here
                </Menu.Item>
              )}
              {lone.is_file && (isArchive(lone.name) || editable(lone)) && can('file.read-content') && (
                <Menu.Item onClick={() => void download(lone)}>Download</Menu.Item>
              )}
              {can('file.update') && <Menu.Item onClick={() => setDialog({ kind: 'rename', entry: lone })}>Rename</Menu.Item>}
              {lone.is_file && can('file.create') && (
                <Menu.Item onClick={() => void act(() => client.copy(join(directory, lone.name)), `Copied ${lone.name}.`).then(reload)}>Copy</Menu.Item>
              )}
              {lone.is_file && can('file.read-content') && (
                <Menu.Item onClick={() => setDialog({ kind: 'checksum', entry: lone })}>Checksums</Menu.Item>
              )}
            </>
          )}
          {can('file.update') && (
            <>
              <Menu.Item onClick={() => setDialog({ kind: 'move', entries: menuTargets })}>Move</Menu.Item>
              <Menu.Item onClick={() => setDialog({ kind: 'chmod', entries: menuTargets })}>Permissions</Menu.Item>
            </>
          )}
          {can('file.archive') && <Menu.Item onClick={() => void compress(menuTargets)}>Compress</Menu.Item>}
          {can('file.delete') && (
            <>
              <Menu.Divider />
              <Menu.Item color="red" onClick={() => remove(menuTargets)}>
                Delete
              </Menu.Item>
            </>
          )}
        </Menu.Dropdown>
      </Menu>

      {dialog?.kind === 'new-folder' && (
        <TextDialog
          title="New folder"
          label="Name"
          initial=""
          action="Create"
          check={nameProblem}
          close={() => setDialog(null)}
          submit={async (name) => {
            await client.createFolder(directory, name);
            reload();
          }}
        />
      )}
      {dialog?.kind === 'new-file' && (
        <TextDialog
          title="New file"
          label="Name"
          initial=""
          action="Create and edit"
          description="An empty file, opened in the editor."
          check={nameProblem}
          close={() => setDialog(null)}
          submit={async (name) => {
            const path = join(directory, name);
            if (entries?.some((entry) => entry.name === name) === true) {
              throw new Error(`${name} exists already.`);
            }
            await client.write(path, '');
            go({ kind: 'edit', path });
          }}
        />
      )}
      {dialog?.kind === 'pull' && (
        <PullDialog
          directory={directory}
          close={() => setDialog(null)}
          pulled={() => {
            notify({ kind: 'done', message: 'The node is downloading it; refresh in a moment to see it.' });
            window.setTimeout(() => reload(), 3000);
          }}
        />
      )}
      {dialog?.kind === 'rename' && (
        <TextDialog
          title={`Rename ${dialog.entry.name}`}
          label="New name"
          initial={dialog.entry.name}
          action="Rename"
          check={(name) => nameProblem(name) ?? (name.includes('/') ? 'A name holds no /: use Move to put it in another folder.' : null)}
          close={() => setDialog(null)}
          submit={async (name) => {
            await client.rename(directory, [{ from: dialog.entry.name, to: name }]);
            setSelected(new Set());
            reload();
          }}
        />
      )}
      {dialog?.kind === 'move' && (
        <TextDialog
          title={dialog.entries.length === 1 ? `Move ${dialog.entries[0]?.name}` : `Move ${dialog.entries.length} items`}
          label="Into the folder"
          description="A path from the server's root; missing folders are made."
          initial={directory}
          action="Move"
          check={(target) => (target.trim().startsWith('/') ? null : 'Start from the root: /plugins, /world/backups …')}
          close={() => setDialog(null)}
          submit={async (target) => {
            const into = target.replace(/\/+$/, '') || '/';
            await client.rename(
              '/',
              dialog.entries.map((entry) => ({ from: join(directory, entry.name).slice(1), to: join(into, entry.name).slice(1) })),
            );
            notify({ kind: 'done', message: `Moved into ${into}.` });
            setSelected(new Set());
            reload();
          }}
        />
      )}
      {dialog?.kind === 'chmod' && (
        <ChmodDialog
          names={dialog.entries.map((entry) => entry.name)}
          initial={dialog.entries[0]?.mode_bits ?? '644'}
          close={() => setDialog(null)}
          submit={async (mode) => {
            await client.chmod(
              directory,
              dialog.entries.map((entry) => ({ file: entry.name, mode })),
            );
            reload();
          }}
        />
      )}
      {dialog?.kind === 'checksum' && <ChecksumDialog path={join(directory, dialog.entry.name)} close={() => setDialog(null)} />}
    </Stack>
  );
}

const COLUMNS_WIDE = '36px minmax(0, 1fr) 90px 150px 100px 40px';
const COLUMNS_NARROW = '36px minmax(0, 1fr) 80px 40px';

function Header({
  wide,
  sort,
  setSort,
  all,
  some,
  selectAll,
}: {
  wide: boolean;
  sort: { key: SortKey; descending: boolean };
  setSort: (sort: { key: SortKey; descending: boolean }) => void;
  all: boolean;
  some: boolean;
  selectAll: (on: boolean) => void;
}) {
  const column = (key: SortKey, label: string) => (
    <UnstyledButton
      onClick={() => setSort({ key, descending: sort.key === key ? !sort.descending : false })}
      aria-label={`Sort by ${label.toLowerCase()}`}
    >
      <Text size="xs" fw={600} c="dimmed">
        {label}
        {sort.key === key ? (sort.descending ? ' ↓' : ' ↑') : ''}
      </Text>
    </UnstyledButton>
  );
  return (
    <div
      style={{
        display: 'grid',
        gridTemplateColumns: wide ? COLUMNS_WIDE : COLUMNS_NARROW,
        alignItems: 'center',
        height: 36,
        padding: '0 8px',
        borderBottom: '1px solid var(--mantine-color-default-border)',
      }}
    >
      <Checkbox size="xs" aria-label="Select everything shown" checked={all} indeterminate={some && !all} onChange={(event) => selectAll(event.currentTarget.checked)} />
      {column('name', 'Name')}
      {wide ? column('size', 'Size') : null}
      {column('modified', 'Modified')}
      {wide ? (
        <Text size="xs" fw={600} c="dimmed">
          Mode
        </Text>
      ) : null}
      <span />
    </div>
  );
}

function Row({
  entry,
  index,
  wide,
  selected,
  focused,
  toggle,
  click,
  menu,
}: {
  entry: FileEntry;
  index: number;
  wide: boolean;
  selected: boolean;
  focused: boolean;
  toggle: () => void;
  click: (event: MouseEvent) => void;
  menu: (x: number, y: number) => void;
}) {
  const modified = new Date(entry.modified_at);
  return (
    <div
      role="row"
      aria-rowindex={index + 1}
      aria-selected={selected}
      data-name={entry.name}
      onContextMenu={(event) => {
        event.preventDefault();
        menu(event.clientX, event.clientY);
      }}
      style={{
        display: 'grid',
        gridTemplateColumns: wide ? COLUMNS_WIDE : COLUMNS_NARROW,
        alignItems: 'center',
        height: '100%',
        padding: '0 8px',
        borderBottom: '1px solid var(--mantine-color-default-border)',
        background: selected
          ? 'var(--mantine-primary-color-light)'
          : focused
            ? 'var(--mantine-color-default-hover)'
            : undefined,
      }}
    >
      <span role="gridcell">
        <Checkbox size="xs" aria-label={`Select ${entry.name}`} checked={selected} onChange={toggle} />
      </span>
      <UnstyledButton
        role="gridcell"
        onClick={click}
        title={entry.name}
        style={{ display: 'flex', alignItems: 'center', gap: 8, minWidth: 0, height: '100%' }}
      >
        <EntryIcon entry={entry} />
        <Text size="sm" truncate>
          {entry.name}
        </Text>
      </UnstyledButton>
      {wide && (
        <Text role="gridcell" size="xs" c="dimmed">
          {entry.is_file ? bytes(entry.size) : ''}
        </Text>
      )}
      <Text role="gridcell" size="xs" c="dimmed" title={modified.toLocaleString()} truncate>
        {ago(modified)}
      </Text>
      {wide && (
        <Text role="gridcell" size="xs" c="dimmed" ff="monospace">
          {entry.mode}
        </Text>
      )}
      <ActionIcon
        variant="subtle"
        color="gray"
        aria-label={`Actions for ${entry.name}`}
        onClick={(event) => {
          const box = event.currentTarget.getBoundingClientRect();
          menu(box.left, box.bottom);
        }}
      >
        <MoreIcon />
      </ActionIcon>
    </div>
  );
}

