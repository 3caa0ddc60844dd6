import { defineConfig } from 'vitest/config';

// Preact through esbuild's automatic JSX runtime: no framework plugin needed.
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  // hls.js (≈600 kB) is a chunk of its own, loaded only when a segmented download is played
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0, chunkSizeWarningLimit: 700 },
  test: { environment: 'node', include: ['src/**/*.test.ts'] },
  server: { proxy: { '/api': 'http://127.0.0.1:39719', '/healthy': 'http://127.0.0.1:39719' } },
});
