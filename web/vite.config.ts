import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

// `npm run dev` serves the app with hot reload and sends API calls to a running panel
// (HATCHERY_URL, default http://127.0.0.1:8000).
const panel = process.env.HATCHERY_URL ?? 'http://127.0.0.1:8000';

/**
 * In dev mode the panel is not the one serving index.html, so this adds the import map
 * it would: plugin modules get the app's own React and `@hatchery/ui` (from source).
 */
const devImportMap: Plugin = {
  name: 'hatchery-dev-import-map',
  apply: 'serve',
  transformIndexHtml: () => [
    {
      tag: 'script',
      attrs: { type: 'importmap' },
      children: JSON.stringify({
        imports: {
          react: '/src/shared/react.ts',
          'react/jsx-runtime': '/src/shared/jsx-runtime.ts',
          '@hatchery/ui': '/src/shared/hatchery-ui.ts',
        },
      }),
      injectTo: 'head-prepend',
    },
  ],
};

export default defineConfig({
  plugins: [react(), devImportMap],
  build: {
    // Hashed file names: the panel serves them as immutable.
    assetsDir: 'assets',
    sourcemap: false,
    rolldownOptions: {
      input: {
        main: 'index.html',
        // The page a sandboxed plugin UI runs in.
        frame: 'frame.html',
        // Modules plugins import through the import map; their names stay fixed.
        'shared/react': 'src/shared/react.ts',
        'shared/jsx-runtime': 'src/shared/jsx-runtime.ts',
        'shared/hatchery-ui': 'src/shared/hatchery-ui.ts',
      },
      preserveEntrySignatures: 'strict',
      output: {
        entryFileNames: (chunk) => (chunk.name.startsWith('shared/') ? '[name].js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: panel, ws: true },
      '/plugin-assets': panel,
      '/plugin-frame': panel,
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts', 'plugins/**/*.test.ts'],
  },
});
