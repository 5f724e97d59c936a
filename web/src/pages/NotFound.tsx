import { Button, Code, Group, Stack, Text, Title } from '@mantine/core';
import { Link, useRouteError } from 'react-router';

export function NotFound() {
  return (
    <Stack align="flex-start">
      <Title order={2}>Nothing here</Title>
      <Text c="dimmed">This page does not exist, or is not yours to see.</Text>
      <Button component={Link} to="/">
        Back to your servers
      </Button>
    </Stack>
  );
}

/** A page that failed to render: said plainly, with a way out, never a blank screen. */
export function RouteError() {
  const error = useRouteError();
  const message = error instanceof Error ? error.message : String(error);
  return (
    <Stack align="flex-start" p="md">
      <Title order={2}>This page broke</Title>
      <Text c="dimmed">
        Something on this page failed. Reloading often helps; if it keeps happening, tell your
        administrator what it said:
      </Text>
      <Code block>{message}</Code>
      <Group>
        <Button onClick={() => window.location.reload()}>Reload</Button>
        <Button component={Link} to="/" variant="default">
          Back to your servers
        </Button>
      </Group>
    </Stack>
  );
}
