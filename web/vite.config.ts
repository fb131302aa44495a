/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The Rust server (default BIND_ADDR) that the dev server forwards API, file and share traffic to.
const backend = 'http://127.0.0.1:8080';

// `changeOrigin` stays false on purpose: the backend refuses cross-site writes by comparing
// `Origin` with the request's host, and the browser's origin is the dev server's.
const proxy = { target: backend, changeOrigin: false };

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': proxy,
      '/files': proxy,
      // A RegExp key: a plain '/s' prefix would also catch /settings, /signup, /studio and /src.
      '^/s/.*': proxy,
      '/healthz': proxy,
    },
  },
  build: {
    outDir: '../static',
    emptyOutDir: true,
    // Every supported browser has <link rel="modulepreload">; skip the polyfill to stay lean.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
    setupFiles: ['src/test/setup.ts'],
    testTimeout: 20_000,
  },
});
