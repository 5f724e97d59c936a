import {
  Alert,
  Anchor,
  Button,
  Center,
  Divider,
  Loader,
  Paper,
  PasswordInput,
  Stack,
  TextInput,
  Title,
} from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';

import { ApiError, type Data, api } from '../lib/api';
import { safeRedirect, signInError } from '../lib/signInErrors';
import { assertionJson, passkeysSupported, requestOptions } from '../lib/webauthn';
import { ErrorNotice } from './parts';

/** A way to sign in, as `GET /api/auth/methods` lists them. */
interface Method {
  plugin: string;
  id: string;
  label: string;
  kind: 'form' | 'redirect' | 'passkey';
  start: string;
}

/** What a password sign-in answers. */
export interface SignInAnswer {
  complete: boolean;
  second_factor?: string;
  challenge?: string;
}

export function SignIn() {
  const [params] = useSearchParams();
  const redirect = safeRedirect(params.get('redirect'));
  const methods = useQuery({
    queryKey: ['sign-in-methods'],
    queryFn: () => api<Data<Method[]>>('GET', '/api/auth/methods').then((answer) => answer.data),
  });
  const passwordForm = methods.data?.find((method) => method.kind === 'form');
  const providers = methods.data?.filter((method) => method.kind === 'redirect') ?? [];
  const passkey = passkeysSupported()
    ? methods.data?.find((method) => method.kind === 'passkey')
    : undefined;
  const refused = signInError(params.get('error'));

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={420}>
        <Stack>
          <Title order={2}>Sign in to Hatchery</Title>
          {refused !== null && (
            <Alert color="red" role="alert">
              {refused}
            </Alert>
          )}
          {methods.isPending && <Loader aria-label="Loading sign-in methods" />}
          {methods.isError && <ErrorNotice error={methods.error} />}
          {passwordForm !== undefined && <PasswordForm method={passwordForm} redirect={redirect} />}
          {(providers.length > 0 || passkey !== undefined) && passwordForm !== undefined && (
            <Divider label="or" />
          )}
          {passkey !== undefined && <PasskeyButton method={passkey} redirect={redirect} />}
          {providers.map((provider) => (
            <Button
              key={`${provider.plugin}/${provider.id}`}
              component="a"
              variant="default"
              href={`${provider.start}?redirect=${encodeURIComponent(redirect)}`}
            >
              Sign in with {provider.label}
            </Button>
          ))}
          {methods.data !== undefined && methods.data.length === 0 && (
            <Alert color="yellow">
              No sign-in method is enabled. An administrator enables the core-auth plugin:
              <code> hatchery plugin enable core-auth</code>.
            </Alert>
          )}
        </Stack>
      </Paper>
    </Center>
  );
}

/** Passwordless: any passkey this browser or a security key holds for the panel. */
function PasskeyButton({ method, redirect }: { method: Method; redirect: string }) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const signIn = async () => {
    setBusy(true);
    setError(null);
    try {
      const started = await api<Data<{ ceremony: string; options: Record<string, unknown> }>>(
        'POST',
        method.start,
        {},
      );
      const credential = await navigator.credentials.get(requestOptions(started.data.options));
      if (credential === null) {
        return;
      }
      await api('POST', `${method.start}/finish`, {
        ceremony: started.data.ceremony,
        credential: assertionJson(credential as PublicKeyCredential),
        redirect,
      });
      await queries.invalidateQueries({ queryKey: ['account'] });
      await navigate(redirect, { replace: true });
    } catch (failure) {
      if (failure instanceof DOMException && failure.name === 'NotAllowedError') {
        setError('The passkey sign-in was cancelled or timed out.');
      } else {
        setError(failure instanceof Error ? failure.message : 'The passkey was not accepted.');
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <Stack gap="xs">
      <Button variant="default" loading={busy} onClick={() => void signIn()}>
        Sign in with a passkey
      </Button>
      {error !== null && (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      )}
    </Stack>
  );
}

function PasswordForm({ method, redirect }: { method: Method; redirect: string }) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api<Data<SignInAnswer>>('POST', method.start, {
        user: login,
        password,
      });
      if (answer.data.complete) {
        await queries.invalidateQueries({ queryKey: ['account'] });
        await navigate(redirect, { replace: true });
      } else if (answer.data.challenge !== undefined) {
        const next = new URLSearchParams({
          challenge: answer.data.challenge,
          owed: answer.data.second_factor ?? 'code',
          redirect,
        });
        await navigate(`/sign-in/second-factor?${next.toString()}`);
      }
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : 'Signing in did not work.');
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(event) => void submit(event)}>
      <Stack>
        <TextInput
          label="Username or e-mail"
          autoComplete="username"
          required
          value={login}
          onChange={(event) => setLogin(event.currentTarget.value)}
        />
        <PasswordInput
          label="Password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.currentTarget.value)}
        />
        {error !== null && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Button type="submit" loading={busy}>
          Sign in
        </Button>
        <Anchor size="sm" component={Link} to="/reset-password">
          Forgot your password?
        </Anchor>
      </Stack>
    </form>
  );
}
