import { Badge, Card, Group, Loader, Pagination, Stack, Text, TextInput } from '@mantine/core';

import { usePagedSearch } from '../lib/paged';
import { Empty, ErrorNotice, When } from './parts';

interface ActivityEntry {
  id: number;
  event: string;
  actor: string | null;
  impersonator_id: number | null;
  ip: string | null;
  subject_type: string | null;
  subject_id: string | null;
  properties: Record<string, unknown> | null;
  created_at: string;
}

/** `server.power.start` → `power start`, under the area it happened in. */
export function describeEvent(event: string): { area: string; action: string } {
  const [area = event, ...rest] = event.split('.');
  return { area, action: rest.length === 0 ? area : rest.join(' ').replace(/[-_]/g, ' ') };
}

function propertyText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A paged activity log from `path` (which answers `{data, meta}`), newest first. */
export function ActivityList({ path, queryKey }: { path: string; queryKey: unknown[] }) {
  const { query: activity, page, setPage, search, setSearch } = usePagedSearch<ActivityEntry>(queryKey, path, 25);
  return (
    <Stack>
      <TextInput
        placeholder="Filter by event, e.g. server.power"
        aria-label="Filter by event"
        value={search}
        onChange={(event) => setSearch(event.currentTarget.value)}
        maw={360}
      />
      {activity.isPending && <Loader aria-label="Loading activity" />}
      {activity.isError && <ErrorNotice error={activity.error} />}
      {activity.data?.data.length === 0 && (
        <Empty title="Nothing yet">What people and the panel do here is recorded and shows up here.</Empty>
      )}
      <Stack gap={6} style={{ opacity: activity.isPlaceholderData ? 0.6 : 1 }}>
        {activity.data?.data.map((entry) => {
          const { area, action } = describeEvent(entry.event);
          const properties = Object.entries(entry.properties ?? {}).filter(
            ([, value]) => value !== null && value !== '' && !(typeof value === 'object' && Object.keys(value).length === 0),
          );
          return (
            <Card key={entry.id} withBorder padding="xs">
              <Group justify="space-between" wrap="wrap" gap={4}>
                <Group gap="xs" wrap="nowrap">
                  <Badge variant="light" size="sm">
                    {area}
                  </Badge>
                  <Text size="sm" fw={500}>
                    {action}
                  </Text>
                </Group>
                <Text size="xs" c="dimmed">
                  {entry.actor ?? 'someone'}
                  {entry.impersonator_id !== null && ' (by an administrator acting as them)'}
                  {entry.ip !== null && ` from ${entry.ip}`} · <When at={entry.created_at} />
                </Text>
              </Group>
              {properties.length > 0 && (
                <Text size="xs" c="dimmed" ff="monospace" lineClamp={2} mt={2}>
                  {properties.map(([name, value]) => `${name}: ${propertyText(value)}`).join(' · ')}
                </Text>
              )}
            </Card>
          );
        })}
      </Stack>
      {activity.data !== undefined && activity.data.meta.last_page > 1 && (
        <Pagination total={activity.data.meta.last_page} value={page} onChange={setPage} size="sm" />
      )}
    </Stack>
  );
}
