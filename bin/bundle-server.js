#!/usr/bin/env node
// `npm run build`'s last step: bundles the compiled server (dist/server/boot.js and every module it
// imports, ours and the dependencies') into dist/server/boot.bundle.js, which dist/server/main.js
// (`npm start`) loads when it is there. Node then compiles a few files instead of resolving, reading
// and linking about 500 (kysely alone is 257): the modules load in about half the time, which is
// most of a start (docs/benchmarks.md, "PGlite"). What is imported on first use only (the import
// parsers, the TypeScript generator) stays so: esbuild puts it in chunks of its own beside the bundle
// (boot.chunk-<hash>.js), loaded when first imported.
//
// Left outside, loaded from node_modules when used: PGlite (its WebAssembly and data files sit
// next to its code), the TypeScript generator and compiler, the mailer and pino-pretty (loaded
// only by the features that need them).
//
// A dependency that finds its own files through `__dirname` / `__filename` (@fastify/swagger's
// package.json, the Swagger UI's static files, pino's worker) gets its own module's folder and file,
// found at run time through Node's resolution from the bundle: it works wherever npm put node_modules.
//
// Stack traces name the bundle's files and lines; `NODE_OPTIONS=--enable-source-maps` maps them to
// the TypeScript sources through the maps written beside them. Only `npm run build` makes the
// bundle. It notes what it was made from (BUILT_FROM: the SHA-256 of tsc's build info); after a bare
// `tsc` since, main.js finds a different build info and loads the compiled modules one by one instead,
// with a warning.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = join(ROOT, 'dist/server/boot.js');
const OUT = join(ROOT, 'dist/server/boot.bundle.js');
const BUILD_INFO = join(ROOT, 'dist/.tsbuildinfo');
const BUILT_FROM = join(ROOT, 'dist/server/boot.bundle.from');
const EXTERNAL = [
  '@electric-sql/pglite',
  'json-schema-to-typescript',
  'typescript',
  'tsx',
  'nodemailer',
  'pino-pretty',
];

// What the bundle's first lines define: `require` for the dependencies written as CommonJS, and
// how a dependency's `__dirname` is found (see above).
const BANNER = `import { createRequire as __xrmCreateRequire } from 'node:module';
import { dirname as __xrmDirname, join as __xrmJoin } from 'node:path';
import { fileURLToPath as __xrmPath } from 'node:url';
const require = __xrmCreateRequire(import.meta.url);
/** The folder of the package at \`chain\` (a package, then the package nested in its node_modules, …). */
const __xrmPackageDir = (chain) => {
  let dir = __xrmDirname(__xrmPath(import.meta.url));
  for (const name of chain) {
    const from = __xrmCreateRequire(__xrmJoin(dir, 'noop.js'));
    try {
      dir = __xrmDirname(from.resolve(name + '/package.json'));
    } catch {
      // a package whose "exports" hides its package.json: up from its entry point to its folder
      const entry = from.resolve(name);
      const at = entry.lastIndexOf(__xrmJoin('node_modules', name));
      dir = at >= 0 ? entry.slice(0, at) + __xrmJoin('node_modules', name) : __xrmDirname(entry);
    }
  }
  return dir;
};`;

/** `node_modules/a/node_modules/@b/c/lib/x.js` → chain ['a', '@b/c'] and the rest, 'lib/x.js'. */
function packagePath(file) {
  const parts = relative(ROOT, file).split(sep);
  const chain = [];
  let i = 0;
  while (parts[i] === 'node_modules') {
    const scoped = parts[i + 1].startsWith('@');
    chain.push(scoped ? `${parts[i + 1]}/${parts[i + 2]}` : parts[i + 1]);
    i += scoped ? 3 : 2;
  }
  return { chain, rest: parts.slice(i).join('/') };
}

const ownFolders = {
  name: 'own-folders',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/].*\.(c?js|mjs)$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!/\b__(dirname|filename)\b/.test(source)) return undefined;
      const { chain, rest } = packagePath(args.path);
      if (chain.length === 0) return undefined;
      const file = `__xrmJoin(__xrmPackageDir(${JSON.stringify(chain)}), ${JSON.stringify(rest)})`;
      return {
        contents: `var __filename = ${file}; var __dirname = __xrmDirname(__filename);\n${source}`,
        loader: 'js',
        resolveDir: dirname(args.path),
      };
    });
  },
};

// the last build's bundle and chunks (their names change with their content)
for (const name of readdirSync(dirname(OUT))) {
  if (/^boot\.(bundle|chunk-[A-Z0-9]+)\.js(\.map)?$|^boot\.bundle\.from$/.test(name)) rmSync(join(dirname(OUT), name));
}
if (!existsSync(ENTRY)) {
  process.stderr.write(`bundle-server: ${ENTRY} is missing; run tsc first\n`);
  process.exit(1);
}
await build({
  entryPoints: [ENTRY],
  outdir: dirname(OUT),
  entryNames: '[name].bundle',
  // what only some servers use (the import parsers, the TypeScript generator's callers) in chunks of
  // their own, loaded on first use as the modules were: beside the bundle, so paths relative to it hold
  splitting: true,
  chunkNames: 'boot.chunk-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: EXTERNAL,
  banner: { js: BANNER },
  plugins: [ownFolders],
  sourcemap: 'linked',
  logLevel: 'warning',
  // names are kept as written except where two modules' top-level names collide (esbuild then
  // suffixes one; today only inside re2js and ip-address); keepNames would cost about 0.1 s a start
});

// what the bundle was made from, for main.js to tell a stale bundle (see above)
if (existsSync(BUILD_INFO)) {
  writeFileSync(BUILT_FROM, `${createHash('sha256').update(readFileSync(BUILD_INFO)).digest('hex')}\n`);
}
