import {
  Badge,
  Button,
  Card,
  Code,
  CopyButton,
  Group,
  Loader,
  Modal,
  NumberInput,
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
import { Link, useNavigate, useParams } from 'react-router';

import { mayAdminister, useAccount } from '../../lib/account';
import type { Node, NodeAllocation, NodeHealth } from '../../lib/admin';
import { type Data, api, fieldError as fieldErrorOf, unplacedError } from '../../lib/api';
import { limit } from '../../lib/servers';
import { Empty, ErrorNotice, FormButtons } from '../parts';

function useNodes() {
  return useQuery({
    queryKey: ['admin', 'nodes'],
    queryFn: () => api<Data<Node[]>>('GET', '/api/admin/nodes').then((answer) => answer.data),
  });
}

function useHealth(node: string) {
  return useQuery({
    queryKey: ['admin', 'nodes', node, 'health'],
    queryFn: () =>
      api<Data<NodeHealth>>('GET', `/api/admin/nodes/${node}/health`).then((answer) => answer.data),
    refetchInterval: 30_000,
  });
}

/** A dot saying whether the node's wings answers, and how fast. */
function Health({ node }: { node: string }) {
  const health = useHealth(node);
  if (health.isPending) {
    return <Loader size="xs" aria-label="Asking the node" />;
  }
  if (health.isError || !health.data.reachable) {
    return (
      <Badge color="red" variant="dot" title={health.data?.error ?? health.error?.message}>
        Unreachable
      </Badge>
    );
  }
  return (
    <Badge color="green" variant="dot">
      Online · {health.data.latency_ms} ms
    </Badge>
  );
}

/** Every node with its health; a form to add one. */
export function NodesPage() {
  const account = useAccount();
  const nodes = useNodes();
  const [adding, setAdding] = useState(false);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Nodes</Title>
        {mayAdminister(account.data, 'nodes.create') && <Button onClick={() => setAdding(true)}>Add a node</Button>}
      </Group>
      {nodes.isPending && <Loader aria-label="Loading nodes" />}
      {nodes.isError && <ErrorNotice error={nodes.error} />}
      {nodes.data?.length === 0 && (
        <Empty title="No nodes yet">A node is a machine running wings; add one to host servers.</Empty>
      )}
      {nodes.data !== undefined && nodes.data.length > 0 && (
        <Table.ScrollContainer minWidth={560}>
          <Table highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Address</Table.Th>
                <Table.Th>Memory</Table.Th>
                <Table.Th>Disk</Table.Th>
                <Table.Th>Health</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {nodes.data.map((node) => (
                <Table.Tr key={node.id}>
                  <Table.Td>
                    <Link to={`/admin/nodes/${node.name}`}>{node.name}</Link>
                    {node.maintenance && (
                      <Badge ml="xs" size="xs" color="orange">
                        Maintenance
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Code>
                      {node.scheme}://{node.fqdn}:{node.daemon_port}
                    </Code>
                  </Table.Td>
                  <Table.Td>{limit(node.memory_mb)}</Table.Td>
                  <Table.Td>{limit(node.disk_mb)}</Table.Td>
                  <Table.Td>
                    <Health node={node.name} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {adding && <NodeForm onClose={() => setAdding(false)} />}
    </Stack>
  );
}

function NodeForm({ onClose }: { onClose: () => void }) {
  const queries = useQueryClient();
  const navigate = useNavigate();
  const [form, setForm] = useState({
    name: '',
    fqdn: '',
    https: false,
    daemon_port: 8080,
    sftp_port: 2022,
    memory_mb: 4096,
    disk_mb: 20480,
  });
  const create = useMutation({
    mutationFn: () =>
      api<Data<Node>>('POST', '/api/admin/nodes', {
        name: form.name,
        fqdn: form.fqdn,
        scheme: form.https ? 'https' : 'http',
        daemon_port: form.daemon_port,
        sftp_port: form.sftp_port,
        memory_mb: form.memory_mb,
        disk_mb: form.disk_mb,
      }),
    onSuccess: async (answer) => {
      await queries.invalidateQueries({ queryKey: ['admin', 'nodes'] });
      await navigate(`/admin/nodes/${answer.data.name}`);
    },
  });
  const fieldError = (field: string) => fieldErrorOf(create.error, field);
  return (
    <Modal opened onClose={onClose} title="Add a node">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate();
        }}
      >
        <Stack>
          <TextInput label="Name" required value={form.name} error={fieldError('name')} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} data-autofocus />
          <TextInput
            label="Address"
            description="The host name or IP address browsers and the panel reach wings at."
            required
            value={form.fqdn}
            error={fieldError('fqdn')}
            onChange={(e) => setForm({ ...form, fqdn: e.currentTarget.value })}
          />
          <Switch label="wings serves HTTPS" checked={form.https} onChange={(e) => setForm({ ...form, https: e.currentTarget.checked })} />
          <SimpleGrid cols={2}>
            <NumberInput label="wings port" value={form.daemon_port} min={1} max={65535} onChange={(v) => setForm({ ...form, daemon_port: Number(v) })} error={fieldError('daemon_port')} />
            <NumberInput label="SFTP port" value={form.sftp_port} min={1} max={65535} onChange={(v) => setForm({ ...form, sftp_port: Number(v) })} error={fieldError('sftp_port')} />
            <NumberInput label="Memory (MiB)" value={form.memory_mb} min={0} onChange={(v) => setForm({ ...form, memory_mb: Number(v) })} error={fieldError('memory_mb')} />
            <NumberInput label="Disk (MiB)" value={form.disk_mb} min={0} onChange={(v) => setForm({ ...form, disk_mb: Number(v) })} error={fieldError('disk_mb')} />
          </SimpleGrid>
          {unplacedError(create.error, ['name', 'fqdn', 'daemon_port', 'sftp_port', 'memory_mb', 'disk_mb']) && (
            <ErrorNotice error={create.error} />
          )}
          <FormButtons onCancel={onClose} saving={create.isPending} submit="Add" />
        </Stack>
      </form>
    </Modal>
  );
}

/** One node: its health, the wings configuration to copy, and its allocations. */
export function NodePage() {
  const { node: name = '' } = useParams();
  const account = useAccount();
  const queries = useQueryClient();
  const node = useQuery({
    queryKey: ['admin', 'nodes', name],
    queryFn: () => api<Data<Node>>('GET', `/api/admin/nodes/${name}`).then((answer) => answer.data),
  });
  const health = useHealth(name);
  const [configuration, setConfiguration] = useState<string | null>(null);
  const reveal = useMutation({
    mutationFn: async () => {
      const response = await fetch(`/api/admin/nodes/${name}/configuration`, { credentials: 'same-origin' });
      if (!response.ok) {
        throw new Error(`The panel answered ${response.status}.`);
      }
      return response.text();
    },
    onSuccess: setConfiguration,
  });
  const allocations = useQuery({
    queryKey: ['admin', 'nodes', name, 'allocations'],
    queryFn: () =>
      api<Data<NodeAllocation[]>>('GET', `/api/admin/nodes/${name}/allocations`).then((answer) => answer.data),
  });
  const [ip, setIp] = useState('');
  const [ports, setPorts] = useState('');
  const allocate = useMutation({
    mutationFn: () => api('POST', `/api/admin/nodes/${name}/allocations`, { ip, ports }),
    onSuccess: () => {
      setPorts('');
      return queries.invalidateQueries({ queryKey: ['admin', 'nodes', name, 'allocations'] });
    },
  });
  const release = useMutation({
    mutationFn: (allocation: NodeAllocation) =>
      api('DELETE', `/api/admin/nodes/${name}/allocations`, { ip: allocation.ip, ports: String(allocation.port) }),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['admin', 'nodes', name, 'allocations'] }),
  });
  const mayUpdate = mayAdminister(account.data, 'nodes.update');

  if (node.isPending) {
    return <Loader aria-label="Loading the node" />;
  }
  if (node.isError) {
    return <ErrorNotice error={node.error} />;
  }
  const system = health.data?.system;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{node.data.name}</Title>
        <Health node={name} />
      </Group>
      <Card withBorder>
        <Title order={4} mb="xs">
          wings
        </Title>
        {health.data?.reachable === true && system !== null && system !== undefined ? (
          <Text size="sm">
            wings {system.version} on {system.kernel_version} ({system.architecture}, {system.cpu_count} CPUs) ·{' '}
            {system.container_engine?.name} {system.container_engine?.version}
          </Text>
        ) : (
          <Text size="sm" c="red">
            {health.data?.error ?? 'The node has not answered yet.'}
          </Text>
        )}
      </Card>
      {mayUpdate && (
        <Card withBorder>
          <Title order={4} mb="xs">
            Configuration
          </Title>
          <Text size="sm" mb="sm">
            Save this as wings' <Code>config.yml</Code> on the node. It holds the node's secret token.
          </Text>
          {configuration === null ? (
            <Button variant="default" loading={reveal.isPending} onClick={() => reveal.mutate()}>
              Show the configuration
            </Button>
          ) : (
            <Stack gap="xs">
              <Code block data-testid="wings-configuration" style={{ maxHeight: 320, overflow: 'auto' }}>
                {configuration}
              </Code>
              <Group>
                <CopyButton value={configuration}>
                  {({ copied, copy }) => (
                    <Button size="xs" variant="light" onClick={copy}>
                      {copied ? 'Copied' : 'Copy'}
                    </Button>
                  )}
                </CopyButton>
              </Group>
            </Stack>
          )}
          {reveal.isError && <ErrorNotice error={reveal.error} />}
        </Card>
      )}
      <Card withBorder>
        <Title order={4} mb="xs">
          Allocations
        </Title>
        {mayUpdate && (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              allocate.mutate();
            }}
          >
            <Group align="flex-end" mb="sm" wrap="wrap">
              <TextInput label="IP address" placeholder="0.0.0.0" value={ip} onChange={(e) => setIp(e.currentTarget.value)} required />
              <TextInput label="Ports" placeholder="25565, 25570-25580" value={ports} onChange={(e) => setPorts(e.currentTarget.value)} required />
              <Button type="submit" loading={allocate.isPending}>
                Add
              </Button>
            </Group>
          </form>
        )}
        {allocate.isError && <ErrorNotice error={allocate.error} />}
        {release.isError && <ErrorNotice error={release.error} />}
        {allocations.isPending && <Loader size="sm" aria-label="Loading allocations" />}
        {allocations.data?.length === 0 && <Empty title="No allocations">Add the addresses servers on this node may use.</Empty>}
        {allocations.data !== undefined && allocations.data.length > 0 && (
          <Table.ScrollContainer minWidth={400} mah={400}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Address</Table.Th>
                  <Table.Th>Alias</Table.Th>
                  <Table.Th>In use</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {allocations.data.map((allocation) => (
                  <Table.Tr key={allocation.id}>
                    <Table.Td ff="monospace">
                      {allocation.ip}:{allocation.port}
                    </Table.Td>
                    <Table.Td>{allocation.alias ?? ''}</Table.Td>
                    <Table.Td>{allocation.server_id === null ? 'free' : 'by a server'}</Table.Td>
                    <Table.Td>
                      {mayUpdate && allocation.server_id === null && (
                        <Button
                          size="compact-xs"
                          variant="subtle"
                          color="red"
                          onClick={() => release.mutate(allocation)}
                        >
                          Remove
                        </Button>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Card>
    </Stack>
  );
}
