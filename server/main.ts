/**
 * `npm start`: turns on Node's compile cache, then serves (serve.ts). On Node 22.1 and later V8 keeps
 * the compiled code of the modules the server loads (about 400) on disk, in the OS's temporary
 * folder, and a later start reads it instead of compiling them again (`NODE_DISABLE_COMPILE_CACHE=1`
 * turns it off; `NODE_COMPILE_CACHE=<dir>` puts it elsewhere). Node 20 has no compile cache: there
 * this only starts the server. It has to come before the server's modules are imported, so they are
 * imported from here, not statically. A new PGlite folder's unpacking begins before them too
 * (database.ts `prepareDataDir`).
 */
import module from 'node:module';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
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
