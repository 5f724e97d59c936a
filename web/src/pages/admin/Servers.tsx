import {
  Badge,
  Button,
  Card,
  Group,
  Loader,
  Menu,
  NumberInput,
  Pagination,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';

import { mayAdminister, useAccount } from '../../lib/account';
import type { AdminServer, EggDefinition, EggRecord, Node, NodeAllocation } from '../../lib/admin';
import { type Data, api, fieldError as fieldErrorOf, unplacedError } from '../../lib/api';
import { usePagedSearch } from '../../lib/paged';
import { fieldFor } from '../../lib/rules';
import { LIFECYCLE, limit, serverPath } from '../../lib/servers';
import { Empty, ErrorNotice } from '../parts';

/** Every server, searchable, with the actions an administrator takes on one. */
export function AdminServersPage() {
  const account = useAccount();
  const queries = useQueryClient();
  const { query: servers, page, setPage, search, setSearch } = usePagedSearch<AdminServer>(
    ['admin', 'servers'],
    '/api/admin/servers',
    50,
  );
  const act = useMutation({
    mutationFn: ({ server, action }: { server: AdminServer; action: 'suspend' | 'unsuspend' | 'reinstall' | 'delete' }) =>
      action === 'delete'
        ? api('DELETE', `/api/admin/servers/${server.uuid}`)
        : api('POST', `/api/admin/servers/${server.uuid}/${action}`),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['admin', 'servers'] }),
  });
  const mayUpdate = mayAdminister(account.data, 'servers.update');
  const mayDelete = mayAdminister(account.data, 'servers.delete');
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Servers</Title>
        {mayAdminister(account.data, 'servers.create') && (
          <Button component={Link} to="/admin/servers/new">
            Create a server
          </Button>
        )}
      </Group>
      <TextInput placeholder="Search by name" aria-label="Search servers" value={search} onChange={(e) => setSearch(e.currentTarget.value)} maw={320} />
      {servers.isPending && <Loader aria-label="Loading servers" />}
      {servers.isError && <ErrorNotice error={servers.error} />}
      {act.isError && <ErrorNotice error={act.error} />}
      {servers.data?.data.length === 0 && <Empty title="No servers">Create one from an egg on a node with free allocations.</Empty>}
      {servers.data !== undefined && servers.data.data.length > 0 && (
        <Table.ScrollContainer minWidth={720}>
          <Table highlightOnHover style={{ opacity: servers.isPlaceholderData ? 0.6 : 1 }}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Node</Table.Th>
                <Table.Th>Egg</Table.Th>
                <Table.Th>Address</Table.Th>
                <Table.Th>Limits</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {servers.data.data.map((server) => {
                const lifecycle = server.status === null ? undefined : LIFECYCLE[server.status];
                return (
                  <Table.Tr key={server.uuid}>
                    <Table.Td>
                      <Link to={serverPath(server)}>{server.name}</Link>
                      {lifecycle !== undefined && (
                        <Badge ml="xs" size="xs" color={lifecycle.color}>
                          {lifecycle.label}
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{server.node_name}</Table.Td>
                    <Table.Td>{server.egg_name}</Table.Td>
                    <Table.Td ff="monospace">
                      {server.ip_alias ?? server.ip}:{server.port}
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs">
                        {limit(server.memory_mb)} · {limit(server.disk_mb)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      {(mayUpdate || mayDelete) && (
                        <Menu position="bottom-end">
                          <Menu.Target>
                            <Button size="compact-xs" variant="default" aria-label={`Actions for ${server.name}`}>
                              ⋯
                            </Button>
                          </Menu.Target>
                          <Menu.Dropdown>
                            {mayUpdate && server.status !== 'suspended' && (
                              <Menu.Item onClick={() => act.mutate({ server, action: 'suspend' })}>Suspend</Menu.Item>
                            )}
                            {mayUpdate && server.status === 'suspended' && (
                              <Menu.Item onClick={() => act.mutate({ server, action: 'unsuspend' })}>Unsuspend</Menu.Item>
                            )}
                            {mayUpdate && <Menu.Item onClick={() => act.mutate({ server, action: 'reinstall' })}>Reinstall</Menu.Item>}
                            {mayDelete && (
                              <Menu.Item
                                color="red"
                                onClick={() => {
                                  if (window.confirm(`Delete ${server.name} and all its files? This cannot be undone.`)) {
                                    act.mutate({ server, action: 'delete' });
                                  }
                                }}
                              >
                                Delete
                              </Menu.Item>
                            )}
                          </Menu.Dropdown>
                        </Menu>
                      )}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {servers.data !== undefined && servers.data.meta.last_page > 1 && (
        <Pagination total={servers.data.meta.last_page} value={page} onChange={setPage} size="sm" />
      )}
    </Stack>
  );
}

/** A new server: the egg's variables as fields, the node's free allocations to pick from. */
export function CreateServerPage() {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const nodes = useQuery({
    queryKey: ['admin', 'nodes'],
    queryFn: () => api<Data<Node[]>>('GET', '/api/admin/nodes').then((answer) => answer.data),
  });
  const eggs = useQuery({
    queryKey: ['admin', 'eggs'],
    queryFn: () => api<Data<EggRecord[]>>('GET', '/api/admin/eggs').then((answer) => answer.data),
  });
  const [form, setForm] = useState({
    name: '',
    owner: '',
    node: null as string | null,
    egg: null as string | null,
    allocation: null as string | null,
    memory_mb: 1024,
    disk_mb: 5120,
    cpu_percent: 100,
    allocation_limit: 1,
    start_on_completion: true,
  });
  const [variables, setVariables] = useState<Record<string, string>>({});
  const free = useQuery({
    queryKey: ['admin', 'nodes', form.node, 'allocations', 'free'],
    queryFn: () =>
      api<Data<NodeAllocation[]>>('GET', `/api/admin/nodes/${form.node ?? ''}/allocations?free=true`).then(
        (answer) => answer.data,
      ),
    enabled: form.node !== null,
  });
  const egg = useQuery({
    queryKey: ['admin', 'eggs', Number(form.egg)],
    queryFn: () =>
      api<Data<{ definition: EggDefinition }>>('GET', `/api/admin/eggs/${form.egg ?? ''}`).then(
        (answer) => answer.data.definition,
      ),
    enabled: form.egg !== null,
  });
  const create = useMutation({
    mutationFn: () =>
      api<Data<{ short_id: string }>>('POST', '/api/admin/servers', {
        ...form,
        variables: Object.fromEntries(
          (egg.data?.variables ?? []).map((variable) => [
            variable.env_variable,
            variables[variable.env_variable] ?? variable.default_value,
          ]),
        ),
      }),
    onSuccess: async (answer) => {
      await queries.invalidateQueries({ queryKey: ['admin', 'servers'] });
      await navigate(serverPath(answer.data));
    },
  });
  const fieldError = (field: string) => fieldErrorOf(create.error, field);
  const unplaced = unplacedError(create.error, [
    'name',
    'owner',
    'node',
    'egg',
    'allocation',
    'memory_mb',
    'disk_mb',
    'cpu_percent',
    'variables.',
  ]);

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        create.mutate();
      }}
    >
      <Stack>
        <Title order={2}>Create a server</Title>
        <Card withBorder>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} error={fieldError('name')} />
            <TextInput
              label="Owner"
              description="Their username or e-mail address."
              required
              value={form.owner}
              onChange={(e) => setForm({ ...form, owner: e.currentTarget.value })}
              error={fieldError('owner')}
            />
            <Select
              label="Node"
              required
              data={(nodes.data ?? []).map((node) => ({ value: node.name, label: node.name }))}
              value={form.node}
              onChange={(node) => setForm({ ...form, node, allocation: null })}
              error={fieldError('node') ?? (nodes.isError ? nodes.error.message : undefined)}
              nothingFoundMessage="No nodes yet"
            />
            <Select
              label="Address"
              description={form.node === null ? 'Pick a node first.' : `${free.data?.length ?? 0} free on this node.`}
              required
              searchable
              disabled={form.node === null}
              data={(free.data ?? []).map((allocation) => ({
                value: `${allocation.ip}:${allocation.port}`,
                label: `${allocation.alias ?? allocation.ip}:${allocation.port}`,
              }))}
              value={form.allocation}
              onChange={(allocation) => setForm({ ...form, allocation })}
              error={fieldError('allocation')}
              nothingFoundMessage="No free allocations on this node"
            />
            <Select
              label="Egg"
              required
              searchable
              data={[...new Set((eggs.data ?? []).map((record) => record.nest))].map((nest) => ({
                group: nest,
                items: (eggs.data ?? [])
                  .filter((record) => record.nest === nest)
                  .map((record) => ({ value: String(record.id), label: record.name })),
              }))}
              value={form.egg}
              onChange={(chosen) => {
                setForm({ ...form, egg: chosen });
                setVariables({});
              }}
              error={fieldError('egg')}
            />
            <NumberInput label="Addresses the users may hold" min={1} value={form.allocation_limit} onChange={(v) => setForm({ ...form, allocation_limit: Number(v) })} />
            <NumberInput label="Memory (MiB, 0 for no limit)" min={0} value={form.memory_mb} onChange={(v) => setForm({ ...form, memory_mb: Number(v) })} error={fieldError('memory_mb')} />
            <NumberInput label="Disk (MiB, 0 for no limit)" min={0} value={form.disk_mb} onChange={(v) => setForm({ ...form, disk_mb: Number(v) })} error={fieldError('disk_mb')} />
            <NumberInput label="CPU (% of one core, 0 for no limit)" min={0} value={form.cpu_percent} onChange={(v) => setForm({ ...form, cpu_percent: Number(v) })} error={fieldError('cpu_percent')} />
            <Switch
              label="Start it once installed"
              checked={form.start_on_completion}
              onChange={(e) => setForm({ ...form, start_on_completion: e.currentTarget.checked })}
              mt="lg"
            />
          </SimpleGrid>
        </Card>
        {egg.isPending && form.egg !== null && <Loader size="sm" aria-label="Loading the egg" />}
        {egg.data !== undefined && egg.data.variables.length > 0 && (
          <Card withBorder>
            <Title order={4} mb="sm">
              Variables
            </Title>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              {egg.data.variables.map((variable) => {
                const field = fieldFor(variable.rules);
                const value = variables[variable.env_variable] ?? variable.default_value;
                const error = fieldError(`variables.${variable.env_variable}`);
                const label = `${variable.name} (${variable.env_variable})`;
                const set = (next: string) => setVariables({ ...variables, [variable.env_variable]: next });
                return field.kind === 'select' ? (
                  <Select key={variable.env_variable} label={label} description={variable.description} data={field.options} value={value} onChange={(next) => set(next ?? '')} error={error} />
                ) : field.kind === 'switch' ? (
                  <Switch key={variable.env_variable} label={label} description={variable.description} checked={value === '1' || value === 'true'} onChange={(e) => set(e.currentTarget.checked ? '1' : '0')} error={error} />
                ) : (
                  <TextInput key={variable.env_variable} label={label} description={`${variable.description} · ${variable.rules}`} value={value} onChange={(e) => set(e.currentTarget.value)} error={error} />
                );
              })}
            </SimpleGrid>
          </Card>
        )}
        {unplaced && <ErrorNotice error={create.error} />}
        <Group justify="flex-end">
          <Button variant="default" component={Link} to="/admin/servers">
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Create and install
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
