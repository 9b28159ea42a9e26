/**
 * The embedded database (issue 13's PGlite figures), measured as a newcomer meets it: the compiled
 * server (`node dist/server/main.js`, what `npm start` runs) with no DATABASE_URL, on a new data folder.
 *
 * Each round: the first start on the empty folder (spawn to the first `/health` 200), the README's
 * tour and Querying examples run against it as written (bash and curl, its bad-input step aside),
 * its RSS after 25 and 60 s idle with that data, then a stop and a reopen of the same folder: the reopen's
 * start, and its RSS 2 s after and after 25 s idle. Medians over the rounds (XRM_BENCH_PGLITE_ROUNDS,
 * default 3); the targets are issue 13's: a start within 2 s, idle within 200 MB.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { section, shBlocks, shellSession, tourAdmin } from '../tests/support/readme.ts';
import type { BenchFigure } from './relationships.ts';

const ROUNDS = Number(process.env.XRM_BENCH_PGLITE_ROUNDS ?? 3);
const IDLE_MS = 25_000;
/** After the tour's 40-odd metadata changes, V8's memory reducer has not always run by 25 s. */
const SETTLED_MS = 60_000;

const [start, ...tour] = shBlocks(section('## A five-minute tour', '## The metadata API'));
const querying = shBlocks(section('## Querying', '## Performance'));

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Starts the build on `dataDir`; resolves at its first `/health` 200 with the milliseconds since the spawn. */
async function startEmbedded(
  dataDir: string,
  port: number,
  admin: [string, string],
): Promise<{ child: ChildProcess; ms: number }> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.DATABASE_URL;
  const began = performance.now();
  const child = spawn(process.execPath, ['dist/server/main.js'], {
    env: {
      ...env,
      XRM_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      XRM_ADMIN_EMAIL: admin[0],
      XRM_ADMIN_PASSWORD: admin[1],
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  while (child.exitCode === null && performance.now() - began < 60_000) {
    const up = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { child, ms: performance.now() - began };
    await sleep(10);
  }
  child.kill('SIGKILL');
  throw new Error(`the embedded server on ${dataDir} did not start`);
}

/** `stop`: bench/run.ts's stopServer (SIGTERM, SIGKILL after 15 s). */
export async function pgliteBench(
  port: number,
  stop: (child: ChildProcess) => Promise<void>,
): Promise<{ figures: BenchFigure[]; notes: string[] }> {
  const admin = tourAdmin(start);
  if (!admin) throw new Error("the README tour's first block no longer starts the server with an administrator");
  const steps = [...tour.filter((b) => !b.includes('not-an-email')), ...querying];
  const first: number[] = [];
  const reopen: number[] = [];
  const rssTour25s: number[] = [];
  const rssTour: number[] = [];
  const rssReopen2s: number[] = [];
  const rssReopenIdle: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'xrm-bench-pglite-')), 'data');
    try {
      process.stdout.write(`PGlite round ${round + 1}/${ROUNDS}: first start… `);
      const a = await startEmbedded(dataDir, port, admin);
      first.push(a.ms);
      try {
        const outputs = await shellSession(`http://localhost:${port}`, steps);
        const failed = outputs.find((o) => o.includes('XRM_ERR_') || /"errors"\s*:/.test(o));
        if (failed) throw new Error(`a tour step failed on PGlite: ${failed.slice(0, 300)}`);
        await sleep(IDLE_MS);
        rssTour25s.push(rssOf(a.child.pid!));
        await sleep(SETTLED_MS - IDLE_MS);
        rssTour.push(rssOf(a.child.pid!));
      } finally {
        await stop(a.child);
      }
      process.stdout.write('reopen… ');
      const b = await startEmbedded(dataDir, port, admin);
      reopen.push(b.ms);
      try {
        await sleep(2000);
        rssReopen2s.push(rssOf(b.child.pid!));
        await sleep(IDLE_MS - 2000);
        rssReopenIdle.push(rssOf(b.child.pid!));
      } finally {
        await stop(b.child);
      }
      process.stdout.write(`${a.ms.toFixed(0)} ms, ${b.ms.toFixed(0)} ms\n`);
    } finally {
      rmSync(join(dataDir, '..'), { recursive: true, force: true });
    }
  }
  const within = (xs: number[], limit: number) => xs.filter((x) => x <= limit).length;
  const figures: BenchFigure[] = [
    { name: 'PGlite first start, empty folder', ours: median(first), unit: 'ms', target: '≤ 2,000 ms' },
    { name: "PGlite reopen, the tour's data", ours: median(reopen), unit: 'ms', target: '≤ 2,000 ms' },
    { name: 'PGlite idle RSS after the tour', ours: median(rssTour), unit: 'MB', target: '≤ 200 MB (60 s idle)' },
    {
      name: 'PGlite idle RSS, reopened on it',
      ours: median(rssReopenIdle),
      unit: 'MB',
      target: '≤ 200 MB (25 s idle)',
    },
  ].map((f) => ({ ...f, met: f.ours <= (f.unit === 'ms' ? 2000 : 200) }));
  const list = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
  const notes = [
    `PGlite, ${ROUNDS} rounds: first starts ${list(first)} ms, reopens with the tour's data ${list(reopen)} ms ` +
      `(${within([...first, ...reopen], 2000)} of ${first.length + reopen.length} within 2 s); RSS after the tour ` +
      `${list(rssTour25s)} MB after 25 s idle and ${list(rssTour)} MB after 60 s, reopened ` +
      `${list(rssReopen2s)} MB 2 s after the start and ${list(rssReopenIdle)} MB idle`,
  ];
  return { figures, notes };
}
