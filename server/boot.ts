/**
 * What `npm start` runs once main.ts has set up Node: a new PGlite folder's unpacking begins before
 * the server's modules load (database.ts `prepareDataDir`), then the server is served (serve.ts).
 * The build bundles this module with everything it imports into dist/server/boot.bundle.js
 * (bin/bundle-server.js), which main.js loads in its place.
 */
// a new PGlite folder is unpacked from the template while the server's modules load; a
// configuration error is left for serve.ts to report
try {
  const [{ loadConfig }, { prepareDataDir }] = await Promise.all([
    import('./config.ts'),
    import('../metadata/database.ts'),
  ]);
  prepareDataDir(loadConfig());
} catch {
  // serve.ts loads the configuration again and reports what is wrong with it
}
await import('./serve.ts');
