import {
  Alert,
  Badge,
  Button,
  Code,
  Group,
  Loader,
  Paper,
  PasswordInput,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type ReactNode, useState } from 'react';
import { useSearchParams } from 'react-router';

import { type Data, api } from '../lib/api';
import { signInError } from '../lib/signInErrors';
import { creationOptions, passkeysSupported, registrationJson } from '../lib/webauthn';
import { Empty, ErrorNotice, When } from './parts';

/** Account → Security: password, browsers, API keys, SSH keys, linked identities. */
export function Security() {
  const [params] = useSearchParams();
  const linked = params.get('linked');
  const refused = signInError(params.get('error'));
  return (
    <Stack maw={960}>
      <Title order={2}>Account security</Title>
      {linked !== null && <Alert color="green">Linked: you can now sign in with {linked}.</Alert>}
      {refused !== null && (
        <Alert color="red" role="alert">
          {refused}
        </Alert>
      )}
      <Password />
      <Sessions />
      <AuthenticatorApp />
      <Passkeys />
      <ApiKeys />
      <SshKeys />
      <LinkedAccounts />
    </Stack>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="md">
      <Stack>
        <Title order={3}>{title}</Title>
        {children}
      </Stack>
    </Paper>
  );
}

/** A request that changes something, then refreshes what it changed. */
function useChange<T>(key: string, run: (input: T) => Promise<unknown>) {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: () => queries.invalidateQueries({ queryKey: [key] }),
  });
}

function Password() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const change = useChange('sessions', () =>
    api('PUT', '/api/auth/core-auth/password', { current_password: current, password: next }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate(undefined, {
      onSuccess: () => {
        setCurrent('');
        setNext('');
      },
    });
  };
  return (
    <Section title="Password">
      <form onSubmit={submit}>
        <Stack maw={420}>
          <PasswordInput
            label="Current password"
            autoComplete="current-password"
            value={current}
            onChange={(event) => setCurrent(event.currentTarget.value)}
          />
          <PasswordInput
            label="New password"
            autoComplete="new-password"
            required
            value={next}
            onChange={(event) => setNext(event.currentTarget.value)}
          />
          {change.isError && <ErrorNotice error={change.error} />}
          {change.isSuccess && (
            <Alert color="green">Changed. Every other browser was signed out.</Alert>
          )}
          <Group>
            <Button type="submit" loading={change.isPending}>
              Change password
            </Button>
          </Group>
        </Stack>
      </form>
    </Section>
  );
}

interface Session {
  id: number;
  ip: string | null;
  user_agent: string | null;
  last_seen_at: number;
  created_at: number;
  current: boolean;
  impersonator_id: number | null;
}

