/**
 * The build `npm start` runs loads the server as ONE bundle (bin/bundle-server.js): main.js imports
 * dist/server/boot.bundle.js, not the ~500 modules it was made of. The dependencies bundled with it
 * still find their own files (the Swagger UI's static files, @fastify/swagger's package.json), and
 * the ones loaded lazily inside it (mailparser for an mbox import) still work. A bundle made before
 * the last tsc build (it notes the build info it was made from) is passed over.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from './support/server-process.ts';

const ROOT = pathToFileURL(join(import.meta.dirname, '..')).href;
const dir = mkdtempSync(join(tmpdir(), 'xrm-bundle-'));
const loaded = join(dir, 'loaded.txt');
/** Preloaded with --import: notes every module Node's ES module loader loads, one URL a line. */
const hook = join(dir, 'hook.mjs');
let server: ServerProcess;

beforeAll(async () => {
  expect(existsSync('dist/server/boot.bundle.js'), 'dist/server/boot.bundle.js: run `npm run build` first').toBe(true);
  const loader = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(loaded)}, url + '\\n');
  return next(url, context);
}`;
  const source = `data:text/javascript,${encodeURIComponent(loader)}`;
  writeFileSync(hook, `import { register } from 'node:module';\nregister(${JSON.stringify(source)});\n`);
  server = await startServerProcess(
    { XRM_DATA_DIR: join(dir, 'data'), DATABASE_URL: '', NODE_OPTIONS: `--import ${hook}` },
    { build: true },
  );
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('loads the server from the bundle and its chunks: no compiled module of its own, no kysely module file', () => {
  const urls = readFileSync(loaded, 'utf8').split('\n').filter(Boolean);
  const ours = [...new Set(urls.filter((u) => u.startsWith(`${ROOT}/dist/`)).map((u) => u.slice(ROOT.length + 1)))];
  expect(ours).toContain('dist/server/main.js');
  expect(ours).toContain('dist/server/boot.bundle.js');
  // besides: the bundle's chunks, and the template's unpack worker (a new folder) on its own thread
  const others = ours.filter((u) => !/^dist\/server\/(main|boot\.bundle|boot\.chunk-[A-Z0-9]+)\.js$/.test(u));
  expect(others.sort()).toEqual(['dist/metadata/untar-worker.js', 'dist/metadata/untar.js']);
  // about 180 compiled modules of ours and 300 of the dependencies' before the bundle
  expect(ours.length).toBeLessThan(20);
  // kysely is ES modules (257 files): loaded from node_modules, each would pass the loader
  expect(urls.filter((u) => u.includes('/node_modules/kysely/'))).toEqual([]);
});

it('serves the files bundled dependencies find through their own folder', async () => {
  const docs = await fetch(`${server.base}/docs/static/logo.svg`);
  expect(docs.status, server.tail(20)).toBe(200);
  expect(docs.headers.get('content-type')).toContain('image/svg+xml');
  expect(await docs.text()).toContain('<svg');
  const openapi = await fetch(`${server.base}/openapi.json`, { headers: await server.auth() });
  expect(openapi.status, server.tail(20)).toBe(200);
  expect(((await openapi.json()) as { openapi: string }).openapi).toMatch(/^3\./);
});

it('runs a GraphQL query and an mbox import (mailparser, in a chunk loaded when first used)', async () => {
  const headers = { ...(await server.auth()), 'content-type': 'application/json' };
  const gql = await fetch(`${server.base}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query: '{ _schemaVersion }' }),
  });
  expect(await gql.json()).toMatchObject({ data: { _schemaVersion: expect.any(Number) } });

  const me = 'me@bundle.example';
  const mbox = [
    'From nia@acme.example Mon Sep 14 09:00:00 2026',
    'From: Nia <nia@acme.example>',
    `To: ${me}`,
    'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=',
    'Date: Mon, 14 Sep 2026 09:00:00 +0000',
    'Message-ID: <m1@acme.example>',
    'Content-Type: text/plain; charset=ISO-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Sch=F6ne Gr=FC=DFe',
    '',
  ].join('\n');
  const started = await fetch(`${server.base}/api/activities/import?format=mbox&own=${me}`, {
    method: 'POST',
    headers: { ...(await server.auth()), 'content-type': 'application/mbox' },
    body: mbox,
  });
  expect(started.status, server.tail(20)).toBe(202);
  const { job } = (await started.json()) as { job: { id: string } };
  let state: { state: string; progress?: { imported?: number } } = { state: 'queued' };
  for (let i = 0; i < 200 && state.state !== 'succeeded' && state.state !== 'dead'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const reply = await fetch(`${server.base}/api/activities/import/${job.id}`, { headers: await server.auth() });
    state = (await reply.json()) as typeof state;
  }
  expect(state, server.tail(20)).toMatchObject({ state: 'succeeded', progress: { imported: 1 } });
  const list = await fetch(`${server.base}/api/data/activity?select=subject,body`, { headers: await server.auth() });
  const { data } = (await list.json()) as { data: { subject: string; body: string }[] };
  // the header's encoded word and the body's Latin-1 bytes decoded (iconv-lite's tables, bundled)
  expect(data).toEqual([expect.objectContaining({ subject: 'Grüße', body: expect.stringContaining('Schöne Grüße') })]);
});

it('loads the compiled modules one by one, with a warning, when tsc built after the bundle', () => {
  // the build's own main.js in a scratch tree of the build's shape, beside two boots that say which one loaded
  const tree = join(dir, 'stale');
  mkdirSync(join(tree, 'server'), { recursive: true });
  copyFileSync('dist/server/main.js', join(tree, 'server/main.js'));
  writeFileSync(join(tree, 'package.json'), '{"type":"module"}');
  writeFileSync(join(tree, 'server/boot.bundle.js'), "process.stdout.write('bundle');\n");
  writeFileSync(join(tree, 'server/boot.js'), "process.stdout.write('modules');\n");
  const run = () => spawnSync(process.execPath, [join(tree, 'server/main.js')], { encoding: 'utf8' });
  const info = join(tree, '.tsbuildinfo');
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  // the bundle made from this compile (as bin/bundle-server.js notes it)
  writeFileSync(info, '{"compile":1}');
  writeFileSync(join(tree, 'server/boot.bundle.from'), `${sha256('{"compile":1}')}\n`);
  expect(run()).toMatchObject({ status: 0, stdout: 'bundle', stderr: '' });
  // a bare tsc since the bundle
  writeFileSync(info, '{"compile":2}');
  const stale = run();
  expect(stale).toMatchObject({ status: 0, stdout: 'modules' });
  expect(stale.stderr).toContain('boot.bundle.js was made before the last tsc build');
  // a build that notes nothing (no build info when it was bundled): the bundle
  rmSync(join(tree, 'server/boot.bundle.from'));
  expect(run()).toMatchObject({ status: 0, stdout: 'bundle' });
});

it('notes the build info the bundle was made from', () => {
  const info = readFileSync('dist/.tsbuildinfo');
  expect(readFileSync('dist/server/boot.bundle.from', 'utf8').trim()).toBe(
    createHash('sha256').update(info).digest('hex'),
  );
});
