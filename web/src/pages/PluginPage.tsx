import { Loader, Stack, Title } from '@mantine/core';
import { useParams } from 'react-router';

import type { SlotId, SlotProps } from '../shared/hatchery-ui';
import { ContributionView, pagePath, useContributions } from '../lib/slots';
import { NotFound } from './NotFound';
import { ErrorNotice } from './parts';
import { useCurrentServer } from './server/ServerLayout';

/** A page a plugin adds (`admin.pages/v1`, `server.tabs/v1`), found by plugin and path. */
function PluginPage({ slot, server }: { slot: SlotId; server?: SlotProps['server'] }) {
  const { plugin = '', page = '' } = useParams();
  const contributions = useContributions(slot);
  if (contributions.isPending) {
    return <Loader aria-label="Loading the page" />;
  }
  if (contributions.isError) {
    return <ErrorNotice error={contributions.error} />;
  }
  const contribution = contributions.data?.find((c) => c.plugin === plugin && pagePath(c) === page);
  if (contribution === undefined) {
    return <NotFound />;
  }
  return (
    <Stack>
      {server === undefined && <Title order={2}>{contribution.title}</Title>}
      <ContributionView key={`${contribution.plugin}:${contribution.module}`} contribution={contribution} {...(server === undefined ? {} : { server })} />
    </Stack>
  );
}

export function PluginAdminPage() {
  return <PluginPage slot="admin.pages/v1" />;
}

export function PluginServerTab() {
  const server = useCurrentServer();
  return (
    <PluginPage
      slot="server.tabs/v1"
      server={{ uuid: server.uuid, short_id: server.short_id, name: server.name, permissions: server.permissions }}
    />
  );
}
