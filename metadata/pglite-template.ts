/**
 * A pre-initialised PGlite data directory: initdb and the system-table migrations done once, when
 * the platform is built (`npm run build`, which `npm install` and `npm start` run), and unpacked by
 * a first start instead of done again. In WebAssembly initdb alone takes seconds and peaks at
 * about 750 MB of memory; unpacking takes a fraction of both (README "Performance"). A PGlite
 * maintainer's own way: `dumpDataDir()` once, `loadDataDir` on every new database. A data folder
 * on disk is unpacked straight into the folder before PGlite opens it, as a restart finds it:
 * `loadDataDir` passes every file through PGlite's WebAssembly memory, which then stays about
 * 130 MB larger for the life of the process. The template is a plain tar (42 MB: gunzip alone
 * took 0.46 s here) read by `untar` (untar.ts): node-tar took 0.9 s for its 1,100 files, it 0.45 s.
 *
 * The file is named by the PGlite version and the migrations it holds, so a template from another
 * PGlite or another set of migrations is never unpacked (a start without one runs initdb as before).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { migrations } from '../migrations/index.ts';
import { untar } from './untar.ts';

/**
 * The project root: this file is `metadata/….ts` in the sources, and in the build `dist/metadata/…`
 * or part of a chunk beside `dist/server/boot.bundle.js`: two levels down either way.
 */
const ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '..' : '../..', import.meta.url));

/**
 * PGlite's shared_buffers, for every PGlite of the platform (database.ts) and the template: an
 * embedded, single-user database needs less than PostgreSQL's 128 MB default, and its WASM memory
 * only grows (every buffer page touched stays resident).
 */
export const PGLITE_SHARED_BUFFERS = '16MB';

/** The installed PGlite's version (its package.json, next to its `dist/` entry point). */
function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = join(dirname(dirname(entry)), 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** Where the template for this PGlite and these migrations is (it may not exist). */
export function templateFile(): string {
  const key = createHash('sha256')
    .update(JSON.stringify([pgliteVersion(), Object.keys(migrations)]))
    .digest('hex')
    .slice(0, 16);
  return join(ROOT, 'dist', `pglite-template-${key}.tar`);
}

/** The template as PGlite's `loadDataDir` takes it, when one was built for this version. */
export function readTemplate(): Blob | undefined {
  const file = templateFile();
  return existsSync(file) ? new Blob([readFileSync(file)]) : undefined;
}

/**
 * Unpacks the template into `dataDir` (a folder without a database: PG_VERSION absent) when one
 * exists; answers whether it did. Written in place (the folder may be a mount point that cannot be
 * replaced), PG_VERSION last: a start killed midway leaves a folder the next start unpacks again.
 * The files are written on a worker thread, so the main thread goes on loading the server's modules
 * and building its routes meanwhile (`npm start` begins the unpack first thing: database.ts
 * `prepareDataDir`).
 */
export function unpackTemplate(dataDir: string): Promise<boolean> {
  let unpack = unpacking.get(dataDir);
  if (!unpack) {
    unpack = (async () => {
      const file = templateFile();
      if (!existsSync(file)) return false;
      await untarOffThread(file, dataDir, 'PG_VERSION');
      return true;
    })();
    unpacking.set(dataDir, unpack);
    const done = () => unpacking.delete(dataDir);
    unpack.then(done, done);
  }
  return unpack;
}

/** Unpacks under way, by folder: a second call while one runs (boot.ts began it) joins it. */
const unpacking = new Map<string, Promise<boolean>>();

/**
 * untar.ts on a worker thread (untar-worker.js) in the build `npm start` runs; from the TypeScript
 * sources (tests, `npm run dev`), on this thread, as a worker cannot load TypeScript.
 */
async function untarOffThread(file: string, dir: string, last: string): Promise<void> {
  if (import.meta.url.endsWith('.ts')) return untar(file, dir, last);
  await new Promise<void>((done, fail) => {
    // from dist/metadata/ (this module) or dist/server/ (the bundle), the same file
    const script = new URL('../metadata/untar-worker.js', import.meta.url);
    const worker = new Worker(script, { workerData: { file, dir, last } });
    worker.once('error', fail);
    worker.once('exit', (code) => (code === 0 ? done() : fail(new Error(`the unpack worker exited with ${code}`))));
  });
}

/** Builds the template (in memory, then one file written whole); returns its path. */
export async function buildTemplate(): Promise<string> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { migrateToLatest } = await import('./database.ts');
  const pglite = await PGlite.create('memory://', {
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
  });
  const db = new Kysely<unknown>({ dialect: new PGliteDialect({ pglite }) });
  try {
    await migrateToLatest(db as never);
    await sql`CHECKPOINT`.execute(db);
    const dump = await pglite.dumpDataDir('none');
    const file = templateFile();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.partial`, Buffer.from(await dump.arrayBuffer()));
    renameSync(`${file}.partial`, file);
    return file;
  } finally {
    await db.destroy();
  }
}

// `node dist/metadata/pglite-template.js`: the build's last step (nothing to do when it exists)
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (existsSync(templateFile())) process.exit(0);
  buildTemplate().then(
    (file) => process.stdout.write(`PGlite template: ${file}\n`),
    (error: unknown) => {
      process.stderr.write(`PGlite template not built (first starts will run initdb): ${String(error)}\n`);
    },
  );
}
