import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';

import { api, fieldError as fieldErrorOf, unplacedError } from '../lib/api';
import { ErrorNotice } from './parts';

/** First start: the link in the panel's log creates the first administrator, once. */
export function Setup() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [form, setForm] = useState({ username: '', email: '', password: '', again: '' });
  const create = useMutation({
    mutationFn: () =>
      api('POST', '/api/setup', { token, username: form.username, email: form.email, password: form.password }),
    onSuccess: async () => {
      queries.clear();
      await navigate('/', { replace: true });
    },
  });
  const fieldError = (field: string) => fieldErrorOf(create.error, field);
  const mismatch = form.again !== '' && form.again !== form.password ? 'The two passwords differ.' : undefined;

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={420}>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (mismatch === undefined) {
              create.mutate();
            }
          }}
        >
          <Stack>
            <Title order={2}>Create the first administrator</Title>
            <Text size="sm" c="dimmed">
              This link works once. Afterwards, administrators add everyone else.
            </Text>
            {token === '' && (
              <Alert color="orange" role="alert">
                This page needs the link printed in the panel's log (it ends in <code>?token=…</code>). Without it, run{' '}
                <code>hatchery user create --admin</code>.
              </Alert>
            )}
            <TextInput
              label="Username"
              autoComplete="username"
              required
              value={form.username}
              onChange={(event) => setForm({ ...form, username: event.currentTarget.value })}
              error={fieldError('username')}
              data-autofocus
            />
            <TextInput
              label="E-mail"
              type="email"
              autoComplete="email"
              required
              value={form.email}
              onChange={(event) => setForm({ ...form, email: event.currentTarget.value })}
              error={fieldError('email')}
            />
            <PasswordInput
              label="Password"
              autoComplete="new-password"
              required
              value={form.password}
              onChange={(event) => setForm({ ...form, password: event.currentTarget.value })}
              error={fieldError('password')}
            />
            <PasswordInput
              label="Password again"
              autoComplete="new-password"
              required
              value={form.again}
              onChange={(event) => setForm({ ...form, again: event.currentTarget.value })}
              error={mismatch}
            />
            {unplacedError(create.error, ['username', 'email', 'password']) && <ErrorNotice error={create.error} />}
            <Button type="submit" loading={create.isPending} disabled={token === ''}>
              Create administrator
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
