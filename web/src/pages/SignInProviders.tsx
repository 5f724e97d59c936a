import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  Group,
  Loader,
  Paper,
  PasswordInput,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';

import { type Data, api } from '../lib/api';
import { parseRoleMap } from '../lib/roleMap';
import { Empty, ErrorNotice } from './parts';

interface Provider {
  id: string;
  name: string;
  kind: 'github' | 'google' | 'discord' | 'oidc';
  issuer: string | null;
  client_id: string;
  client_secret_set: boolean;
  scopes: string;
  auto_provision: boolean;
  role_claim: string | null;
  role_map: Record<string, string>;
  default_role: string | null;
  enabled: boolean;
  redirect_uri: string;
}

const KINDS = [
  { value: 'oidc', label: 'OpenID Connect (Keycloak, Authentik, Okta, …)' },
  { value: 'github', label: 'GitHub' },
  { value: 'google', label: 'Google' },
  { value: 'discord', label: 'Discord' },
];

const PATH = '/api/admin/core-auth/oauth-providers';

/** Admin → Sign-in providers: identity providers people sign in with (core-auth). */
export function SignInProviders() {
  const queries = useQueryClient();
  const providers = useQuery({
    queryKey: ['admin-oauth-providers'],
    queryFn: () => api<Data<Provider[]>>('GET', PATH).then((answer) => answer.data),
  });
  const refresh = () => queries.invalidateQueries({ queryKey: ['admin-oauth-providers'] });
  const toggle = useMutation({
    mutationFn: (provider: Provider) =>
      api('PUT', `${PATH}/${provider.id}`, { enabled: !provider.enabled }),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) => api('DELETE', `${PATH}/${id}`),
    onSuccess: refresh,
  });
  return (
    <Stack maw={1100}>
      <Title order={2}>Sign-in providers</Title>
      <Text size="sm" c="dimmed">
        People sign in with these identity providers. Register each one&apos;s redirect URI
        with the provider. For a provider of your own, first let the sign-in plugin reach it:{' '}
        <Code>hatchery plugin grant core-auth http:sso.example.com</Code>.
      </Text>
      {providers.isPending && <Loader aria-label="Loading providers" />}
      {providers.isError && <ErrorNotice error={providers.error} />}
      {providers.data?.length === 0 && (
        <Empty title="No providers yet">Add GitHub, Google, Discord or any OpenID Connect provider below.</Empty>
      )}
      {providers.data !== undefined && providers.data.length > 0 && (
        <Table.ScrollContainer minWidth={720}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Provider</Table.Th>
                <Table.Th>Redirect URI</Table.Th>
                <Table.Th>New accounts</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {providers.data.map((provider) => (
                <Table.Tr key={provider.id}>
                  <Table.Td>
                    <Group gap="xs">
                      <Text size="sm" fw={500}>
                        {provider.name}
                      </Text>
                      {!provider.enabled && <Badge color="gray">off</Badge>}
                    </Group>
                    <Text size="xs" c="dimmed">
                      {provider.kind}
                      {provider.issuer !== null && ` · ${provider.issuer}`}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Code style={{ wordBreak: 'break-all' }}>{provider.redirect_uri}</Code>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">
                      {provider.auto_provision
                        ? `opened${provider.default_role !== null ? ` as ${provider.default_role}` : ''}`
                        : 'linked only'}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      <Button
                        size="xs"
                        variant="default"
                        loading={toggle.isPending && toggle.variables.id === provider.id}
                        onClick={() => toggle.mutate(provider)}
                      >
                        {provider.enabled ? 'Turn off' : 'Turn on'}
                      </Button>
                      <Button
                        size="xs"
                        variant="light"
                        color="red"
                        loading={remove.isPending && remove.variables === provider.id}
                        onClick={() => {
                          if (window.confirm(`Remove ${provider.name}? Every account's link to it goes too.`)) {
                            remove.mutate(provider.id);
                          }
                        }}
                      >
                        Remove
                      </Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {toggle.isError && <ErrorNotice error={toggle.error} />}
      {remove.isError && <ErrorNotice error={remove.error} />}
      <AddProvider onAdded={() => void refresh()} />
    </Stack>
  );
}

function AddProvider({ onAdded }: { onAdded: () => void }) {
  const [kind, setKind] = useState<string>('oidc');
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [issuer, setIssuer] = useState('');
  const [clientId, setClientId] = useState('');
  const [secret, setSecret] = useState('');
  const [scopes, setScopes] = useState('');
  const [autoProvision, setAutoProvision] = useState(false);
  const [roleClaim, setRoleClaim] = useState('');
  const [roleMap, setRoleMap] = useState('');
  const [defaultRole, setDefaultRole] = useState('');
  const add = useMutation({
    mutationFn: () =>
      api('POST', PATH, {
        id,
        name,
        kind,
        issuer: kind === 'oidc' ? issuer : null,
        client_id: clientId,
        client_secret: secret,
        scopes,
        auto_provision: autoProvision,
        role_claim: roleClaim,
        role_map: parseRoleMap(roleMap),
        default_role: defaultRole,
      }),
    onSuccess: () => {
      setSecret('');
      onAdded();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate();
  };
  return (
    <Paper withBorder p="md">
      <form onSubmit={submit}>
        <Stack maw={560}>
          <Title order={3}>Add a provider</Title>
          <Select
            label="Kind"
            data={KINDS}
            value={kind}
            onChange={(value) => setKind(value ?? 'oidc')}
            allowDeselect={false}
          />
          <Group grow>
            <TextInput
              label="Id"
              description="In the redirect URI: lowercase letters, digits, hyphens"
              required
              value={id}
              onChange={(event) => setId(event.currentTarget.value)}
            />
            <TextInput
              label="Button label"
              required
              value={name}
              onChange={(event) => setName(event.currentTarget.value)}
            />
          </Group>
          {kind === 'oidc' && (
            <TextInput
              label="Issuer"
              description="Exactly as the provider names itself, e.g. https://sso.example.com/realms/games"
              required
              value={issuer}
              onChange={(event) => setIssuer(event.currentTarget.value)}
            />
          )}
          <TextInput
            label="Client id"
            required
            value={clientId}
            onChange={(event) => setClientId(event.currentTarget.value)}
          />
          <PasswordInput
            label="Client secret"
            description="Kept sealed; never shown again"
            required
            value={secret}
            onChange={(event) => setSecret(event.currentTarget.value)}
          />
          <TextInput
            label="Scopes"
            placeholder="the provider's usual ones"
            value={scopes}
            onChange={(event) => setScopes(event.currentTarget.value)}
          />
          <Checkbox
            label="Open an account for someone new (only with an address the provider verified)"
            checked={autoProvision}
            onChange={(event) => setAutoProvision(event.currentTarget.checked)}
          />
          {autoProvision && (
            <>
              <TextInput
                label="Role claim"
                placeholder="groups"
                value={roleClaim}
                onChange={(event) => setRoleClaim(event.currentTarget.value)}
              />
              <Textarea
                label="Claim values to roles"
                description="One per line: ops=operators"
                autosize
                minRows={2}
                value={roleMap}
                onChange={(event) => setRoleMap(event.currentTarget.value)}
              />
              <TextInput
                label="Role when nothing matches"
                placeholder="none"
                value={defaultRole}
                onChange={(event) => setDefaultRole(event.currentTarget.value)}
              />
            </>
          )}
          {add.isError && <ErrorNotice error={add.error} />}
          {add.isSuccess && <Alert color="green">Added. Register its redirect URI with the provider.</Alert>}
          <Group>
            <Button type="submit" loading={add.isPending}>
              Add provider
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}
