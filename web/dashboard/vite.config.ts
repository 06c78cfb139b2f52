import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard is built into web/dist, which the fastify server serves at `/`.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: { outDir: fileURLToPath(new URL('../dist', import.meta.url)), emptyOutDir: true, target: 'es2022', sourcemap: 'hidden' },
  server: { proxy: { '/v1': { target: 'http://127.0.0.1:8080', ws: true }, '/health': 'http://127.0.0.1:8080' } },
});
