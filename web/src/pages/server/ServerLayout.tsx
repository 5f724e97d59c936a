import { Badge, Group, Loader, ScrollArea, Stack, Tabs, Text, Title } from '@mantine/core';
import { Outlet, useLocation, useNavigate, useOutletContext, useParams } from 'react-router';

import {
  LIFECYCLE,
  POWER,
  type ServerDetails,
  address,
  can,
  serverPath,
  useResources,
  useServer,
} from '../../lib/servers';
import { LAST, pagePath, useContributions } from '../../lib/slots';
import { ErrorNotice } from '../parts';

/**
 * The server pages, the permission each needs to be shown, and their places: in
 * Pterodactyl's order, with gaps where plugins' tabs go (core-files' Files at 20).
 */
const PAGES = [
  { page: 'console', label: 'Console', permission: 'websocket.connect', order: 10 },
  { page: 'users', label: 'Users', permission: 'user.read', order: 50 },
  { page: 'network', label: 'Network', permission: 'allocation.read', order: 70 },
  { page: 'startup', label: 'Startup', permission: 'startup.read', order: 80 },
  { page: 'settings', label: 'Settings', permission: null, order: 90 },
  { page: 'activity', label: 'Activity', permission: 'activity.read', order: 100 },
];

export function useCurrentServer(): ServerDetails {
  return useOutletContext<ServerDetails>();
}

/** One server: its name, state and address over the pages the caller may open. */
export function ServerLayout() {
  const { id = '' } = useParams();
  const server = useServer(id);
  const resources = useResources(id, server.data?.status === null);
  const location = useLocation();
  const navigate = useNavigate();
  const pluginTabs = useContributions('server.tabs/v1');

  if (server.isPending) {
    return <Loader aria-label="Loading the server" />;
  }
  if (server.isError) {
    return <ErrorNotice error={server.error} />;
  }
  const details = server.data;
  const pages = PAGES.filter((page) => page.permission === null || can(details.permissions, page.permission));
  const rest = location.pathname.replace(serverPath(details), '').replace(/^\//, '');
  const segment = rest.startsWith('p/') ? rest : (rest.split('/')[0] ?? '');
  const current = segment === '' ? 'console' : segment;
  const tabs = [
    ...pages.map((page) => ({ value: page.page, label: page.label, order: page.order })),
    ...(pluginTabs.data ?? [])
      .filter((tab) => tab.permission === null || can(details.permissions, tab.permission))
      .map((tab) => ({ value: `p/${tab.plugin}/${pagePath(tab)}`, label: tab.title, order: tab.order ?? LAST })),
  ].sort((a, b) => a.order - b.order);
  const primary = details.allocations.find((allocation) => allocation.id === details.allocation_id);
  const lifecycle = details.status === null ? undefined : LIFECYCLE[details.status];
  const power = resources.data === undefined ? undefined : POWER[resources.data.current_state];

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <div>
          <Title order={2}>{details.name}</Title>
          <Text size="sm" c="dimmed">
            {primary === undefined ? details.short_id : address(primary)}
            {details.description !== '' && ` · ${details.description}`}
          </Text>
        </div>
        <Group gap="xs" mih={26}>
          {lifecycle !== undefined && <Badge color={lifecycle.color}>{lifecycle.label}</Badge>}
          {power !== undefined && (
            <Badge color={power.color} variant="dot" data-testid="power-state">
              {power.label}
            </Badge>
          )}
          {resources.isError && (
            <Badge color="red" variant="outline" title={resources.error.message}>
              Node unreachable
            </Badge>
          )}
        </Group>
      </Group>
      <ScrollArea type="never">
        <Tabs
          value={current}
          onChange={(page) => void navigate(serverPath(details, page === 'console' ? '' : (page ?? '')))}
          keepMounted={false}
        >
          <Tabs.List style={{ flexWrap: 'nowrap' }}>
            {tabs.map((tab) => (
              <Tabs.Tab key={tab.value} value={tab.value}>
                {tab.label}
              </Tabs.Tab>
            ))}
          </Tabs.List>
        </Tabs>
      </ScrollArea>
      <Outlet context={details} />
    </Stack>
  );
}
