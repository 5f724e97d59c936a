import {
  ActionIcon,
  AppShell,
  Burger,
  Button,
  Center,
  Group,
  Loader,
  NavLink,
  Text,
  Title,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQueryClient } from '@tanstack/react-query';
import { Link, Navigate, Outlet, useLocation, useNavigate } from 'react-router';

import { ApiError, api } from '../lib/api';
import { useAccount } from '../lib/account';
import { ErrorNotice } from './parts';

const NAVIGATION = [
  { to: '/', label: 'Servers', admin: false },
  { to: '/account/security', label: 'Account security', admin: false },
  { to: '/admin/sign-in-providers', label: 'Sign-in providers', admin: true },
];

/** Pages for signed-in people: the shell, or off to the sign-in page. */
export function Layout() {
  const account = useAccount();
  const location = useLocation();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [opened, { toggle, close }] = useDisclosure();
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme('light');

  if (account.isPending) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (account.error instanceof ApiError && account.error.status === 401) {
    const back = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/sign-in?redirect=${back}`} replace />;
  }
  if (account.isError) {
    return (
      <Center h="100vh" p="md">
        <ErrorNotice error={account.error} />
      </Center>
    );
  }

  const signOut = async () => {
    await api('POST', '/api/auth/logout').catch(() => undefined);
    queries.clear();
    await navigate('/sign-in');
  };

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            <Title order={4}>Hatchery</Title>
          </Group>
          <Group gap="sm">
            <ActionIcon
              variant="subtle"
              aria-label={scheme === 'dark' ? 'Use the light theme' : 'Use the dark theme'}
              title={scheme === 'dark' ? 'Light theme' : 'Dark theme'}
              onClick={() => setColorScheme(scheme === 'dark' ? 'light' : 'dark')}
            >
              {scheme === 'dark' ? '☀' : '☾'}
            </ActionIcon>
            <Text size="sm" c="dimmed" visibleFrom="xs">
              {account.data.username}
            </Text>
            <Button variant="subtle" size="xs" onClick={() => void signOut()}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        {NAVIGATION.filter((item) => !item.admin || account.data.admin).map((item) => (
          <NavLink
            key={item.to}
            component={Link}
            to={item.to}
            label={item.label}
            active={
              item.to === '/'
                ? location.pathname === '/' || location.pathname.startsWith('/servers')
                : location.pathname.startsWith(item.to)
            }
            onClick={close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
