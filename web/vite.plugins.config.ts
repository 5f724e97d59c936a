import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// First-party plugins' browser code (`web/plugins/<id>/`), built with the panel's
// toolchain into the plugin's own `ui/` folder, which its package ships:
// `vite build -c vite.plugins.config.ts --mode <id>`. Like any third party's module it
// imports React and `@hatchery/ui` from the page's import map, so those stay external;
// everything else (CodeMirror, its languages) is bundled, in chunks loaded on demand.
export default defineConfig(({ mode: plugin }) => ({
  plugins: [react()],
  build: {
    outDir: resolve(import.meta.dirname, '../plugins', plugin, 'ui'),
    emptyOutDir: true,
    sourcemap: false,
    // The panel serves only `.js` files from `ui/`: styles live in the code.
    cssCodeSplit: false,
    lib: {
      entry: resolve(import.meta.dirname, 'plugins', plugin, 'index.tsx'),
      formats: ['es'],
      fileName: 'index',
    },
    rolldownOptions: {
      external: ['react', 'react/jsx-runtime', '@hatchery/ui'],
      // Minified whole (library builds keep their whitespace by default): it ships to browsers.
      output: { chunkFileNames: 'chunks/[name]-[hash].js', minify: true },
    },
  },
}));
