/**
 * Indexes as metadata (issue 13) in the admin UI, end to end in headless Chromium (Debian's
 * /usr/bin/chromium, driven by playwright-core) against the platform on PostgreSQL: in an entity's
 * Keys & indexes tab the test administrator declares an index over two fields in order and sees it
 * active (and the API agrees), is refused one without fields and one whose name is taken (the
 * server's errors next to the controls), removes it after a confirmation; declares one on a table
 * large enough to be built by a job, sees it building while a writer holds the build back, and
 * sees the row turn active by itself once the writer commits; then ticks Indexed on a field in the
 * field editor and sees its badge (and the API's `indexed: true`). Without Chromium this suite
 * fails: it is never skipped.
 */
import { join } from 'node:path';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.ts';
import {
  ARTIFACTS,
  type AdminSession,
  closeAdminSession,
  eventually,
  openAdminSession,
  withFailureScreenshot,
} from './support/browser.ts';
import { DATABASES, TEST_ADMIN, type TestPlatform } from './support/platform.ts';

/** The browser's log line for the 401 of GET /api/auth/me that every start without a session answers. */
const SIGNED_OUT_START = /status of 401 \(Unauthorized\) @ http:\/\/127\.0\.0\.1:\d+\/api\/auth\/me$/;
/** The two refusals the scenario provokes: an index without fields (400), a taken name (409). */
const REFUSED_INDEX = /status of 40[09] \(.+\) @ http:\/\/127\.0\.0\.1:\d+\/api\/metadata\/entities\/ticket\/indexes$/;

