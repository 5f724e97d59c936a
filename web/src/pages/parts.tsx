import { Alert, Button, Center, Group, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';

import { ApiError } from '../lib/api';

/** A failed request, said plainly. */
export function ErrorNotice({ error }: { error: unknown }) {
  const message =
    error instanceof ApiError || error instanceof Error ? error.message : 'Something went wrong.';
  return (
    <Alert color="red" title="That did not work" role="alert">
      {message}
    </Alert>
  );
}

/** What a list shows when it has nothing yet. */
export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Center py="xl">
      <Stack gap={4} align="center">
        <Text fw={500}>{title}</Text>
        {children !== undefined && (
          <Text size="sm" c="dimmed" ta="center">
            {children}
          </Text>
        )}
      </Stack>
    </Center>
  );
}

/** Seconds since the epoch, or an ISO date, in the reader's words. */
export function When({ at }: { at: number | string | null | undefined }) {
  if (at === null || at === undefined) {
    return <>never</>;
  }
  const date = typeof at === 'number' ? new Date(at * 1000) : new Date(at);
  return <time dateTime={date.toISOString()}>{date.toLocaleString()}</time>;
}

/** A dialog form's buttons: cancel, and submit (busy while `saving`). */
export function FormButtons(props: { onCancel: () => void; saving: boolean; submit?: string }) {
  return (
    <Group justify="flex-end">
      <Button variant="default" onClick={props.onCancel}>
        Cancel
      </Button>
      <Button type="submit" loading={props.saving}>
        {props.submit ?? 'Save'}
      </Button>
    </Group>
  );
}