function Sessions() {
  const sessions = useQuery({
    queryKey: ['sessions'],
    queryFn: () =>
      api<Data<Session[]>>('GET', '/api/auth/core-auth/sessions').then((answer) => answer.data),
  });
  const signOut = useChange('sessions', (id: number) =>
    api('DELETE', `/api/auth/core-auth/sessions/${id}`),
  );
  const others = useChange('sessions', () =>
    api('POST', '/api/auth/core-auth/sessions/sign-out-others'),
  );
  return (
    <Section title="Signed-in browsers">
      {sessions.isPending && <Loader size="sm" aria-label="Loading sessions" />}
      {sessions.isError && <ErrorNotice error={sessions.error} />}
      {signOut.isError && <ErrorNotice error={signOut.error} />}
      {sessions.data !== undefined && (
        <Table.ScrollContainer minWidth={560}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Browser</Table.Th>
                <Table.Th>Address</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {sessions.data.map((session) => (
                <Table.Tr key={session.id}>
                  <Table.Td>
                    <Text size="sm" lineClamp={1}>
                      {session.user_agent ?? 'unknown'}
                    </Text>
                  </Table.Td>
                  <Table.Td>{session.ip ?? 'unknown'}</Table.Td>
                  <Table.Td>
                    <When at={session.last_seen_at} />
                  </Table.Td>
                  <Table.Td>
                    {session.current ? (
                      <Badge>This browser</Badge>
                    ) : (
                      <Button
                        size="xs"
                        variant="light"
                        color="red"
                        loading={signOut.isPending && signOut.variables === session.id}
                        onClick={() => signOut.mutate(session.id)}
                      >
                        Sign out
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Group>
        <Button variant="default" loading={others.isPending} onClick={() => others.mutate(undefined)}>
          Sign out everywhere else
        </Button>
      </Group>
    </Section>
  );
}

interface AppStatus {
  enabled: boolean;
  recovery_codes_left: number;
}

function RecoveryCodes({ codes }: { codes: string[] }) {
  return (
    <Alert color="green" title="Your recovery codes — store them now, they are not shown again">
      <Text size="sm">Each signs you in once if you lose the app.</Text>
      <Code block>{codes.join('\n')}</Code>
    </Alert>
  );
}

/** An authenticator app (TOTP) as the second step of signing in, with recovery codes. */
function AuthenticatorApp() {
  const status = useQuery({
    queryKey: ['totp'],
    queryFn: () =>
      api<Data<AppStatus>>('GET', '/api/auth/core-auth/totp').then((answer) => answer.data),
  });
  const [setup, setSetup] = useState<{ secret: string; uri: string } | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState('');
  const begin = useMutation({
    mutationFn: () =>
      api<Data<{ secret: string; uri: string }>>('POST', '/api/auth/core-auth/totp'),
    onSuccess: (answer) => {
      setCodes(null);
      setSetup(answer.data);
    },
  });
  const confirm = useChange('totp', () =>
    api<Data<{ recovery_codes: string[] }>>('POST', '/api/auth/core-auth/totp/confirm', {
      code,
    }).then((answer) => {
      setSetup(null);
      setCode('');
      setCodes(answer.data.recovery_codes);
    }),
  );
  const renew = useChange('totp', () =>
    api<Data<{ recovery_codes: string[] }>>('POST', '/api/auth/core-auth/totp/recovery-codes', {
      code,
    }).then((answer) => {
      setCode('');
      setCodes(answer.data.recovery_codes);
    }),
  );
  const remove = useChange('totp', () =>
    api('DELETE', '/api/auth/core-auth/totp', { code }).then(() => setCode('')),
  );
  const failure = begin.error ?? confirm.error ?? renew.error ?? remove.error;
  const codeField = (label: string) => (
    <TextInput
      label={label}
      autoComplete="one-time-code"
      w={220}
      value={code}
      onChange={(event) => setCode(event.currentTarget.value.replace(/\s/g, ''))}
    />
  );
  return (
    <Section title="Authenticator app">
      {status.isPending && <Loader size="sm" aria-label="Loading" />}
      {status.isError && <ErrorNotice error={status.error} />}
      {codes !== null && <RecoveryCodes codes={codes} />}
      {status.data?.enabled === false && setup === null && (
        <Group>
          <Text size="sm">Not set up: signing in needs only your password or a passkey.</Text>
          <Button loading={begin.isPending} onClick={() => begin.mutate()}>
            Set up an authenticator app
          </Button>
        </Group>
      )}
      {setup !== null && (
        <Stack>
          <Text size="sm">
            Add this key to your app (or open <a href={setup.uri}>the setup link</a> on this
            device), then type the code it shows:
          </Text>
          <Code block>{setup.secret}</Code>
          <Group align="flex-end">
            {codeField('Code from the app')}
            <Button loading={confirm.isPending} onClick={() => confirm.mutate(undefined)}>
              Turn on
            </Button>
          </Group>
        </Stack>
      )}
      {status.data?.enabled === true && (
        <Stack>
          <Group>
            <Badge color="green">On</Badge>
            <Text size="sm">{status.data.recovery_codes_left} recovery codes left.</Text>
          </Group>
          <Group align="flex-end">
            {codeField('Current code')}
            <Button variant="default" loading={renew.isPending} onClick={() => renew.mutate(undefined)}>
              New recovery codes
            </Button>
            <Button color="red" variant="light" loading={remove.isPending} onClick={() => remove.mutate(undefined)}>
              Remove the app
            </Button>
          </Group>
        </Stack>
      )}
      {failure !== null && <ErrorNotice error={failure} />}
    </Section>
  );
}

interface Passkey {
  id: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

function Passkeys() {
  const passkeys = useQuery({
    queryKey: ['passkeys'],
    queryFn: () =>
      api<Data<Passkey[]>>('GET', '/api/auth/core-auth/passkeys').then((answer) => answer.data),
  });
  const [name, setName] = useState('');
  const add = useChange('passkeys', async () => {
    const started = await api<Data<{ ceremony: string; options: Record<string, unknown> }>>(
      'POST',
      '/api/auth/core-auth/passkeys',
    );
    const credential = await navigator.credentials.create(creationOptions(started.data.options));
    if (credential === null) {
      throw new Error('No passkey was made.');
    }
    await api('POST', '/api/auth/core-auth/passkeys/finish', {
      ceremony: started.data.ceremony,
      name,
      credential: registrationJson(credential as PublicKeyCredential),
    });
  });
  const rename = useChange('passkeys', (change: { id: number; name: string }) =>
    api('PATCH', `/api/auth/core-auth/passkeys/${change.id}`, { name: change.name }),
  );
  const remove = useChange('passkeys', (id: number) =>
    api('DELETE', `/api/auth/core-auth/passkeys/${id}`),
  );
  return (
    <Section title="Passkeys and security keys">
      {passkeys.isPending && <Loader size="sm" aria-label="Loading passkeys" />}
      {passkeys.isError && <ErrorNotice error={passkeys.error} />}
      {passkeys.data?.length === 0 && (
        <Empty title="No passkeys">
          A passkey signs you in without a password; a security key can be your second step.
        </Empty>
      )}
      {passkeys.data?.map((passkey) => (
        <PasskeyRow
          key={passkey.id}
          passkey={passkey}
          onRename={(next) => rename.mutate({ id: passkey.id, name: next })}
          onRemove={() => remove.mutate(passkey.id)}
          busy={
            (rename.isPending && rename.variables.id === passkey.id) ||
            (remove.isPending && remove.variables === passkey.id)
          }
        />
      ))}
      {rename.isError && <ErrorNotice error={rename.error} />}
      {remove.isError && <ErrorNotice error={remove.error} />}
      {passkeysSupported() ? (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            add.mutate(undefined, { onSuccess: () => setName('') });
          }}
        >
          <Group align="flex-end">
            <TextInput
              label="Passkey name"
              placeholder="Laptop"
              required
              value={name}
              onChange={(event) => setName(event.currentTarget.value)}
            />
            <Button type="submit" loading={add.isPending}>
              Add a passkey
            </Button>
          </Group>
        </form>
      ) : (
        <Text size="sm" c="dimmed">
          This browser cannot use passkeys.
        </Text>
      )}
      {add.isError && <ErrorNotice error={add.error} />}
    </Section>
  );
}

function PasskeyRow({
  passkey,
  onRename,
  onRemove,
  busy,
}: {
  passkey: Passkey;
  onRename: (name: string) => void;
  onRemove: () => void;
  busy: boolean;
}) {
  const [name, setName] = useState(passkey.name);
  return (
    <Group justify="space-between" wrap="nowrap" align="flex-end">
      <TextInput
        aria-label={`Name of passkey ${passkey.name}`}
        value={name}
        onChange={(event) => setName(event.currentTarget.value)}
        description={
          <>
            added <When at={passkey.created_at} /> · last used <When at={passkey.last_used_at} />
          </>
        }
      />
      <Group gap="xs" wrap="nowrap">
        {name !== passkey.name && name.trim() !== '' && (
          <Button size="xs" variant="light" loading={busy} onClick={() => onRename(name.trim())}>
            Rename
          </Button>
        )}
        <Button size="xs" variant="light" color="red" loading={busy} onClick={onRemove}>
          Remove
        </Button>
      </Group>
    </Group>
  );
}

interface ApiKey {
  identifier: string;
  description: string;
  admin: boolean;
  allowed_ips: string[];
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

function ApiKeys() {
  const keys = useQuery({
    queryKey: ['api-keys'],
    queryFn: () =>
      api<Data<ApiKey[]>>('GET', '/api/auth/core-auth/api-keys').then((answer) => answer.data),
  });
  const [description, setDescription] = useState('');
  const [days, setDays] = useState('');
  const [token, setToken] = useState<string | null>(null);
  const create = useChange('api-keys', () => {
    const body: Record<string, unknown> = { description };
    if (days.trim() !== '') {
      body.expires_in_days = Number(days);
    }
    return api<Data<{ token: string }>>('POST', '/api/auth/core-auth/api-keys', body).then(
      (answer) => setToken(answer.data.token),
    );
  });
  const revoke = useChange('api-keys', (identifier: string) =>
    api('DELETE', `/api/auth/core-auth/api-keys/${encodeURIComponent(identifier)}`),
  );
  return (
    <Section title="API keys">
      {token !== null && (
        <Alert color="green" title="Your new key — copy it now, it is not shown again">
          <Code block>{token}</Code>
        </Alert>
      )}
      {keys.isPending && <Loader size="sm" aria-label="Loading API keys" />}
      {keys.isError && <ErrorNotice error={keys.error} />}
      {keys.data?.length === 0 && <Empty title="No API keys">Scripts sign in with a key.</Empty>}
      {keys.data !== undefined && keys.data.length > 0 && (
        <Table.ScrollContainer minWidth={560}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Key</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th>Expires</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {keys.data.map((key) => (
                <Table.Tr key={key.identifier}>
                  <Table.Td>
                    <Text size="sm">{key.description || key.identifier}</Text>
                    <Text size="xs" c="dimmed">
                      {key.identifier}
                      {key.admin && ' · administrator'}
                      {key.allowed_ips.length > 0 && ` · from ${key.allowed_ips.join(', ')}`}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <When at={key.last_used_at} />
                  </Table.Td>
                  <Table.Td>{key.expires_at === null ? 'never' : <When at={key.expires_at} />}</Table.Td>
                  <Table.Td>
                    <Button
                      size="xs"
                      variant="light"
                      color="red"
                      loading={revoke.isPending && revoke.variables === key.identifier}
                      onClick={() => revoke.mutate(key.identifier)}
                    >
                      Revoke
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {revoke.isError && <ErrorNotice error={revoke.error} />}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setToken(null);
          create.mutate(undefined, { onSuccess: () => setDescription('') });
        }}
      >
        <Group align="flex-end">
          <TextInput
            label="What it is for"
            required
            value={description}
            onChange={(event) => setDescription(event.currentTarget.value)}
          />
          <TextInput
            label="Expires in days"
            placeholder="never"
            inputMode="numeric"
            w={140}
            value={days}
            onChange={(event) => setDays(event.currentTarget.value)}
          />
          <Button type="submit" loading={create.isPending}>
            Make a key
          </Button>
        </Group>
      </form>
      {create.isError && <ErrorNotice error={create.error} />}
    </Section>
  );
}

interface SshKey {
  id: number;
  name: string;
  fingerprint: string;
  created_at: number;
}

function SshKeys() {
  const keys = useQuery({
    queryKey: ['ssh-keys'],
    queryFn: () =>
      api<Data<SshKey[]>>('GET', '/api/client/account/ssh-keys').then((answer) => answer.data),
  });
  const [name, setName] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const add = useChange('ssh-keys', () =>
    api('POST', '/api/client/account/ssh-keys', { name, public_key: publicKey }),
  );
  const remove = useChange('ssh-keys', (fingerprint: string) =>
    api('POST', '/api/client/account/ssh-keys/remove', { fingerprint }),
  );
  return (
    <Section title="SSH keys for SFTP">
      {keys.isPending && <Loader size="sm" aria-label="Loading SSH keys" />}
      {keys.isError && <ErrorNotice error={keys.error} />}
      {keys.data?.length === 0 && (
        <Empty title="No SSH keys">Add one to use SFTP without your password.</Empty>
      )}
      {keys.data?.map((key) => (
        <Group key={key.fingerprint} justify="space-between" wrap="nowrap">
          <div>
            <Text size="sm">{key.name}</Text>
            <Text size="xs" c="dimmed" style={{ wordBreak: 'break-all' }}>
              {key.fingerprint} · added <When at={key.created_at} />
            </Text>
          </div>
          <Button
            size="xs"
            variant="light"
            color="red"
            loading={remove.isPending && remove.variables === key.fingerprint}
            onClick={() => remove.mutate(key.fingerprint)}
          >
            Remove
          </Button>
        </Group>
      ))}
      {remove.isError && <ErrorNotice error={remove.error} />}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          add.mutate(undefined, {
            onSuccess: () => {
              setName('');
              setPublicKey('');
            },
          });
        }}
      >
        <Stack maw={560}>
          <TextInput
            label="Name"
            required
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
          />
          <Textarea
            label="Public key"
            description="The contents of ~/.ssh/id_ed25519.pub, for example"
            required
            autosize
            minRows={2}
            value={publicKey}
            onChange={(event) => setPublicKey(event.currentTarget.value)}
          />
          {add.isError && <ErrorNotice error={add.error} />}
          <Group>
            <Button type="submit" loading={add.isPending}>
              Add key
            </Button>
          </Group>
        </Stack>
      </form>
    </Section>
  );
}

interface Provider {
  id: string;
  name: string;
}

interface Link {
  provider: string;
  name: string | null;
  email: string | null;
  linked_at: number;
  last_used_at: number | null;
}

function LinkedAccounts() {
  const providers = useQuery({
    queryKey: ['oauth-providers'],
    queryFn: () =>
      api<Data<Provider[]>>('GET', '/api/auth/core-auth/oauth/providers').then(
        (answer) => answer.data,
      ),
  });
  const links = useQuery({
    queryKey: ['oauth-links'],
    queryFn: () =>
      api<Data<Link[]>>('GET', '/api/auth/core-auth/oauth/links').then((answer) => answer.data),
  });
  const link = useMutation({
    mutationFn: (provider: string) =>
      api<Data<{ url: string }>>('POST', `/api/auth/core-auth/oauth/${provider}/link`),
    onSuccess: (answer) => window.location.assign(answer.data.url),
  });
  const unlink = useChange('oauth-links', (provider: string) =>
    api('DELETE', `/api/auth/core-auth/oauth/links/${provider}`),
  );
  if (providers.data?.length === 0) {
    return null;
  }
  const linkedIds = new Set(links.data?.map((each) => each.provider));
  return (
    <Section title="Linked sign-in providers">
      {(providers.isPending || links.isPending) && <Loader size="sm" aria-label="Loading" />}
      {providers.isError && <ErrorNotice error={providers.error} />}
      {links.data?.map((each) => (
        <Group key={each.provider} justify="space-between">
          <div>
            <Text size="sm">{each.name ?? each.provider}</Text>
            <Text size="xs" c="dimmed">
              {each.email ?? 'no e-mail'} · last used <When at={each.last_used_at} />
            </Text>
          </div>
          <Button
            size="xs"
            variant="light"
            color="red"
            loading={unlink.isPending && unlink.variables === each.provider}
            onClick={() => unlink.mutate(each.provider)}
          >
            Unlink
          </Button>
        </Group>
      ))}
      {unlink.isError && <ErrorNotice error={unlink.error} />}
      <Group>
        {providers.data
          ?.filter((provider) => !linkedIds.has(provider.id))
          .map((provider) => (
            <Button
              key={provider.id}
              variant="default"
              loading={link.isPending && link.variables === provider.id}
              onClick={() => link.mutate(provider.id)}
            >
              Link {provider.name}
            </Button>
          ))}
      </Group>
      {link.isError && <ErrorNotice error={link.error} />}
    </Section>
  );
}