describe.runIf(DATABASES.includes('postgres'))('admin UI indexes in Chromium [postgres]', () => {
  let platform: TestPlatform;
  let page: Page;
  let base: string;
  let auth: Record<string, string>;
  let consoleErrors: string[] = [];

  /** An API request of the test's own, as the test administrator; answers its body. */
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? auth : { 'content-type': 'application/json', ...auth },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    expect(res.status, `${method} ${path}: ${text}`).toBeLessThan(300);
    return text ? JSON.parse(text) : undefined;
  };

  /** A client of the test's own on the platform's database. */
  const client = async () => {
    const c = new pg.Client({ connectionString: platform.database.config.databaseUrl });
    await c.connect();
    return c;
  };

  let session: AdminSession | undefined;
  beforeAll(async () => {
    session = await openAdminSession('postgres', {
      indexConcurrentRows: 1000,
      jobs: { ...loadConfig({}).jobs, backoffMs: 50, pollMs: 100 },
    });
    ({ platform, base, auth, page, consoleErrors } = session);
  });

  afterAll(() => closeAdminSession(session));

  it('declares, lists, refuses and removes indexes, follows a build, and indexes a field', async () => {
    await withFailureScreenshot(page, 'admin-indexes', scenario);
  }, 60_000);

  async function scenario(): Promise<void> {
    const main = page.locator('main');
    // an entity with two fields, and a large one whose indexes a job builds
    await ok('POST', '/api/metadata/entities', {
      name: 'ticket',
      fields: [
        { name: 'status', displayName: 'Status', type: 'text', required: true },
        { name: 'due_on', displayName: 'Due on', type: 'date' },
      ],
    });
    await ok('POST', '/api/metadata/entities', {
      name: 'event',
      fields: [{ name: 'kind', displayName: 'Kind', type: 'text', required: true }],
    });
    const db = await client();
    try {
      await db.query(`INSERT INTO data.event (kind) SELECT 'K' || (g % 9) FROM generate_series(1, 3000) g`);
      await db.query('ANALYZE data.event');
    } finally {
      await db.end();
    }

    // 1. the Keys & indexes tab: none yet, and what an index is for
    await page.goto(`${base}/admin/entities/ticket/keys`);
    const signIn = page.getByRole('form', { name: 'Sign in' });
    await signIn.getByLabel('Email', { exact: true }).fill(TEST_ADMIN.email);
    await signIn.getByLabel('Password', { exact: true }).fill(TEST_ADMIN.password);
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    const tab = main.getByRole('tab', { name: /^Keys & indexes/ });
    await tab.waitFor();
    expect(await tab.innerText()).toBe('Keys & indexes (0)');
    await main.getByRole('heading', { name: 'Indexes', exact: true }).waitFor();
    expect(await main.innerText()).toContain('makes filters and sorts on its fields fast');
    await main.getByText('No indexes').waitFor();

    // 2. an index over status then due_on, ticked in that order: built at once, active
    const form = main.getByRole('form', { name: 'Add an index' });
    const fieldsGroup = form.getByRole('group', { name: 'Fields of the index, in order' });
    await fieldsGroup.getByRole('checkbox', { name: /Status/ }).check();
    await fieldsGroup.getByRole('checkbox', { name: /Due on/ }).check();
    expect(await fieldsGroup.innerText()).toContain('Order: status → due_on');
    await form.getByRole('button', { name: 'Add index' }).click();
    const table = main.getByRole('table', { name: 'Indexes of Ticket' });
    const row = table.getByRole('row', { name: /status_due_on/ });
    await row.waitFor();
    await eventually(async () =>
      expect(await row.innerText()).toMatch(/status_due_on[\s\S]*status, due_on[\s\S]*active/),
    );
    expect(await tab.innerText()).toBe('Keys & indexes (1)');
    await page.screenshot({ path: join(ARTIFACTS, 'admin-indexes-keys.png'), fullPage: true });
    const listed = await ok('GET', '/api/metadata/entities/ticket/indexes');
    expect(listed.data).toEqual([
      expect.objectContaining({ name: 'status_due_on', fields: ['status', 'due_on'], unique: false, status: 'active' }),
    ]);

    // 3. refusals, next to the controls: no fields; then a name already taken
    await form.getByRole('button', { name: 'Add index' }).click();
    const fieldsError = fieldsGroup.locator('.field-error');
    await fieldsError.waitFor();
    expect(await fieldsError.innerText()).toMatch(/fewer than 1 item/);
    const nameInput = form.getByLabel('Index name');
    await nameInput.fill('status_due_on');
    await fieldsGroup.getByRole('checkbox', { name: /Due on/ }).check();
    await form.getByRole('button', { name: 'Add index' }).click();
    await eventually(async () => expect(await nameInput.getAttribute('aria-invalid')).toBe('true'));
    expect(await form.innerText()).toContain('is taken');
    expect(await fieldsGroup.locator('.field-error').count()).toBe(0);
    expect((await ok('GET', '/api/metadata/entities/ticket/indexes')).data).toHaveLength(1);

    // 4. removed after a confirmation saying what it costs
    await table.getByRole('button', { name: 'Remove index status_due_on' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('filters and sorts on these fields may get slower');
    await dialog.getByRole('button', { name: 'Remove index' }).click();
    await main.getByText('No indexes').waitFor();
    expect(await tab.innerText()).toBe('Keys & indexes (0)');
    expect((await ok('GET', '/api/metadata/entities/ticket/indexes')).data).toEqual([]);

    // 5. the large table's index is built by a job: building while a writer holds it back, then active by itself
    const writer = await client();
    try {
      await writer.query('BEGIN');
      await writer.query(`UPDATE data.event SET kind = kind WHERE id = (SELECT id FROM data.event LIMIT 1)`);
      await page.goto(`${base}/admin/entities/event/keys`);
      const eventForm = main.getByRole('form', { name: 'Add an index' });
      await eventForm.getByRole('checkbox', { name: /Kind/ }).check();
      await eventForm.getByRole('button', { name: 'Add index' }).click();
      const building = main.getByRole('table', { name: 'Indexes of Event' }).getByRole('row', { name: /kind/ });
      await building.waitFor();
      await eventually(async () => expect(await building.innerText()).toMatch(/building \d+%/));
      await page.screenshot({ path: join(ARTIFACTS, 'admin-indexes-building.png'), fullPage: true });
      expect((await ok('GET', '/api/metadata/entities/event/indexes/kind')).status).toBe('building');
      await writer.query('COMMIT');
      await eventually(async () => expect(await building.innerText()).toContain('active'), 15_000);
      expect((await ok('GET', '/api/metadata/entities/event/indexes/kind')).status).toBe('active');
    } finally {
      await writer.end();
    }

    // 6. the field editor: Indexed beside Full-text searchable; saved, the field list shows its badge
    await page.goto(`${base}/admin/entities/ticket/fields/due_on/edit`);
    const editor = main.getByRole('form', { name: 'Field “Due on”' });
    await editor.waitFor();
    // a date takes no full-text search: only Indexed
    expect(await editor.getByRole('checkbox', { name: /^Full-text searchable/ }).count()).toBe(0);
    await page.goto(`${base}/admin/entities/ticket/fields/status/edit`);
    const statusEditor = main.getByRole('form', { name: 'Field “Status”' });
    await statusEditor.getByRole('checkbox', { name: /^Full-text searchable/ }).waitFor();
    await statusEditor.getByRole('checkbox', { name: /^Indexed/ }).check();
    await statusEditor.getByRole('button', { name: 'Save field' }).click();
    const statusRow = main.getByRole('table', { name: 'Fields of Ticket' }).getByRole('row', { name: /Status/ });
    await statusRow.waitFor();
    await eventually(async () => expect(await statusRow.locator('.flags').innerText()).toContain('indexed'));
    expect(await statusRow.locator('.flags').innerText()).not.toContain('searchable');
    const entity = await ok('GET', '/api/metadata/entities/ticket');
    expect(entity.fields.find((f: { name: string }) => f.name === 'status')).toMatchObject({
      indexed: true,
      searchable: false,
    });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-indexes.png'), fullPage: true });

    // the browser logged only the two deliberate refusals
    const logged = consoleErrors.filter((e) => !SIGNED_OUT_START.test(e));
    expect(logged.filter((e) => !REFUSED_INDEX.test(e))).toEqual([]);
    expect(logged).toHaveLength(2);
  }
});
