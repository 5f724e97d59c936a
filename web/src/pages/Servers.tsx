import { Badge, Card, Group, Loader, Progress, SimpleGrid, Stack, Switch, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';

import { useAccount } from '../lib/account';
import { type Data, api } from '../lib/api';
import { LIFECYCLE, POWER, type ServerSummary, bytes, limit, serverPath, useResources } from '../lib/servers';
import { Slot, WidgetCard } from '../lib/slots';
import { Empty, ErrorNotice } from './parts';

/** The servers the signed-in person owns or helps run (or, for administrators, all). */
export function Servers() {
  const account = useAccount();
  const [everyone, setEveryone] = useState(false);
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 250);
  const servers = useQuery({
    queryKey: ['servers', everyone, debounced],
    queryFn: () =>
      api<Data<ServerSummary[]>>(
        'GET',
        `/api/client/servers?per_page=100${everyone ? '&type=admin' : ''}${debounced === '' ? '' : `&search=${encodeURIComponent(debounced)}`}`,
      ).then((answer) => answer.data),
    placeholderData: keepPreviousData,
  });
  return (
    <Stack>
      <Group justify="space-between" wrap="wrap">
        <Title order={2}>{everyone ? 'All servers' : 'Your servers'}</Title>
        <Group gap="sm">
          <TextInput
            placeholder="Search by name"
            aria-label="Search servers"
            size="xs"
            value={search}
            onChange={(event) => setSearch(event.currentTarget.value)}
          />
          {account.data?.admin === true && (
            <Switch
              label="Show every server"
              checked={everyone}
              onChange={(event) => setEveryone(event.currentTarget.checked)}
            />
          )}
        </Group>
      </Group>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        <Slot id="dashboard.widgets/v1" wrap={WidgetCard} />
      </SimpleGrid>
      {servers.isPending && <Loader aria-label="Loading servers" />}
      {servers.isError && <ErrorNotice error={servers.error} />}
      {servers.data?.length === 0 && (
        <Empty title={debounced === '' ? 'No servers yet' : 'No server matches'}>
          {debounced === ''
            ? 'Servers you own, or that someone shares with you, appear here.'
            : 'Try another name.'}
        </Empty>
      )}
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {servers.data?.map((server) => <ServerCard key={server.uuid} server={server} />)}
      </SimpleGrid>
    </Stack>
  );
}

/** One server with its live state; its height never changes as numbers arrive. */
function ServerCard({ server }: { server: ServerSummary }) {
  const lifecycle = server.status === null ? undefined : LIFECYCLE[server.status];
  const resources = useResources(server.short_id, server.status === null);
  const live = resources.data;
  const power = live === undefined ? undefined : POWER[live.current_state];
  const memoryLimit = server.memory_mb * 1024 * 1024;
  const running = live !== undefined && live.current_state !== 'offline';
  return (
    <Card
      withBorder
      component={Link}
      to={serverPath(server)}
      data-testid="server-card"
      style={{ textDecoration: 'none' }}
    >
      <Group justify="space-between" wrap="nowrap">
        <Text fw={600} truncate>
          {server.name}
        </Text>
        {lifecycle !== undefined && <Badge color={lifecycle.color}>{lifecycle.label}</Badge>}
        {power !== undefined && (
          <Badge color={power.color} variant="dot">
            {power.label}
          </Badge>
        )}
        {resources.isError && (
          <Badge color="red" variant="outline">
            Node unreachable
          </Badge>
        )}
      </Group>
      <Text size="sm" c="dimmed" lineClamp={1} mih={20}>
        {server.description}
      </Text>
      <Stack gap={4} mt="sm">
        <Group justify="space-between" gap={4}>
          <Text size="xs" c="dimmed">
            CPU
          </Text>
          <Text size="xs">
            {running ? `${live.resources.cpu_absolute.toFixed(1)}%` : '—'} of{' '}
            {server.cpu_percent === 0 ? 'unlimited' : `${server.cpu_percent}%`}
          </Text>
        </Group>
        <Progress
          size="sm"
          value={running && server.cpu_percent > 0 ? Math.min(100, (live.resources.cpu_absolute / server.cpu_percent) * 100) : 0}
          aria-label="CPU use"
        />
        <Group justify="space-between" gap={4}>
          <Text size="xs" c="dimmed">
            Memory
          </Text>
          <Text size="xs">
            {running ? bytes(live.resources.memory_bytes) : '—'} of {limit(server.memory_mb)}
          </Text>
        </Group>
        <Progress
          size="sm"
          color="grape"
          value={running && memoryLimit > 0 ? Math.min(100, (live.resources.memory_bytes / memoryLimit) * 100) : 0}
          aria-label="Memory use"
        />
        <Group justify="space-between" gap={4}>
          <Text size="xs" c="dimmed">
            Disk
          </Text>
          <Text size="xs">
            {live === undefined ? '—' : bytes(live.resources.disk_bytes)} of {limit(server.disk_mb)}
          </Text>
        </Group>
      </Stack>
    </Card>
  );
}
