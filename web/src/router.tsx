import { createBrowserRouter } from 'react-router';

import { Layout } from './pages/Layout';
import { NotFound } from './pages/NotFound';
import { ResetPassword } from './pages/ResetPassword';
import { SecondFactor } from './pages/SecondFactor';
import { Security } from './pages/Security';
import { Servers } from './pages/Servers';
import { SignIn } from './pages/SignIn';
import { SignInProviders } from './pages/SignInProviders';

export const router = createBrowserRouter([
  { path: '/sign-in', element: <SignIn /> },
  { path: '/sign-in/second-factor', element: <SecondFactor /> },
  { path: '/reset-password', element: <ResetPassword /> },
  {
    element: <Layout />,
    children: [
      { index: true, element: <Servers /> },
      { path: '/servers', element: <Servers /> },
      { path: '/account/security', element: <Security /> },
      { path: '/admin/sign-in-providers', element: <SignInProviders /> },
      { path: '*', element: <NotFound /> },
    ],
  },
]);
