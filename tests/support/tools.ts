/** Running the project's command line and the TypeScript compiler from tests. */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '..', '..');
const XRM = join(ROOT, 'bin', 'xrm.js');
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `xrm …` (bin/xrm.js) and reports its exit code and output, never throwing. */
export async function xrm(...args: string[]): Promise<Outcome> {
  return xrmWith({}, ...args);
}

/** `xrm …` with `env` on top of this process's environment (XRM_TOKEN: the credentials it sends). */
export async function xrmWith(env: Record<string, string>, ...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [XRM, ...args], {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export interface Diagnostic {
  file: string;
  line: number;
  message: string;
}

/** `tsc --noEmit --strict` (plus `flags`) over `files` in `dir`: the exit code and diagnostics by file and line. */
export async function typecheck(
  dir: string,
  files: string[],
  flags: string[] = [],
): Promise<{ code: number; errors: Diagnostic[]; output: string }> {
  const args = [
    '--noEmit',
    '--strict',
    '--target',
    'ES2022',
    '--module',
    'NodeNext',
    '--moduleResolution',
    'NodeNext',
    '--allowImportingTsExtensions',
    '--skipLibCheck',
    '--pretty',
    'false',
    ...flags,
    ...files,
  ];
  let code = 0;
  let output = '';
  try {
    output = (await run(TSC, args, { cwd: dir, timeout: 120_000 })).stdout;
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    code = typeof e.code === 'number' ? e.code : -1;
    output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  const errors = [...output.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+: .*)$/gm)].map((m) => ({
    file: m[1]!,
    line: Number(m[2]),
    message: m[3]!,
  }));
  return { code, errors, output };
}

/** Serves the app on a free loopback port (a real socket) and returns its base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the server has no TCP port');
  return `http://127.0.0.1:${address.port}`;
}

/** Polls `probe` until it answers something other than undefined or false (jobs, deliveries, receivers). */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
