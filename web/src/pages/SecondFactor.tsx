import { Alert, Button, Center, Code, List, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';

import { ApiError, type Data, api } from '../lib/api';
import { safeRedirect } from '../lib/signInErrors';
import { assertionJson, passkeysSupported, requestOptions } from '../lib/webauthn';

interface Enrolment {
  secret: string;
  uri: string;
}

interface Finished {
  complete: boolean;
  recovery_codes?: string[];
}

/** The second step of a sign-in: an authenticator code or a recovery code, or, for a
 * role that requires one, setting the app up first. */
export function SecondFactor() {
  const [params] = useSearchParams();
  const challenge = params.get('challenge') ?? '';
  const mustEnrol = params.get('owed') === 'enrol';
  const redirect = safeRedirect(params.get('redirect'));
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : 'That did not work.');
    } finally {
      setBusy(false);
    }
  };

  const enrol = () =>
    run(async () => {
      const answer = await api<Data<Enrolment>>('POST', '/api/auth/core-auth/second-factor/enrol', {
        challenge,
      });
      setEnrolment(answer.data);
    });

  const finish = async (body: Record<string, unknown>) => {
    const answer = await api<Data<Finished>>('POST', '/api/auth/core-auth/second-factor', {
      challenge,
      ...body,
    });
    await queries.invalidateQueries({ queryKey: ['account'] });
    if (answer.data.recovery_codes !== undefined) {
      setRecoveryCodes(answer.data.recovery_codes);
    } else {
      await navigate(redirect, { replace: true });
    }
  };

  const securityKey = () =>
    run(async () => {
      const started = await api<Data<{ ceremony: string; options: Record<string, unknown> }>>(
        'POST',
        '/api/auth/core-auth/second-factor/webauthn',
        { challenge },
      );
      const credential = await navigator.credentials.get(requestOptions(started.data.options));
      if (credential !== null) {
        await finish({
          ceremony: started.data.ceremony,
          credential: assertionJson(credential as PublicKeyCredential),
        });
      }
    });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(() => finish({ code: code.replace(/\s/g, '') }));
  };

  if (challenge === '') {
    return (
      <Center mih="100vh" p="md">
        <Alert color="red">
          This sign-in has no challenge. <Link to="/sign-in">Sign in again</Link>.
        </Alert>
      </Center>
    );
  }

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={460}>
        {recoveryCodes !== null ? (
          <Stack>
            <Title order={2}>Keep your recovery codes</Title>
            <Text size="sm">
              Each code signs you in once if you lose your authenticator. They are shown only
              now: store them somewhere safe.
            </Text>
            <List>
              {recoveryCodes.map((recovery) => (
                <List.Item key={recovery}>
                  <Code>{recovery}</Code>
                </List.Item>
              ))}
            </List>
            <Button onClick={() => void navigate(redirect, { replace: true })}>Continue</Button>
          </Stack>
        ) : (
          <form onSubmit={submit}>
            <Stack>
              <Title order={2}>Second step</Title>
              {mustEnrol && enrolment === null && (
                <>
                  <Text size="sm">
                    Your role requires an authenticator app. Set one up to finish signing in.
                  </Text>
                  <Button onClick={() => void enrol()} loading={busy}>
                    Set up an authenticator app
                  </Button>
                </>
              )}
              {enrolment !== null && (
                <Text size="sm">
                  Add this key to your authenticator app (or open{' '}
                  <a href={enrolment.uri}>the setup link</a> on this device), then type the code
                  it shows: <Code>{enrolment.secret}</Code>
                </Text>
              )}
              {(!mustEnrol || enrolment !== null) && (
                <>
                  <TextInput
                    label={mustEnrol ? 'Code from the app' : 'Authenticator code or recovery code'}
                    autoComplete="one-time-code"
                    inputMode={mustEnrol ? 'numeric' : 'text'}
                    required
                    autoFocus
                    value={code}
                    onChange={(event) => setCode(event.currentTarget.value)}
                  />
                  <Button type="submit" loading={busy}>
                    Continue
                  </Button>
                  {!mustEnrol && passkeysSupported() && (
                    <Button variant="default" loading={busy} onClick={() => void securityKey()}>
                      Use a security key or passkey
                    </Button>
                  )}
                </>
              )}
              {error !== null && (
                <Alert color="red" role="alert">
                  {error} {error.includes('expired') && <Link to="/sign-in">Sign in again</Link>}
                </Alert>
              )}
            </Stack>
          </form>
        )}
      </Paper>
    </Center>
  );
}
