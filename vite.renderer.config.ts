// Builds only the renderer to out/renderer: used by `npm test` (the browser tests serve it) and by
// web mode (`qatwb serve`). electron.vite.config.ts reuses the aliases so both builds agree.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

const root = import.meta.dirname;

/** The renderer reaches src-main only through these pure folders (see tsconfig.web.json). */
export const rendererAliases = {
  '@contract': resolve(root, 'src-main/api/index.ts'),
  '@ir': resolve(root, 'src-main/ir'),
  '@rpc': resolve(root, 'src-main/rpc'),
  '@fixed-point': resolve(root, 'src-main/quant/fixed-point.ts'),
};

export default defineConfig({
  root: resolve(root, 'src-renderer'),
  // Relative asset URLs: the same build loads from file:// (Electron) and http:// (web mode).
  base: './',
  resolve: { alias: rendererAliases },
  plugins: [vue()],
  build: {
    outDir: resolve(root, 'out/renderer'),
    emptyOutDir: true,
    minify: true,
    chunkSizeWarningLimit: 2000,
  },
});
