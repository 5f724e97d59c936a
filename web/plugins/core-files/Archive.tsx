// Inside an archive without unpacking it: its folders to walk, a text entry to read,
// and chosen entries (or everything) extracted into a folder.

import { Button, Checkbox, Group, Loader, Modal, Paper, Stack, Text, UnstyledButton } from '@hatchery/ui';
import { useCallback, useMemo, useState } from 'react';

import { baseName, parent } from './client';
import { PathCrumbs, useFetched, useFiles } from './context';
import { TextDialog } from './dialogs';
import { bytes, isText } from './format';
import { itemsIn } from './tree';
import { FileIcon, FolderIcon, TextIcon } from './icons';
import { VirtualList } from './VirtualList';

export function ArchiveBrowser({ path }: { path: string }) {
  const { client, go, notify, can } = useFiles();
  const { data: entries, error: failure } = useFetched(useCallback(() => client.archive(path), [client, path]));
  const [folder, setFolder] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [viewing, setViewing] = useState<string | null>(null);
  const [extracting, setExtracting] = useState<string[] | null>(null);


  const items = useMemo(() => itemsIn(entries ?? [], folder), [entries, folder]);
  const total = entries?.reduce((sum, entry) => sum + entry.size, 0) ?? 0;
  const folderParts = folder === '' ? [] : folder.split('/');

  return (
    <Stack gap="sm">
      <Group justify="space-between" gap="xs" wrap="wrap">
        <PathCrumbs path={path} />
        <Group gap="xs">
          <Button size="xs" variant="default" onClick={() => go({ kind: 'dir', path: parent(path) })}>
            Close
          </Button>
          {can('file.archive') && (
            <>
              <Button size="xs" variant="default" disabled={selected.size === 0} onClick={() => setExtracting([...selected])}>
                Extract selected ({selected.size})
              </Button>
              <Button size="xs" disabled={entries === null} onClick={() => setExtracting([])}>
                Extract all
              </Button>
            </>
          )}
        </Group>
      </Group>
      <Group gap={4} wrap="wrap" aria-label="Inside the archive">
        <UnstyledButton onClick={() => setFolder('')}>
          <Text size="sm" c={folder === '' ? 'bright' : 'blue'} fw={folder === '' ? 600 : 400}>
            {baseName(path)}
          </Text>
        </UnstyledButton>
        {folderParts.map((part, index) => (
          <Group key={index} gap={4}>
            <Text size="sm" c="dimmed">
              /
            </Text>
            <UnstyledButton onClick={() => setFolder(folderParts.slice(0, index + 1).join('/'))}>
              <Text size="sm" c={index === folderParts.length - 1 ? 'bright' : 'blue'} fw={index === folderParts.length - 1 ? 600 : 400}>
                {part}
              </Text>
            </UnstyledButton>
          </Group>
        ))}
      </Group>
      <Paper withBorder style={{ overflow: 'hidden' }}>
        {entries === null && failure === null && (
          <Group p="md" gap="xs">
            <Loader size="sm" />
            <Text size="sm">Reading the archive…</Text>
          </Group>
        )}
        {failure !== null && (
          <Text p="md" c="red" role="alert">
            {failure}
          </Text>
        )}
        {entries !== null && items.length === 0 && (
          <Text p="md" c="dimmed">
            Nothing in here.
          </Text>
        )}
        {items.length > 0 && (
          <VirtualList
            count={items.length}
            rowHeight={38}
            height={`min(${items.length * 38 + 2}px, max(300px, calc(100vh - 360px)))`}
            label={`Inside ${baseName(path)}`}
            row={(index) => {
              const item = items[index];
              if (item === undefined) {
                return null;
              }
              return (
                <div
                  role="row"
                  data-name={item.name}
                  style={{
                    display: 'grid',
                    gridTemplateColumns: '32px minmax(0, 1fr) 90px',
                    alignItems: 'center',
                    height: '100%',
                    padding: '0 8px',
                    borderBottom: '1px solid var(--mantine-color-default-border)',
                  }}
                >
                  <Checkbox
                    size="xs"
                    aria-label={`Select ${item.name}`}
                    checked={selected.has(item.path)}
                    onChange={() =>
                      setSelected((old) => {
                        const next = new Set(old);
                        if (next.has(item.path)) {
                          next.delete(item.path);
                        } else {
                          next.add(item.path);
                        }
                        return next;
                      })
                    }
                  />
                  <UnstyledButton
                    role="gridcell"
                    style={{ display: 'flex', alignItems: 'center', gap: 8, minWidth: 0 }}
                    onClick={() => (item.directory ? setFolder(item.path) : isText(item.name, '') ? setViewing(item.path) : can('file.archive') && setExtracting([item.path]))}
                  >
                    {item.directory ? <FolderIcon /> : isText(item.name, '') ? <TextIcon /> : <FileIcon />}
                    <Text size="sm" truncate>
                      {item.name}
                    </Text>
                  </UnstyledButton>
                  <Text size="xs" c="dimmed" role="gridcell">
                    {item.directory ? '' : bytes(item.size)}
                  </Text>
                </div>
              );
            }}
          />
        )}
      </Paper>
      {entries !== null && (
        <Text size="xs" c="dimmed">
          {entries.length} entries, {bytes(total)} unpacked
        </Text>
      )}
      {viewing !== null && <EntryView archive={path} entry={viewing} close={() => setViewing(null)} />}
      {extracting !== null && (
        <TextDialog
          title={extracting.length === 0 ? 'Extract everything' : extracting.length === 1 ? `Extract ${baseName(extracting[0] ?? '')}` : `Extract ${extracting.length} entries`}
          label="Into the folder"
          description="Each entry lands there under its own name; nothing is written if the archive is refused."
          initial={parent(path)}
          action="Extract"
          check={(target) => (target.trim().startsWith('/') ? null : 'Start from the root, like /plugins.')}
          close={() => setExtracting(null)}
          submit={async (root) => {
            await client.extract(path, extracting, root);
            setSelected(new Set());
            notify({ kind: 'done', message: `Extracted into ${root}.` });
          }}
        />
      )}
    </Stack>
  );
}

function EntryView({ archive, entry, close }: { archive: string; entry: string; close: () => void }) {
  const { client } = useFiles();
  const { data: text, error: failure } = useFetched(useCallback(() => client.archiveEntry(archive, entry), [archive, client, entry]));
  return (
    <Modal opened onClose={close} title={entry} size="xl" fullScreen={window.innerWidth < 640}>
      {text === null && failure === null && <Loader size="sm" />}
      {failure !== null && <Text c="red">{failure}</Text>}
      {text !== null && (
        <pre
          data-testid="archive-entry"
          style={{ margin: 0, maxHeight: '70vh', overflow: 'auto', fontSize: 12, fontFamily: 'var(--mantine-font-family-monospace)' }}
        >
          {text}
        </pre>
      )}
    </Modal>
  );
}
