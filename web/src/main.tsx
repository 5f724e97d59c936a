import '@mantine/core/styles.css';

import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';

import { router } from './router';

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      // A 401 or 403 will not change by asking again.
      retry: (failures, error) =>
        failures < 2 && !('status' in error && [401, 403, 404].includes(error.status as number)),
      refetchOnWindowFocus: true,
    },
  },
});

const root = document.getElementById('root');
if (root === null) {
  throw new Error('index.html has no #root');
}
createRoot(root).render(
  <StrictMode>
    <MantineProvider defaultColorScheme="auto">
      <QueryClientProvider client={queries}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
