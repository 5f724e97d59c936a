// What every view of the Files tab shares: the client, moving between views, notices
// and the confirmation dialog; and the path breadcrumbs each view shows.

import { Anchor, Breadcrumbs, Button, Group, Modal, Text } from '@hatchery/ui';
import { createContext, useContext, useEffect, useState } from 'react';

import { type FilesClient, FilesError } from './client';

export type View =
  | { kind: 'dir'; path: string }
  | { kind: 'edit'; path: string }
  | { kind: 'archive'; path: string }
  | { kind: 'search'; path: string };

export interface Notice {
  kind: 'error' | 'done';
  message: string;
}

export interface Confirm {
  title: string;
  message: string;
  action: string;
  danger?: boolean;
  run: () => void | Promise<void>;
}

export interface FilesTools {
  client: FilesClient;
  server: string;
  go: (view: View) => void;
  notify: (notice: Notice | null) => void;
  ask: (confirm: Confirm) => void;
  /** Whether the person holds a server permission (to hide what they cannot do). */
  can: (permission: string) => boolean;
  /** The editor hands over its "are there unsaved changes?" while it is open. */
  guard: (unsaved: (() => boolean) | null) => void;
}

export const FilesContext = createContext<FilesTools | null>(null);

export function useFiles(): FilesTools {
  const tools = useContext(FilesContext);
  if (tools === null) {
    throw new Error('useFiles outside the Files tab');
  }
  return tools;
}

/** What went wrong, in the panel's or the node's words. */
export function errorText(error: unknown): string {
  if (error instanceof FilesError || error instanceof Error) {
    return error.message;
  }
  return 'Something went wrong.';
}

/**
 * What `load` answers, asked again when `load` changes (make it with `useCallback`) or
 * `again` does; an answer to an older question is dropped. Until the first answer both
 * are null; while asking again, the last answer stays.
 */
export function useFetched<T>(load: () => Promise<T>, again = 0): { data: T | null; error: string | null } {
  const [answer, setAnswer] = useState<{ data: T | null; error: string | null }>({ data: null, error: null });
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setAnswer({ data, error: null }),
      (error: unknown) => live && setAnswer({ data: null, error: errorText(error) }),
    );
    return () => {
      live = false;
    };
  }, [load, again]);
  return answer;
}

/** Runs `work`, saying its failure (or `done`) in the notice line. */
export function useAction(): [boolean, (work: () => Promise<unknown>, done?: string) => Promise<boolean>] {
  const { notify } = useFiles();
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<unknown>, done?: string) => {
    setBusy(true);
    try {
      await work();
      notify(done === undefined ? null : { kind: 'done', message: done });
      return true;
    } catch (error) {
      notify({ kind: 'error', message: errorText(error) });
      return false;
    } finally {
      setBusy(false);
    }
  };
  return [busy, run];
}

export function ConfirmDialog({ confirm, close }: { confirm: Confirm | null; close: () => void }) {
  const [busy, setBusy] = useState(false);
  return (
    <Modal opened={confirm !== null} onClose={close} title={confirm?.title} centered>
      <Text size="sm">{confirm?.message}</Text>
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={close}>
          Cancel
        </Button>
        <Button
          color={confirm?.danger === true ? 'red' : 'blue'}
          loading={busy}
          onClick={async () => {
            if (confirm === null) {
              return;
            }
            setBusy(true);
            try {
              await confirm.run();
            } finally {
              setBusy(false);
              close();
            }
          }}
        >
          {confirm?.action}
        </Button>
      </Group>
    </Modal>
  );
}

/** `/ › plugins › x`: each folder a link to its listing. */
export function PathCrumbs({ path, last = 'text' }: { path: string; last?: 'text' | 'link' }) {
  const { go } = useFiles();
  const parts = path.split('/').filter((part) => part !== '');
  const crumbs = [
    { name: 'home', path: '/' },
    ...parts.map((name, index) => ({ name, path: `/${parts.slice(0, index + 1).join('/')}` })),
  ];
  return (
    <nav aria-label="Folder" style={{ minWidth: 0 }}>
      <Breadcrumbs separator="/" separatorMargin={4} style={{ flexWrap: 'wrap' }}>
      {crumbs.map((crumb, index) =>
        index === crumbs.length - 1 && last === 'text' ? (
          <Text key={crumb.path} fw={600} size="sm" style={{ wordBreak: 'break-all' }} aria-current="page">
            {crumb.name}
          </Text>
        ) : (
          <Anchor
            key={crumb.path}
            size="sm"
            href={`#dir=${encodeURIComponent(crumb.path)}`}
            onClick={(event) => {
              event.preventDefault();
              go({ kind: 'dir', path: crumb.path });
            }}
          >
            {crumb.name}
          </Anchor>
        ),
      )}
      </Breadcrumbs>
    </nav>
  );
}
