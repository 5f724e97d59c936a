// The small forms the file actions ask with: a name or path, permission bits, a URL to
// pull, a file's checksums.

import { Button, Checkbox, Code, Group, Loader, Modal, Stack, Table, Text, TextInput } from '@hatchery/ui';
import { type FormEvent, useEffect, useState } from 'react';

import { errorText, useFiles } from './context';
import { modeBits, modeOctal, validMode } from './format';

/** A form's sending: busy while it runs; a failure is the form's problem; done closes it. */
function useSending(close: () => void) {
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const send = async (work: () => Promise<void>) => {
    setBusy(true);
    try {
      await work();
      close();
    } catch (error) {
      setProblem(errorText(error));
    } finally {
      setBusy(false);
    }
  };
  return { problem, setProblem, busy, send };
}

/** Cancel, and the form's own button. */
function FormButtons({ close, busy, action }: { close: () => void; busy: boolean; action: string }) {
  return (
    <Group justify="flex-end" mt="md">
      <Button variant="default" onClick={close}>
        Cancel
      </Button>
      <Button type="submit" loading={busy}>
        {action}
      </Button>
    </Group>
  );
}

/** One text field and a button; the field's problem (or the server's refusal) shows at it. */
export function TextDialog({
  title,
  label,
  initial,
  action,
  description,
  check,
  submit,
  close,
}: {
  title: string;
  label: string;
  initial: string;
  action: string;
  description?: string;
  check?: (value: string) => string | null;
  submit: (value: string) => Promise<void>;
  close: () => void;
}) {
  const [value, setValue] = useState(initial);
  const { problem, setProblem, busy, send } = useSending(close);
  const sendForm = (event: FormEvent) => {
    event.preventDefault();
    const wrong = check?.(value) ?? null;
    if (wrong !== null) {
      setProblem(wrong);
      return;
    }
    void send(() => submit(value.trim()));
  };
  return (
    <Modal opened onClose={close} title={title} centered>
      <form onSubmit={sendForm}>
        <TextInput
          label={label}
          description={description}
          value={value}
          onChange={(event) => {
            setValue(event.currentTarget.value);
            setProblem(null);
          }}
          error={problem}
          data-autofocus
          autoComplete="off"
          spellCheck={false}
        />
        <FormButtons close={close} busy={busy} action={action} />
      </form>
    </Modal>
  );
}

const WHO = ['Owner', 'Group', 'Others'];
const WHAT = ['Read', 'Write', 'Run'];

/** Permission bits as ticks, in step with the octal number. */
export function ChmodDialog({
  names,
  initial,
  submit,
  close,
}: {
  names: string[];
  initial: string;
  submit: (mode: string) => Promise<void>;
  close: () => void;
}) {
  const [text, setText] = useState(initial);
  const { problem, setProblem, busy, send } = useSending(close);
  const bits = modeBits(validMode(text) ? text : initial);
  const tick = (index: number, on: boolean) => {
    const next = [...bits];
    next[index] = on;
    setText(modeOctal(next));
    setProblem(null);
  };
  const sendForm = (event: FormEvent) => {
    event.preventDefault();
    if (!validMode(text)) {
      setProblem('Three digits from 0 to 7, like 644 or 755.');
      return;
    }
    void send(() => submit(text));
  };
  return (
    <Modal opened onClose={close} title={names.length === 1 ? `Permissions of ${names[0]}` : `Permissions of ${names.length} items`} centered>
      <form onSubmit={sendForm}>
        <Table withRowBorders={false} verticalSpacing={4}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th />
              {WHAT.map((what) => (
                <Table.Th key={what}>{what}</Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {WHO.map((who, row) => (
              <Table.Tr key={who}>
                <Table.Td>{who}</Table.Td>
                {WHAT.map((what, column) => (
                  <Table.Td key={what}>
                    <Checkbox
                      aria-label={`${who} ${what.toLowerCase()}`}
                      checked={bits[row * 3 + column] ?? false}
                      onChange={(event) => tick(row * 3 + column, event.currentTarget.checked)}
                    />
                  </Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <TextInput
          mt="sm"
          label="Mode"
          value={text}
          onChange={(event) => {
            setText(event.currentTarget.value.trim());
            setProblem(null);
          }}
          error={problem}
          maxLength={3}
          w={120}
        />
        <FormButtons close={close} busy={busy} action="Apply" />
      </form>
    </Modal>
  );
}

/** A URL the node downloads into the folder, in the background. */
export function PullDialog({ directory, close, pulled }: { directory: string; close: () => void; pulled: () => void }) {
  const { client } = useFiles();
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const { problem, setProblem, busy, send } = useSending(close);
  const sendForm = (event: FormEvent) => {
    event.preventDefault();
    if (!/^https?:\/\/\S+$/.test(url.trim())) {
      setProblem('An http:// or https:// address.');
      return;
    }
    void send(async () => {
      await client.pull(url.trim(), directory, name.trim());
      pulled();
    });
  };
  return (
    <Modal opened onClose={close} title="Download a file from a URL" centered>
      <form onSubmit={sendForm}>
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            The node downloads it into {directory}; it appears here when it is done, and the outcome is in the activity log.
          </Text>
          <TextInput
            label="URL"
            placeholder="https://example.com/plugin.jar"
            value={url}
            onChange={(event) => {
              setUrl(event.currentTarget.value);
              setProblem(null);
            }}
            error={problem}
            data-autofocus
          />
          <TextInput
            label="Save as"
            description="Leave empty to keep the name the server gives."
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
          />
        </Stack>
        <FormButtons close={close} busy={busy} action="Download" />
      </form>
    </Modal>
  );
}

const ALGORITHMS = ['sha256', 'md5', 'crc32'] as const;

/** The file's checksums, each worked out on the node. */
export function ChecksumDialog({ path, close }: { path: string; close: () => void }) {
  const { client } = useFiles();
  const [sums, setSums] = useState<Record<string, string>>({});
  useEffect(() => {
    let live = true;
    for (const algorithm of ALGORITHMS) {
      client.checksum(path, algorithm).then(
        (sum) => live && setSums((old) => ({ ...old, [algorithm]: sum })),
        (error: unknown) => live && setSums((old) => ({ ...old, [algorithm]: `(${errorText(error)})` })),
      );
    }
    return () => {
      live = false;
    };
  }, [client, path]);
  return (
    <Modal opened onClose={close} title={`Checksums of ${path}`} centered size="lg">
      <Stack gap="xs">
        {ALGORITHMS.map((algorithm) => (
          <div key={algorithm}>
            <Text size="xs" c="dimmed" tt="uppercase">
              {algorithm}
            </Text>
            {sums[algorithm] === undefined ? (
              <Loader size="xs" />
            ) : (
              <Code block data-testid={`checksum-${algorithm}`} style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>
                {sums[algorithm]}
              </Code>
            )}
          </div>
        ))}
      </Stack>
    </Modal>
  );
}
