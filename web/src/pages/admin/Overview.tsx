import { Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';

import { mayAdminister, useAccount } from '../../lib/account';
import type { Node } from '../../lib/admin';
import { type Data, api } from '../../lib/api';
import type { Paged } from '../../lib/paged';
import { Slot, WidgetCard } from '../../lib/slots';
import { ActivityList } from '../ActivityList';

function Count(props: { title: string; to: string; value: number | undefined; detail?: string }) {
  return (
    <Card withBorder component={Link} to={props.to} style={{ textDecoration: 'none' }}>
      <Text size="sm" c="dimmed">
        {props.title}
      </Text>
      <Text fz={28} fw={600} mih={42}>
        {props.value ?? '…'}
      </Text>
      <Text size="xs" c="dimmed" mih={18}>
        {props.detail ?? ''}
      </Text>
    </Card>
  );
}

/** The panel at a glance: how much of everything there is, and what happened lately. */
export function OverviewPage() {
  const account = useAccount();
  const may = (permission: string) => mayAdminister(account.data, permission);
  const servers = useQuery({
    queryKey: ['admin', 'overview', 'servers'],
    queryFn: () => api<Paged<unknown>>('GET', '/api/admin/servers?per_page=1'),
    enabled: may('servers.read'),
  });
  const users = useQuery({
    queryKey: ['admin', 'overview', 'users'],
    queryFn: () => api<Paged<unknown>>('GET', '/api/admin/users?per_page=1'),
    enabled: may('users.read'),
  });
  const nodes = useQuery({
    queryKey: ['admin', 'nodes'],
    queryFn: () => api<Data<Node[]>>('GET', '/api/admin/nodes').then((answer) => answer.data),
    enabled: may('nodes.read'),
  });
  const maintenance = nodes.data?.filter((node) => node.maintenance).length ?? 0;
  return (
    <Stack>
      <Title order={2}>Overview</Title>
      <SimpleGrid cols={{ base: 1, xs: 3 }}>
        {may('servers.read') && <Count title="Servers" to="/admin/servers" value={servers.data?.meta.total} />}
        {may('nodes.read') && (
          <Count
            title="Nodes"
            to="/admin/nodes"
            value={nodes.data?.length}
            {...(maintenance > 0 ? { detail: `${maintenance} under maintenance` } : {})}
          />
        )}
        {may('users.read') && <Count title="Users" to="/admin/users" value={users.data?.meta.total} />}
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Slot id="admin.overview.cards/v1" wrap={WidgetCard} />
      </SimpleGrid>
      {may('activity.read') && (
        <>
          <Group justify="space-between">
            <Title order={3}>Recent activity</Title>
            <Text component={Link} to="/admin/activity" size="sm">
              All activity
            </Text>
          </Group>
          <ActivityList path="/api/admin/activity" queryKey={['admin', 'activity', 'recent']} />
        </>
      )}
    </Stack>
  );
}
