import { Badge, Card, Group, Loader, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';

import { type Data, api } from '../lib/api';
import { Empty, ErrorNotice } from './parts';

interface Server {
  uuid: string;
  short_id: string;
  name: string;
  description: string;
  memory_mb: number;
  disk_mb: number;
  cpu_percent: number;
  status: string | null;
}

const STATUS: Record<string, { label: string; color: string }> = {
  installing: { label: 'Installing', color: 'blue' },
  install_failed: { label: 'Install failed', color: 'red' },
  reinstall_failed: { label: 'Reinstall failed', color: 'red' },
  suspended: { label: 'Suspended', color: 'orange' },
  deleting: { label: 'Being deleted', color: 'gray' },
};

function limit(megabytes: number): string {
  if (megabytes === 0) {
    return 'unlimited';
  }
  return megabytes >= 1024 ? `${(megabytes / 1024).toFixed(1)} GiB` : `${megabytes} MiB`;
}

/** The servers the signed-in person owns or helps run. */
export function Servers() {
  const servers = useQuery({
    queryKey: ['servers'],
    queryFn: () =>
      api<Data<Server[]>>('GET', '/api/client/servers?per_page=100').then((answer) => answer.data),
  });
  return (
    <Stack>
      <Title order={2}>Your servers</Title>
      {servers.isPending && <Loader aria-label="Loading servers" />}
      {servers.isError && <ErrorNotice error={servers.error} />}
      {servers.data?.length === 0 && (
        <Empty title="No servers yet">
          Servers you own, or that someone shares with you, appear here.
        </Empty>
      )}
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {servers.data?.map((server) => {
          const status = server.status === null ? null : STATUS[server.status];
          return (
            <Card key={server.uuid} withBorder>
              <Group justify="space-between" wrap="nowrap">
                <Text fw={600} truncate>
                  {server.name}
                </Text>
                {status !== null && status !== undefined && (
                  <Badge color={status.color}>{status.label}</Badge>
                )}
              </Group>
              {server.description !== '' && (
                <Text size="sm" c="dimmed" lineClamp={2}>
                  {server.description}
                </Text>
              )}
              <Text size="xs" c="dimmed" mt="sm">
                {server.short_id} · memory {limit(server.memory_mb)} · disk {limit(server.disk_mb)} · CPU{' '}
                {server.cpu_percent === 0 ? 'unlimited' : `${server.cpu_percent}%`}
              </Text>
            </Card>
          );
        })}
      </SimpleGrid>
    </Stack>
  );
}
