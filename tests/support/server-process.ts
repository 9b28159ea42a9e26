/**
 * The real `npm start` entry point (`node --import tsx server/main.ts`, or the build's
 * `dist/server/main.js`) as a child process on a
 * free loopback port, with its exit recorded and the tail of its output kept for failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TEST_ADMIN } from './test-admin.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KEEP_CHARS = 256 * 1024;

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when it exited. */
  at: number;
  /** True when `stop()` asked for it. */
  requested: boolean;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** How the process exited; undefined while it runs. */
  exit(): ProcessExit | undefined;
  /** The last `lines` lines of stderr and of stdout, for assertion messages. */
  tail(lines?: number): string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves with how it exited. */
  stop(graceMs?: number): Promise<ProcessExit>;
  /** `{ authorization: 'Bearer …' }` of the test administrator (signs in once per process). */
  auth(): Promise<Record<string, string>>;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** A pino JSON line in one readable line: level, message, request id, error and its first own stack frame. */
function compact(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as {
      level?: number;
      msg?: string;
      reqId?: string;
      err?: { type?: string; message?: string; code?: string; stack?: string };
    };
    const err = entry.err;
    const frames = err?.stack?.split('\n').filter((l) => /^\s+at /.test(l)) ?? [];
    const frame = (frames.find((l) => !l.includes('node_modules') && !l.includes('node:')) ?? frames[0])?.trim();
    return [
      `[${LEVELS[entry.level ?? 0] ?? entry.level}] ${entry.msg ?? ''}`,
      entry.reqId ? `(${entry.reqId})` : '',
      err ? `— ${err.type}: ${err.message}${err.code ? ` [${err.code}]` : ''}${frame ? ` ${frame}` : ''}` : '',
    ]
      .filter(Boolean)
      .join(' ');
  } catch {
    return line;
  }
}

/** The last `lines` non-empty lines, compacted and cut to 600 characters. */
function lastLines(text: string, lines: number): string {
  return text
    .split('\n')
    .filter(Boolean)
    .slice(-lines)
    .map(compact)
    .map((line) => (line.length > 600 ? `${line.slice(0, 600)}…` : line))
    .join('\n');
}

/** Starts the server with `env` on top of this process's environment and waits for /health 200. */
export async function startServerProcess(
  env: Record<string, string>,
  options: { readyTimeoutMs?: number; build?: boolean } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  // the sources through tsx, or (`build`) the compiled server `npm start` runs
  const entry = options.build ? ['dist/server/main.js'] : ['--import', 'tsx', 'server/main.ts'];
  const child = spawn(process.execPath, entry, {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      XRM_ADMIN_EMAIL: TEST_ADMIN.email,
      XRM_ADMIN_PASSWORD: TEST_ADMIN.password,
      // load phases send far more than a person would; suites testing the limit set their own
      XRM_RATE_LIMIT_PER_MINUTE: '0',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString()).slice(-KEEP_CHARS)));
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-KEEP_CHARS)));
  let exit: ProcessExit | undefined;
  let requested = false;
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exit = { code, signal, at: performance.now(), requested };
      resolve();
    }),
  );

  let token: Promise<string> | undefined;
  const server: ServerProcess = {
    child,
    async auth() {
      token ??= fetch(`${server.base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(TEST_ADMIN),
      }).then(async (r) => {
        if (r.status !== 200) throw new Error(`test admin sign-in failed: ${r.status} ${await r.text()}`);
        return ((await r.json()) as { token: string }).token;
      });
      token.catch(() => (token = undefined));
      return { authorization: `Bearer ${await token}` };
    },
    base: `http://127.0.0.1:${port}`,
    exit: () => exit,
    tail: (lines = 40) =>
      `--- server stderr (last ${lines} lines) ---\n${lastLines(stderr, lines) || '(empty)'}\n` +
      `--- server stdout (last ${lines} lines) ---\n${lastLines(stdout, lines) || '(empty)'}`,
    async stop(graceMs = 10_000) {
      if (!exit) {
        requested = true;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exit!;
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (exit)
      throw new Error(`server exited before it was ready (code ${exit.code}, signal ${exit.signal})\n${server.tail()}`);
    const ok = await fetch(`${server.base}/health`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return server;
    await new Promise((r) => setTimeout(r, 100));
  }
  await server.stop(2000);
  throw new Error(`server did not become healthy in time\n${server.tail()}`);
}
