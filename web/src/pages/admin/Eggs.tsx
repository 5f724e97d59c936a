import {
  Accordion,
  Badge,
  Button,
  Code,
  FileButton,
  Group,
  Loader,
  Modal,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { mayAdminister, useAccount } from '../../lib/account';
import type { EggDefinition, EggRecord } from '../../lib/admin';
import { type Data, api } from '../../lib/api';
import { Empty, ErrorNotice } from '../parts';

interface ImportResult {
  result: 'created' | 'updated' | 'valid';
  egg: EggRecord | null;
  warnings: string[];
}

/** Eggs by nest: import (upload or paste), export, their variables, delete. */
export function EggsPage() {
  const account = useAccount();
  const queries = useQueryClient();
  const eggs = useQuery({
    queryKey: ['admin', 'eggs'],
    queryFn: () => api<Data<EggRecord[]>>('GET', '/api/admin/eggs').then((answer) => answer.data),
  });
  const [importing, setImporting] = useState(false);
  const [shown, setShown] = useState<EggRecord | null>(null);
  const remove = useMutation({
    mutationFn: (egg: EggRecord) => api('DELETE', `/api/admin/eggs/${egg.id}`),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['admin', 'eggs'] }),
  });
  const nests = new Map<string, EggRecord[]>();
  for (const egg of eggs.data ?? []) {
    nests.set(egg.nest, [...(nests.get(egg.nest) ?? []), egg]);
  }
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Eggs</Title>
        {mayAdminister(account.data, 'eggs.import') && <Button onClick={() => setImporting(true)}>Import an egg</Button>}
      </Group>
      {eggs.isPending && <Loader aria-label="Loading eggs" />}
      {eggs.isError && <ErrorNotice error={eggs.error} />}
      {remove.isError && <ErrorNotice error={remove.error} />}
      {eggs.data?.length === 0 && (
        <Empty title="No eggs yet">Import Pterodactyl or Pelican eggs (JSON or YAML) as they are.</Empty>
      )}
      {nests.size > 0 && (
        <Accordion multiple defaultValue={[...nests.keys()]} variant="separated">
          {[...nests.entries()].map(([nest, list]) => (
            <Accordion.Item key={nest} value={nest}>
              <Accordion.Control>
                <Group gap="xs">
                  <Text fw={500}>{nest}</Text>
                  <Badge size="sm" variant="light">
                    {list.length}
                  </Badge>
                </Group>
              </Accordion.Control>
              <Accordion.Panel>
                <Stack gap="xs">
                  {list.map((egg) => (
                    <Group key={egg.id} justify="space-between" wrap="wrap">
                      <div>
                        <Text fw={500}>{egg.name}</Text>
                        <Text size="xs" c="dimmed" lineClamp={1}>
                          {egg.author} · {egg.source_format}
                        </Text>
                      </div>
                      <Group gap="xs">
                        <Button size="xs" variant="default" onClick={() => setShown(egg)}>
                          Variables
                        </Button>
                        <Button size="xs" variant="default" component="a" href={`/api/admin/eggs/${egg.id}/export`} download={`egg-${egg.name}.json`}>
                          Export
                        </Button>
                        {mayAdminister(account.data, 'eggs.delete') && (
                          <Button
                            size="xs"
                            variant="subtle"
                            color="red"
                            onClick={() => {
                              if (window.confirm(`Delete the egg ${egg.name}? Servers using it keep running but cannot be reinstalled.`)) {
                                remove.mutate(egg);
                              }
                            }}
                          >
                            Delete
                          </Button>
                        )}
                      </Group>
                    </Group>
                  ))}
                </Stack>
              </Accordion.Panel>
            </Accordion.Item>
          ))}
        </Accordion>
      )}
      {importing && <ImportEgg onClose={() => setImporting(false)} />}
      {shown !== null && <EggVariables egg={shown} onClose={() => setShown(null)} />}
    </Stack>
  );
}

