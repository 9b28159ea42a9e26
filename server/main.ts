/**
 * `npm start`: turns on Node's compile cache, then boots the server (boot.ts). On Node 22.1 and later
 * V8 keeps the compiled code of what the server loads on disk, in the OS's temporary folder, and a
 * later start reads it instead of compiling again (`NODE_DISABLE_COMPILE_CACHE=1` turns it off;
 * `NODE_COMPILE_CACHE=<dir>` puts it elsewhere). Node 20 has no compile cache. It has to come before
 * the server's modules are imported, so they are imported from here, not statically.
 *
 * The build runs the bundle of boot.ts and all it imports (boot.bundle.js and its chunks, made by
 * bin/bundle-server.js in `npm run build`): a few files to load instead of about 500. The sources
 * (tsx: tests, `npm run dev`), or a build without the bundle, import boot.ts's modules one by one.
 */
import { existsSync } from 'node:fs';
import module from 'node:module';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const bundle = new URL('./boot.bundle.js', import.meta.url);
if (import.meta.url.endsWith('.js') && existsSync(bundle)) await import(bundle.href);
else await import('./boot.ts');
