import { Button, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';

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
