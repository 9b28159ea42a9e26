/**
 * The first start without XRM_ADMIN_EMAIL, as `npm start` does it: the server prints a one-time
 * setup link, every API answers 401 until someone opens it, and the link's token creates the
 * first administrator, signed in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';

let server: ServerProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'xrm-first-run-'));
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('prints a one-time setup link; the API stays closed until its token creates the administrator', async () => {
  server = await startServerProcess({
    XRM_DATA_DIR: join(dir, 'data'),
    DATABASE_URL: '',
    XRM_ADMIN_EMAIL: '',
    XRM_ADMIN_PASSWORD: '',
    LOG_LEVEL: 'warn',
  });
  const base = server.base;
  let link: URL | undefined;
  await expect
    .poll(
      () => {
        const match = /open (http:\/\/\S+\/admin\/setup\?token=\S+) to create the first administrator/.exec(
          server!.tail(200),
        );
        link = match ? new URL(match[1]!) : undefined;
        return link?.pathname;
      },
      { timeout: 10_000 },
    )
    .toBe('/admin/setup');
  const token = link!.searchParams.get('token')!;
  expect(token.length).toBeGreaterThanOrEqual(32);

  const closed = await fetch(`${base}/api/metadata/entities`);
  expect(closed.status).toBe(401);
  expect(((await closed.json()) as { detail: string }).detail).toContain('setup link');
  expect(await (await fetch(`${base}/api/auth/setup`)).json()).toEqual({ required: true });

  const post = (body: unknown) =>
    fetch(`${base}/api/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const admin = { email: 'first@example.com', password: 'first-admin-password' };
  expect((await post({ ...admin, token: 'not-the-token' })).status).toBe(401);
  const done = await post({ ...admin, token });
  expect(done.status).toBe(200);
  const session = (await done.json()) as { token: string };
  const me = await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${session.token}` } });
  expect(((await me.json()) as { roles: string[] }).roles).toEqual(['system_administrator']);
  // once: the same link does nothing more
  expect((await post({ ...admin, email: 'second@example.com', token })).status).toBe(409);
});
