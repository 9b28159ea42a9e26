/**
 * Vite build of the admin UI: `npm run build:admin` writes admin-ui/dist, which the server serves
 * at /admin (server/admin/plugin.ts). `npm run dev:admin` serves it with hot reload and proxies
 * the API to a platform on http://127.0.0.1:3000 (`npm start`).
 *
 * A second entry, graphiql/index.html, is GraphiQL (the `graphiql` package, with Monaco's web
 * workers): the server answers it at /graphiql, and its assets come from /admin/assets/ like the
 * app's, so no page of the platform loads anything from a CDN.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.XRM_ADMIN_API ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root,
  base: '/admin/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    // GraphiQL's Monaco editor is one ~2.8 MB chunk, loaded by /graphiql only
    chunkSizeWarningLimit: 3000,
    rolldownOptions: {
      input: { admin: `${root}index.html`, graphiql: `${root}graphiql/index.html` },
      onwarn(warning, warn) {
        // GraphiQL's React Compiler output starts modules with "use no memo", meaningless once bundled
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  worker: { format: 'es' },
  server: {
    port: 5173,
    proxy: { '/api': api, '/health': api, '/graphql': api, '/openapi.json': api },
  },
});
