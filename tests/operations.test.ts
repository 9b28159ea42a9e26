/**
 * Operations: configuration from the environment, /health before and after start, and the real
 * `npm start` entry point over a socket — SIGTERM finishes cleanly and PGlite's data survives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildPlatform } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { api } from './support/http.ts';
import { createTestDatabase, testConfig } from './support/platform.ts';

describe('configuration', () => {
  it('has documented defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir.endsWith('/data')).toBe(true);
    expect(config.logLevel).toBe('info');
    expect(config.pluginTimeoutMs).toBe(10_000);
  });

  it('reads PORT, HOST, DATABASE_URL, XRM_DATA_DIR and LOG_LEVEL', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://x@y/z',
      XRM_DATA_DIR: '/tmp/xrm',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: 'postgres://x@y/z',
      dataDir: '/tmp/xrm',
      logLevel: 'debug',
    });
  });

  it('refuses invalid values with a clear message', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT must be a non-negative integer/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL must be one of/);
  });
});

describe('health', () => {
  it('answers 503 until the database is migrated and the catalog loaded, then 200', async () => {
    const database = await createTestDatabase('pglite');
    const platform = await buildPlatform(testConfig(database));
    try {
      const before = await api(platform.app).get('/health');
      expect(before.status).toBe(503);
      const data = await api(platform.app).get('/api/metadata/entities');
      expect(data.status).toBe(503);
      expect(data.headers['content-type']).toContain('application/problem+json');
      await platform.start();
      const after = await api(platform.app).get('/health');
      expect(after.status).toBe(200);
      expect(after.body).toMatchObject({ status: 'ok', database: 'pglite' });
    } finally {
      await platform.close();
      await database.drop();
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early with ${child.exitCode}`);
    const ok = await fetch(`${base}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { child, base };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('server did not become healthy in 30 s');
}

describe('npm start entry point', () => {
  it('serves on PGlite, stops cleanly on SIGTERM and reopens its data', async () => {
    const database = await createTestDatabase('pglite', { persistent: true });
    try {
      const first = await startServer({ XRM_DATA_DIR: database.config.dataDir });
      const logs: string[] = [];
      first.child.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
      const post = (path: string, body: unknown) =>
        fetch(first.base + path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect(
        (
          await post('/api/metadata/entities', {
            name: 'note',
            fields: [{ name: 'title', type: 'text', required: true }],
          })
        ).status,
      ).toBe(201);
      const created = (await (await post('/api/data/note', { title: 'survives restarts' })).json()) as { id: string };
      first.child.kill('SIGTERM');
      const [code] = await once(first.child, 'exit');
      expect(code).toBe(0);
      // pino wrote structured JSON request logs
      const lines = logs
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.some((l) => l.msg === 'request completed' && typeof l.responseTime === 'number')).toBe(true);
      expect(lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);

      const second = await startServer({ XRM_DATA_DIR: database.config.dataDir });
      try {
        const res = await fetch(`${second.base}/api/data/note/${created.id}`);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { title: string }).title).toBe('survives restarts');
      } finally {
        second.child.kill('SIGTERM');
        await once(second.child, 'exit');
      }
    } finally {
      await database.drop();
    }
  });
});
