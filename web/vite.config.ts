import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// `npm run dev` serves the app with hot reload and sends API calls to a running panel
// (HATCHERY_URL, default http://127.0.0.1:8000).
const panel = process.env.HATCHERY_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
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
    include: ['src/**/*.test.ts'],
  },
});
