import { ActionIcon, Badge, Button, Card, Group, Loader, Stack, Text, TextInput, Tooltip } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { type Data, api } from '../../lib/api';
import { type Allocation, address, can } from '../../lib/servers';
import { ErrorNotice } from '../parts';
import { useCurrentServer } from './ServerLayout';

/** The server's addresses: which is primary, notes, more from the node's free ones. */
export function NetworkPage() {
  const server = useCurrentServer();
  const queries = useQueryClient();
  const base = `/api/client/servers/${server.short_id}/network/allocations`;
  const key = ['server', server.short_id, 'allocations'];
  const allocations = useQuery({
    queryKey: key,
    queryFn: () => api<Data<Allocation[]>>('GET', base).then((answer) => answer.data),
  });
  const refresh = () =>
    Promise.all([
      queries.invalidateQueries({ queryKey: key }),
      queries.invalidateQueries({ queryKey: ['server', server.short_id], exact: true }),
    ]);
  const change = useMutation({
    mutationFn: ({ method, path, body }: { method: string; path: string; body?: unknown }) =>
      api(method, `${base}${path}`, body),
    onSuccess: refresh,
  });

  if (allocations.isPending) {
    return <Loader aria-label="Loading addresses" />;
  }
  if (allocations.isError) {
    return <ErrorNotice error={allocations.error} />;
  }
  const list = allocations.data;
  const mayAdd =
    can(server.permissions, 'allocation.create') &&
    server.allocation_limit > 0 &&
    list.length < server.allocation_limit;
  return (
    <Stack>
      {change.isError && <ErrorNotice error={change.error} />}
      {list.map((allocation) => (
        <AllocationRow
          key={allocation.id}
          allocation={allocation}
          primary={allocation.id === server.allocation_id}
          mayUpdate={can(server.permissions, 'allocation.update')}
          mayDelete={can(server.permissions, 'allocation.delete')}
          busy={change.isPending}
          onChange={(method, path, body) => {
            change.mutate({ method, path: `/${allocation.id}${path}`, body });
          }}
        />
      ))}
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {server.allocation_limit === 0
            ? 'This server may not take more addresses.'
            : `${list.length} of ${server.allocation_limit} addresses in use.`}
        </Text>
        {can(server.permissions, 'allocation.create') && (
          <Button
            size="xs"
            disabled={!mayAdd}
            loading={change.isPending && change.variables.method === 'POST' && change.variables.path === ''}
            onClick={() => {
              change.mutate({ method: 'POST', path: '' });
            }}
          >
            Add an address
          </Button>
        )}
      </Group>
    </Stack>
  );
}

function AllocationRow(props: {
  allocation: Allocation;
  primary: boolean;
  mayUpdate: boolean;
  mayDelete: boolean;
  busy: boolean;
  onChange: (method: string, path: string, body?: unknown) => void;
}) {
  const { allocation } = props;
  const [notes, setNotes] = useState(allocation.notes ?? '');
  return (
    <Card withBorder padding="sm">
      <Group justify="space-between" wrap="wrap" gap="sm">
        <Group gap="xs">
          <Text ff="monospace" fw={500}>
            {address(allocation)}
          </Text>
          {props.primary && <Badge size="sm">Primary</Badge>}
        </Group>
        <Group gap="xs" wrap="nowrap" style={{ flex: '1 1 240px', justifyContent: 'flex-end' }}>
          <TextInput
            aria-label={`Notes for ${address(allocation)}`}
            placeholder="Notes"
            size="xs"
            value={notes}
            disabled={!props.mayUpdate}
            onChange={(event) => {
              setNotes(event.currentTarget.value);
            }}
            onBlur={() => {
              if (notes !== (allocation.notes ?? '')) {
                props.onChange('POST', '', { notes });
              }
            }}
            style={{ flex: 1, maxWidth: 280 }}
          />
          {props.mayUpdate && !props.primary && (
            <Button size="xs" variant="default" disabled={props.busy} onClick={() => props.onChange('POST', '/primary')}>
              Make primary
            </Button>
          )}
          {props.mayDelete && !props.primary && (
            <Tooltip label="Give this address back to the node">
              <ActionIcon
                variant="subtle"
                color="red"
                aria-label={`Remove ${address(allocation)}`}
                disabled={props.busy}
                onClick={() => props.onChange('DELETE', '')}
              >
                ×
              </ActionIcon>
            </Tooltip>
          )}
        </Group>
      </Group>
    </Card>
  );
}
