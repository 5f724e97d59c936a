import { Button, Card, Code, Group, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { api, fieldError, unplacedError } from '../../lib/api';
import { useAccount } from '../../lib/account';
import { can } from '../../lib/servers';
import { ErrorNotice } from '../parts';
import { useCurrentServer } from './ServerLayout';

/** Name and description, SFTP details, and reinstalling. */
export function SettingsPage() {
  const server = useCurrentServer();
  const account = useAccount();
  const queries = useQueryClient();
  const [name, setName] = useState(server.name);
  const [description, setDescription] = useState(server.description);
  const rename = useMutation({
    mutationFn: () =>
      api('POST', `/api/client/servers/${server.short_id}/settings/rename`, { name, description }),
    onSuccess: () =>
      Promise.all([
        queries.invalidateQueries({ queryKey: ['server', server.short_id], exact: true }),
        queries.invalidateQueries({ queryKey: ['servers'] }),
      ]),
  });
  const reinstall = useMutation({
    mutationFn: () => api('POST', `/api/client/servers/${server.short_id}/settings/reinstall`),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['server', server.short_id], exact: true }),
  });
  const nameError = fieldError(rename.error, 'name');

  return (
    <Stack>
      {can(server.permissions, 'settings.rename') && (
        <Card withBorder>
          <form
            onSubmit={(event) => {
              event.preventDefault();
              rename.mutate();
            }}
          >
            <Stack gap="sm">
              <Title order={4}>Name</Title>
              <TextInput label="Server name" required value={name} onChange={(event) => setName(event.currentTarget.value)} error={nameError} />
              <Textarea
                label="Description"
                autosize
                minRows={2}
                value={description}
                onChange={(event) => setDescription(event.currentTarget.value)}
              />
              {unplacedError(rename.error, ['name']) && <ErrorNotice error={rename.error} />}
              <Group justify="flex-end" gap="sm">
                {rename.isSuccess && (
                  <Text size="sm" c="green" role="status">
                    Saved
                  </Text>
                )}
                <Button type="submit" loading={rename.isPending}>
                  Save
                </Button>
              </Group>
            </Stack>
          </form>
        </Card>
      )}
      {can(server.permissions, 'file.sftp') && (
        <Card withBorder>
          <Title order={4} mb="xs">
            SFTP
          </Title>
          <Text size="sm">
            Address <Code>sftp://{server.sftp.host}:{server.sftp.port}</Code>
          </Text>
          <Text size="sm" mt={4}>
            User name <Code>{account.data?.username ?? 'you'}.{server.short_id}</Code>
          </Text>
          <Text size="xs" c="dimmed" mt={4}>
            Sign in with your panel password or an SSH key from your account.
          </Text>
        </Card>
      )}
      {can(server.permissions, 'settings.reinstall') && (
        <Card withBorder>
          <Title order={4} mb="xs">
            Reinstall
          </Title>
          <Text size="sm" mb="sm">
            Stops the server and runs the egg's install script again. Files are kept unless the script
            removes them.
          </Text>
          {reinstall.isError && <ErrorNotice error={reinstall.error} />}
          {reinstall.isSuccess && (
            <Text size="sm" c="green" role="status" mb="sm">
              Reinstalling; the console shows its progress.
            </Text>
          )}
          <Button
            color="red"
            variant="light"
            loading={reinstall.isPending}
            onClick={() => {
              if (window.confirm(`Reinstall ${server.name}? The server stops while the script runs.`)) {
                reinstall.mutate();
              }
            }}
          >
            Reinstall
          </Button>
        </Card>
      )}
      <Card withBorder>
        <Title order={4} mb="xs">
          About
        </Title>
        <Text size="sm">
          Identifier <Code>{server.short_id}</Code> · UUID <Code>{server.uuid}</Code>
        </Text>
      </Card>
    </Stack>
  );
}
