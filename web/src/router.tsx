import { createBrowserRouter } from 'react-router';

import { Layout } from './pages/Layout';
import { NotFound, RouteError } from './pages/NotFound';
import { PluginAdminPage, PluginServerTab } from './pages/PluginPage';
import { ResetPassword } from './pages/ResetPassword';
import { SecondFactor } from './pages/SecondFactor';
import { Setup } from './pages/Setup';
import { Security } from './pages/Security';
import { Servers } from './pages/Servers';
import { SignIn } from './pages/SignIn';
import { SignInProviders } from './pages/SignInProviders';
import { ActivityPage } from './pages/server/Activity';
import { NetworkPage } from './pages/server/Network';
import { ServerLayout } from './pages/server/ServerLayout';
import { SettingsPage } from './pages/server/Settings';
import { StartupPage } from './pages/server/Startup';
import { UsersPage } from './pages/server/Users';

type AdminPages = typeof import('./pages/admin');

/** An admin page from the admin chunk, loaded when first opened. */
function admin(page: keyof AdminPages) {
  return () => import('./pages/admin').then((pages) => ({ Component: pages[page] }));
}

export const router = createBrowserRouter([
  { path: '/sign-in', element: <SignIn /> },
  { path: '/sign-in/second-factor', element: <SecondFactor /> },
  { path: '/reset-password', element: <ResetPassword /> },
  { path: '/setup', element: <Setup /> },
  {
    element: <Layout />,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <Servers /> },
      { path: '/servers', element: <Servers /> },
      {
        path: '/servers/:id',
        element: <ServerLayout />,
        children: [
          // The console carries xterm.js; it loads when first opened.
          { index: true, lazy: () => import('./pages/server/Console').then((module) => ({ Component: module.default })) },
          { path: 'startup', element: <StartupPage /> },
          { path: 'network', element: <NetworkPage /> },
          { path: 'users', element: <UsersPage /> },
          { path: 'settings', element: <SettingsPage /> },
          { path: 'activity', element: <ActivityPage /> },
          { path: 'p/:plugin/:page', element: <PluginServerTab /> },
        ],
      },
      { path: '/account/security', element: <Security /> },
      { path: '/admin/sign-in-providers', element: <SignInProviders /> },
      { path: '/admin', lazy: admin('OverviewPage') },
      { path: '/admin/servers', lazy: admin('AdminServersPage') },
      { path: '/admin/servers/new', lazy: admin('CreateServerPage') },
      { path: '/admin/nodes', lazy: admin('NodesPage') },
      { path: '/admin/nodes/:node', lazy: admin('NodePage') },
      { path: '/admin/eggs', lazy: admin('EggsPage') },
      { path: '/admin/users', lazy: admin('UsersPage') },
      { path: '/admin/roles', lazy: admin('RolesPage') },
      { path: '/admin/activity', lazy: admin('AdminActivityPage') },
      { path: '/admin/plugins', lazy: admin('PluginsPage') },
      { path: '/admin/p/:plugin/:page', element: <PluginAdminPage /> },
      { path: '*', element: <NotFound /> },
    ],
  },
]);
