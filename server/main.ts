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
 *
 * Only `npm run build` makes the bundle, and notes beside it the SHA-256 of tsc's build info it was
 * made from (boot.bundle.from). A bare `tsc` since (a different build info) leaves it stale: then the
 * compiled modules load one by one, as they are, with a warning. A hash, not file times: copying
 * dist/ elsewhere keeps the contents, not always the times.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import module from 'node:module';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

/** The bundle, when this is the build and the bundle was made from the last compile. */
function freshBundle(): URL | undefined {
  if (!import.meta.url.endsWith('.js')) return undefined;
  const bundle = new URL('./boot.bundle.js', import.meta.url);
  if (!existsSync(bundle)) return undefined;
  const from = new URL('./boot.bundle.from', import.meta.url);
  const info = new URL('../.tsbuildinfo', import.meta.url);
  if (existsSync(from) && existsSync(info)) {
    const compiled = createHash('sha256').update(readFileSync(info)).digest('hex');
    if (readFileSync(from, 'utf8').trim() !== compiled) {
      process.emitWarning(
        'dist/server/boot.bundle.js was made before the last tsc build: the compiled modules load one by one ' +
          '(`npm run build` makes the bundle again)',
      );
      return undefined;
    }
  }
  return bundle;
}

const bundle = freshBundle();
// the literal path stays whole: tsc rewrites it to boot.js in the build
if (bundle) await import(bundle.href);
else await import('./boot.ts');
