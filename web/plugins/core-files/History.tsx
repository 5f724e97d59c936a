// A file's saves, newest first — who, when, how, how big — each with what it changed,
// a comparison with the file as it is now, and restore (which is a save too).

import { Badge, Button, Group, Loader, Modal, Paper, ScrollArea, Stack, Text } from '@hatchery/ui';
import { useCallback, useState } from 'react';

import type { Revision } from './client';
import { errorText, useFetched, useFiles } from './context';
import { ago, bytes } from './format';

const HOW: Record<string, string> = {
  web: 'web editor',
  api: 'API',
  sftp: 'SFTP',
  upload: 'upload',
  pull: 'download',
  restore: 'restore',
  original: 'before the first save here',
};

function how(via: string): string {
  return HOW[via] ?? via.replace(/^plugin:/, 'plugin ');
}

export function HistoryPanel({
  path,
  version,
  wide,
  restored,
}: {
  path: string;
  /** Bumped after each save, so the list follows. */
  version: number;
  wide: boolean;
  restored: () => void;
}) {
  const { client, ask, notify, can } = useFiles();
  const history = useFetched(
    useCallback(() => client.history(path), [client, path]),
    version,
  );
  const revisions = history.data;
  const failure = history.error;
  const [diff, setDiff] = useState<{ title: string; from: number; to: number | 'current' } | null>(null);

  const restore = (revision: Revision) =>
    ask({
      title: `Restore revision ${revision.revision}?`,
      message: `The file gets back its ${bytes(revision.size)} from ${new Date(revision.created_at).toLocaleString()}. What it holds now stays in the history, and changes not saved in the editor are dropped.`,
      action: 'Restore',
      run: async () => {
        try {
          await client.restore(path, revision.revision);
          notify({ kind: 'done', message: `Restored revision ${revision.revision}.` });
          restored();
        } catch (error) {
          notify({ kind: 'error', message: errorText(error) });
        }
      },
    });

  return (
    <Paper withBorder p="xs" style={{ width: wide ? 320 : undefined, flex: 'none' }} aria-label="History" role="region">
      <Text fw={600} size="sm" mb={6}>
        History
      </Text>
      {revisions === null && failure === null && <Loader size="sm" aria-label="Loading the history" />}
      {failure !== null && (
        <Text size="sm" c="red">
          {failure}
        </Text>
      )}
      {revisions !== null && revisions.length === 0 && (
        <Text size="sm" c="dimmed">
          No saves kept yet. Every save from here, the API or SFTP becomes a revision you can compare and restore.
        </Text>
      )}
      {revisions !== null && revisions.length > 0 && (
        <ScrollArea.Autosize mah={wide ? 'calc(100vh - 360px)' : 320} type="auto">
          <Stack gap={6}>
            {revisions.map((revision, index) => {
              const older = revisions[index + 1];
              return (
                <div
                  key={revision.revision}
                  data-testid="revision"
                  style={{ borderBottom: '1px solid var(--mantine-color-default-border)', paddingBottom: 6 }}
                >
                  <Group justify="space-between" gap={4} wrap="nowrap">
                    <Text size="sm" fw={500}>
                      #{revision.revision} · {revision.username ?? 'someone'}
                    </Text>
                    <Badge size="xs" variant="light" color={revision.via === 'sftp' ? 'grape' : revision.via === 'restore' ? 'orange' : 'blue'}>
                      {how(revision.via)}
                    </Badge>
                  </Group>
                  <Text size="xs" c="dimmed" title={new Date(revision.created_at).toLocaleString()}>
                    {ago(new Date(revision.created_at))} · {bytes(revision.size)}
                    {revision.restored_from !== null ? ` · from #${revision.restored_from}` : ''}
                  </Text>
                  <Group gap={4} mt={4}>
                    {older !== undefined && (
                      <Button
                        size="compact-xs"
                        variant="subtle"
                        onClick={() => setDiff({ title: `Changes in revision ${revision.revision}`, from: older.revision, to: revision.revision })}
                      >
                        Changes
                      </Button>
                    )}
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      onClick={() => setDiff({ title: `Revision ${revision.revision} → the file now`, from: revision.revision, to: 'current' })}
                    >
                      Compare with now
                    </Button>
                    {index > 0 && can('file.update') && (
                      <Button size="compact-xs" variant="subtle" color="orange" onClick={() => restore(revision)}>
                        Restore
                      </Button>
                    )}
                  </Group>
                </div>
              );
            })}
          </Stack>
        </ScrollArea.Autosize>
      )}
      {diff !== null && <DiffDialog path={path} {...diff} close={() => setDiff(null)} />}
    </Paper>
  );
}

const TINT = {
  added: 'color-mix(in srgb, var(--mantine-color-green-filled) 16%, transparent)',
  removed: 'color-mix(in srgb, var(--mantine-color-red-filled) 16%, transparent)',
  context: undefined,
};

function DiffDialog({ path, title, from, to, close }: { path: string; title: string; from: number; to: number | 'current'; close: () => void }) {
  const { client } = useFiles();
  const { data: diff, error: failure } = useFetched(useCallback(() => client.diff(path, from, to), [client, path, from, to]));
  return (
    <Modal opened onClose={close} title={title} size="xl" fullScreen={window.innerWidth < 640}>
      {diff === null && failure === null && <Loader size="sm" aria-label="Loading the changes" />}
      {failure !== null && <Text c="red">{failure}</Text>}
      {diff !== null && (
        <Stack gap="xs" data-testid="diff">
          <Text size="sm">
            <Text span c="green" fw={600}>
              +{diff.added}
            </Text>{' '}
            <Text span c="red" fw={600}>
              −{diff.removed}
            </Text>{' '}
            lines
          </Text>
          {diff.hunks.length === 0 && <Text size="sm">No differences.</Text>}
          {diff.hunks.map((hunk) => {
            let oldLine = hunk.old_start;
            let newLine = hunk.new_start;
            return (
              <Paper key={`${hunk.old_start}:${hunk.new_start}`} withBorder style={{ overflowX: 'auto' }}>
                <Text size="xs" c="dimmed" px="xs" py={2} ff="monospace">
                  @@ −{hunk.old_start},{hunk.old_lines} +{hunk.new_start},{hunk.new_lines} @@
                </Text>
                <table style={{ borderCollapse: 'collapse', width: '100%', fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 }}>
                  <tbody>
                    {hunk.lines.map((line, index) => {
                      const left = line.kind === 'added' ? '' : oldLine++;
                      const right = line.kind === 'removed' ? '' : newLine++;
                      return (
                        <tr key={index} style={{ background: TINT[line.kind] }} data-kind={line.kind}>
                          <td style={{ width: 44, textAlign: 'right', opacity: 0.55, padding: '0 6px', userSelect: 'none' }}>{left}</td>
                          <td style={{ width: 44, textAlign: 'right', opacity: 0.55, padding: '0 6px', userSelect: 'none' }}>{right}</td>
                          <td style={{ width: 14, userSelect: 'none' }}>{line.kind === 'added' ? '+' : line.kind === 'removed' ? '−' : ' '}</td>
                          <td style={{ whiteSpace: 'pre', paddingRight: 8 }}>{line.text}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </Paper>
            );
          })}
        </Stack>
      )}
    </Modal>
  );
}
