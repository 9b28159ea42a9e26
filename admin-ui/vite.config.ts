/**
 * Vite build of the admin UI: `npm run build:admin` writes admin-ui/dist, which the server serves
 * at /admin (server/admin/plugin.ts). `npm run dev:admin` serves it with hot reload and proxies
 * the API to a platform on http://127.0.0.1:3000 (`npm start`).
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const api = process.env.XRM_ADMIN_API ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/admin/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
  },
  server: {
    port: 5173,
    proxy: { '/api': api, '/health': api, '/graphql': api, '/openapi.json': api },
  },
});
