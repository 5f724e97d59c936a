import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import { Link, useSearchParams } from 'react-router';

import { ApiError, api } from '../lib/api';

/** A forgotten password: ask for a link by e-mail, or, with the link's token, choose a
 * new password. */
export function ResetPassword() {
  const [params] = useSearchParams();
  const token = params.get('token');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (token === null) {
        await api('POST', '/api/auth/core-auth/password/reset', { email: value });
      } else {
        await api('POST', '/api/auth/core-auth/password/reset/confirm', { token, password: value });
      }
      setDone(true);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : 'That did not work.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={420}>
        <form onSubmit={(event) => void submit(event)}>
          <Stack>
            <Title order={2}>{token === null ? 'Forgot your password?' : 'Choose a new password'}</Title>
            {done ? (
              <Alert color="green">
                {token === null
                  ? 'If that address has an account, a link is on its way. It works for an hour.'
                  : 'Your password is changed and every browser was signed out.'}{' '}
                <Link to="/sign-in">Sign in</Link>
              </Alert>
            ) : (
              <>
                {token === null ? (
                  <TextInput
                    label="E-mail address"
                    type="email"
                    autoComplete="email"
                    required
                    value={value}
                    onChange={(event) => setValue(event.currentTarget.value)}
                  />
                ) : (
                  <PasswordInput
                    label="New password"
                    autoComplete="new-password"
                    required
                    value={value}
                    onChange={(event) => setValue(event.currentTarget.value)}
                  />
                )}
                {error !== null && (
                  <Alert color="red" role="alert">
                    {error}
                  </Alert>
                )}
                <Button type="submit" loading={busy}>
                  {token === null ? 'Send the link' : 'Change the password'}
                </Button>
                <Text size="sm">
                  <Link to="/sign-in">Back to signing in</Link>
                </Text>
              </>
            )}
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
