/**
 * A pre-initialised PGlite data directory: initdb and the system-table migrations done once, when
 * the platform is built (`npm run build`, which `npm install` and `npm start` run), and unpacked by
 * a first start instead of done again. In WebAssembly initdb alone takes seconds and peaks at
 * about 750 MB of memory; unpacking takes a fraction of both (README "Performance"). A PGlite
 * maintainer's own way: `dumpDataDir()` once, `loadDataDir` on every new database. A data folder
 * on disk is unpacked straight into the folder before PGlite opens it, as a restart finds it:
 * `loadDataDir` passes every file through PGlite's WebAssembly memory, which then stays about
 * 130 MB larger for the life of the process. The template is a plain tar (42 MB: gunzip alone
 * took 0.46 s here) read by `untar` below: node-tar took 0.9 s for its 1,100 files, this 0.45 s
 * written one by one, and about 0.2 s writing eight at a time.
 *
 * The file is named by the PGlite version and the migrations it holds, so a template from another
 * PGlite or another set of migrations is never unpacked (a start without one runs initdb as before).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { migrations } from '../migrations/index.ts';

/** The project root: this file is `metadata/…` in the sources and `dist/metadata/…` when built. */
const ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/metadata/') ? '../..' : '..', import.meta.url));

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
 * The files are written several at a time by libuv's thread pool, so the unpack goes on while the
 * server builds its routes (database.ts starts it when it opens the database).
 */
export async function unpackTemplate(dataDir: string): Promise<boolean> {
  const file = templateFile();
  if (!existsSync(file)) return false;
  await untar(await readFile(file), dataDir, 'PG_VERSION');
  return true;
}

/** Files written at once: enough to keep the thread pool's four threads busy. */
const WRITES_AT_ONCE = 8;

/**
 * Writes the directories and regular files of a ustar archive (what `dumpDataDir` makes: names
 * under `/`, no links) below `dir`, the file named `last` after every other; refuses any other
 * kind of entry or a name leading out of `dir` before writing anything.
 */
async function untar(archive: Buffer, dir: string, last: string): Promise<void> {
  const text = (header: Buffer, at: number, length: number) => {
    const field = header.subarray(at, at + length);
    const end = field.indexOf(0);
    return field.subarray(0, end < 0 ? length : end).toString('utf8');
  };
  const folders = new Set<string>();
  const files: { path: string; content: Buffer }[] = [];
  let deferred: { path: string; content: Buffer } | undefined;
  for (let at = 0; at + 512 <= archive.length; ) {
    const header = archive.subarray(at, at + 512);
    if (header[0] === 0) break; // the zero blocks that end an archive
    const prefix = text(header, 345, 155);
    const name = `${prefix ? `${prefix}/` : ''}${text(header, 0, 100)}`;
    const size = Number.parseInt(text(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 0x30);
    const path = resolve(dir, `.${name.startsWith('/') ? '' : '/'}${name}`);
    if (relative(dir, path).startsWith('..')) throw new Error(`the PGlite template names a path outside: ${name}`);
    if (type === '5') folders.add(path);
    else if (type === '0') {
      const entry = { path, content: archive.subarray(at + 512, at + 512 + size) };
      folders.add(dirname(path));
      if (relative(dir, path) === last) deferred = entry;
      else files.push(entry);
    } else throw new Error(`the PGlite template holds an entry of type ${type}: ${name}`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  for (const folder of folders) mkdirSync(folder, { recursive: true });
  let next = 0;
  const writer = async () => {
    while (next < files.length) {
      const { path, content } = files[next++]!;
      await writeFile(path, content);
    }
  };
  await Promise.all(Array.from({ length: WRITES_AT_ONCE }, writer));
  if (deferred) await writeFile(deferred.path, deferred.content);
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