function ImportEgg({ onClose }: { onClose: () => void }) {
  const queries = useQueryClient();
  const [text, setText] = useState('');
  const [nest, setNest] = useState('');
  const [source, setSource] = useState<string | null>('paste');
  const submit = useMutation({
    mutationFn: async (body: string) => {
      const response = await fetch(`/api/admin/eggs${nest === '' ? '' : `?nest=${encodeURIComponent(nest)}`}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const answer = (await response.json().catch(() => null)) as
        | { data?: ImportResult; error?: { message?: string } }
        | null;
      if (!response.ok || answer?.data === undefined) {
        throw new Error(answer?.error?.message ?? `The panel answered ${response.status}.`);
      }
      return answer.data;
    },
    onSuccess: () => queries.invalidateQueries({ queryKey: ['admin', 'eggs'] }),
  });
  return (
    <Modal opened onClose={onClose} title="Import an egg" size="lg">
      <Stack>
        <TextInput
          label="Nest"
          description="The group to put it in; empty uses the egg's first tag."
          value={nest}
          onChange={(e) => setNest(e.currentTarget.value)}
        />
        <Tabs value={source} onChange={setSource}>
          <Tabs.List>
            <Tabs.Tab value="paste">Paste</Tabs.Tab>
            <Tabs.Tab value="upload">Upload a file</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="paste" pt="sm">
            <Textarea
              aria-label="Egg"
              placeholder='{"meta": {"version": "PTDL_v2"}, …}'
              autosize
              minRows={8}
              maxRows={16}
              ff="monospace"
              value={text}
              onChange={(e) => setText(e.currentTarget.value)}
            />
            <Group justify="flex-end" mt="sm">
              <Button disabled={text.trim() === ''} loading={submit.isPending} onClick={() => submit.mutate(text)}>
                Import
              </Button>
            </Group>
          </Tabs.Panel>
          <Tabs.Panel value="upload" pt="sm">
            <FileButton
              accept=".json,.yaml,.yml,application/json"
              onChange={(file) => {
                if (file !== null) {
                  void file.text().then((contents) => submit.mutate(contents));
                }
              }}
            >
              {(props) => (
                <Button {...props} loading={submit.isPending}>
                  Choose an egg file
                </Button>
              )}
            </FileButton>
          </Tabs.Panel>
        </Tabs>
        {submit.isError && <ErrorNotice error={submit.error} />}
        {submit.data !== undefined && (
          <Stack gap={4} role="status">
            <Text c="green">
              {submit.data.egg?.name} was {submit.data.result} in {submit.data.egg?.nest}.
            </Text>
            {submit.data.warnings.map((warning) => (
              <Text key={warning} size="sm" c="orange">
                {warning}
              </Text>
            ))}
          </Stack>
        )}
      </Stack>
    </Modal>
  );
}

function EggVariables({ egg, onClose }: { egg: EggRecord; onClose: () => void }) {
  const details = useQuery({
    queryKey: ['admin', 'eggs', egg.id],
    queryFn: () =>
      api<Data<{ definition: EggDefinition }>>('GET', `/api/admin/eggs/${egg.id}`).then(
        (answer) => answer.data.definition,
      ),
  });
  return (
    <Modal opened onClose={onClose} title={egg.name} size="xl">
      {details.isPending && <Loader aria-label="Loading the egg" />}
      {details.isError && <ErrorNotice error={details.error} />}
      {details.data !== undefined && (
        <Stack>
          <Text size="sm">
            Startup <Code>{details.data.startup}</Code>
          </Text>
          <Text size="sm">
            Images:{' '}
            {details.data.docker_images.map(([label, image]) => (
              <Code key={image} mr={4}>
                {label}: {image}
              </Code>
            ))}
          </Text>
          <Table.ScrollContainer minWidth={600}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Variable</Table.Th>
                  <Table.Th>Default</Table.Th>
                  <Table.Th>Rules</Table.Th>
                  <Table.Th>Users</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {details.data.variables.map((variable) => (
                  <Table.Tr key={variable.env_variable}>
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {variable.name}
                      </Text>
                      <Text size="xs" c="dimmed" ff="monospace">
                        {variable.env_variable}
                      </Text>
                    </Table.Td>
                    <Table.Td ff="monospace">{variable.default_value}</Table.Td>
                    <Table.Td ff="monospace">{variable.rules}</Table.Td>
                    <Table.Td>
                      {variable.user_editable ? 'edit' : variable.user_viewable ? 'see' : 'hidden'}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Stack>
      )}
    </Modal>
  );
}
