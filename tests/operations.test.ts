/**
 * Operations: configuration from the environment, /health before and after start, and the real
 * `npm start` entry point over a socket — SIGTERM finishes cleanly and PGlite's data survives.
 */
import { describe, expect, it } from 'vitest';
import { buildPlatform } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { api } from './support/http.ts';
import { createTestDatabase, testConfig } from './support/platform.ts';
import { startServerProcess } from './support/server-process.ts';

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

describe('npm start entry point', () => {
  it('serves on PGlite, stops cleanly on SIGTERM and reopens its data', async () => {
    const database = await createTestDatabase('pglite', { persistent: true });
    try {
      const first = await startServerProcess({ XRM_DATA_DIR: database.config.dataDir, LOG_LEVEL: 'info' });
      const logs: string[] = [];
      first.child.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
      // the first start created the administrator from XRM_ADMIN_EMAIL; its token signs the writes
      const auth = await first.auth();
      const post = (path: string, body: unknown) =>
        fetch(first.base + path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
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
      const exit = await first.stop();
      expect(exit.code, first.tail()).toBe(0);
      // pino wrote structured JSON request logs
      const lines = logs
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.some((l) => l.msg === 'request completed' && typeof l.responseTime === 'number')).toBe(true);
      expect(lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);

      const second = await startServerProcess({ XRM_DATA_DIR: database.config.dataDir });
      try {
        // the administrator and its password survived too: signing in again works
        const res = await fetch(`${second.base}/api/data/note/${created.id}`, { headers: await second.auth() });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { title: string }).title).toBe('survives restarts');
        expect((await fetch(`${second.base}/api/data/note/${created.id}`)).status).toBe(401);
      } finally {
        await second.stop();
      }
    } finally {
      await database.drop();
    }
  });
});
