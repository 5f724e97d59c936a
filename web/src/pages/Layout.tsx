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
import { mayAdminister, useAccount } from '../lib/account';
import { pagePath, useContributions } from '../lib/slots';
import { ErrorNotice } from './parts';

/** Where people go; admin pages show to those holding the permission named. */
const NAVIGATION: { to: string; label: string; permission: string | null }[] = [
  { to: '/', label: 'Servers', permission: null },
  { to: '/account/security', label: 'Account security', permission: null },
];

const ADMINISTRATION: { to: string; label: string; permission: string }[] = [
  { to: '/admin', label: 'Overview', permission: 'servers.read' },
  { to: '/admin/servers', label: 'Servers', permission: 'servers.read' },
  { to: '/admin/nodes', label: 'Nodes', permission: 'nodes.read' },
  { to: '/admin/eggs', label: 'Eggs', permission: 'eggs.read' },
  { to: '/admin/users', label: 'Users', permission: 'users.read' },
  { to: '/admin/roles', label: 'Roles', permission: 'roles.read' },
  { to: '/admin/activity', label: 'Activity', permission: 'activity.read' },
  { to: '/admin/plugins', label: 'Plugins', permission: 'plugins.manage' },
  { to: '/admin/sign-in-providers', label: 'Sign-in providers', permission: 'core-auth.oauth-providers' },
];

/** Pages for signed-in people: the shell, or off to the sign-in page. */
export function Layout() {
  const account = useAccount();
  const location = useLocation();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [opened, { toggle, close }] = useDisclosure();
  const pluginPages = useContributions('admin.pages/v1');
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

  const administration = [
    ...ADMINISTRATION.filter((item) => mayAdminister(account.data, item.permission)),
    // The host lists only the pages whose permission the person holds.
    ...(pluginPages.data ?? []).map((page) => ({
      to: `/admin/p/${page.plugin}/${pagePath(page)}`,
      label: page.title,
      permission: '',
    })),
  ];

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
        {NAVIGATION.map((item) => (
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
        {administration.length > 0 && (
          <Text size="xs" fw={600} c="dimmed" tt="uppercase" px="sm" pt="md" pb={4}>
            Administration
          </Text>
        )}
        {administration.map((item) => (
          <NavLink
            key={item.to}
            component={Link}
            to={item.to}
            label={item.label}
            active={item.to === '/admin' ? location.pathname === '/admin' : location.pathname.startsWith(item.to)}
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
