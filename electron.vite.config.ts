// electron-vite build of the desktop app. Our folders are not electron-vite's defaults, so every
// entry is named: main src-main/app/main.ts, preload src-main/preload/index.ts, renderer src-renderer.
// The preload is CommonJS (.cjs) because a sandboxed preload cannot be an ES module.
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';
import { rendererAliases } from './vite.renderer.config.ts';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      rolldownOptions: { input: { index: resolve(root, 'src-main/app/main.ts') } },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      rolldownOptions: {
        input: { index: resolve(root, 'src-main/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    base: './',
    resolve: { alias: rendererAliases },
    plugins: [vue()],
    server: { host: '127.0.0.1', port: 5173, strictPort: true },
    build: {
      outDir: resolve(root, 'out/renderer'),
      minify: true,
      chunkSizeWarningLimit: 2000,
      rolldownOptions: { input: resolve(root, 'src-renderer/index.html') },
    },
  },
});
