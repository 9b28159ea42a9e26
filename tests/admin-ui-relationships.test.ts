/**
 * The admin UI's relationship pages end to end, in headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core) against the platform on a real socket: the test administrator opens a
 * tracked partner's record page (its Relationship card at 0, None; the signal fields shown, never
 * editable), logs a call through the dialog and sees the timeline show it and the score rise;
 * in the entity designer sees tracking on, is refused weights that do not sum to 1 (the server's
 * error next to the weights), saves and resets the formula, and enables the stale alert, whose
 * rule the automation rules list then shows; finds on Today the partner whose only contact is 40
 * days old, with its reason; and imports a CSV file of three activities, following the job's
 * progress until it is done. Without Chromium this suite fails: it is never skipped.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARTIFACTS,
  type AdminSession,
  closeAdminSession,
  eventually,
  openAdminSession,
  withFailureScreenshot,
} from './support/browser.ts';
import { TEST_ADMIN } from './support/platform.ts';

/** The browser's log line for the 401 of GET /api/auth/me that every start without a session answers. */
const SIGNED_OUT_START = /status of 401 \(Unauthorized\) @ http:\/\/127\.0\.0\.1:\d+\/api\/auth\/me$/;
/** The one refusal the scenario provokes: factor weights that do not sum to 1. */
const REFUSED_WEIGHTS = /status of 400 \(Bad Request\) @ http:\/\/127\.0\.0\.1:\d+\/api\/metadata\/entities\/partner$/;

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

describe('admin UI relationships in Chromium [pglite]', () => {
  let page: Page;
  let base: string;
  let auth: Record<string, string>;
  let consoleErrors: string[] = [];

  /** An API request of the test's own, as the test administrator. */
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? auth : { 'content-type': 'application/json', ...auth },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
  };
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, path, body);
    expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
    return res.body;
  };

  let session: AdminSession | undefined;
  beforeAll(async () => {
    session = await openAdminSession('pglite');
    ({ base, auth, page, consoleErrors } = session);
  });

  afterAll(() => closeAdminSession(session));

  it('shows a record’s relationship, logs a call, tunes the entity, lists today and imports a file', async () => {
    await withFailureScreenshot(page, 'admin-relationships', scenario);
  }, 120_000);

  async function scenario(): Promise<void> {
    const main = page.locator('main');
    const automationNav = page.getByRole('navigation', { name: 'Automation' });

    // a tracked entity and two partners, through the API: one new, one whose only contact is 40 days old
    await ok('POST', '/api/metadata/entities', {
      name: 'partner',
      trackActivities: true,
      fields: [
        { name: 'name', displayName: 'Name', type: 'text', required: true },
        { name: 'email', displayName: 'Email', type: 'email' },
      ],
    });
    const ada = (await ok('POST', '/api/data/partner', { name: 'Ada Lovelace', email: 'ada@example.com' })) as {
      id: string;
    };
    const bob = (await ok('POST', '/api/data/partner', { name: 'Bob Stale', email: 'bob@example.com' })) as {
      id: string;
    };
    await ok('POST', '/api/data/activity', {
      kind: 'call',
      direction: 'inbound',
      subject: 'Last we heard',
      occurred_at: daysAgo(40),
      regarding: { entity: 'partner', id: bob.id },
    });
    const timeline = async (id: string) =>
      ((await ok('GET', `/api/data/partner/${id}/timeline`)) as { data: { subject: string; kind: string }[] }).data;

    // 1. the record page: the Relationship card at 0 (None), an empty timeline; the signals are not form inputs
    await page.goto(`${base}/admin/data/partner/${ada.id}`);
    const signIn = page.getByRole('form', { name: 'Sign in' });
    await signIn.getByLabel('Email', { exact: true }).fill(TEST_ADMIN.email);
    await signIn.getByLabel('Password', { exact: true }).fill(TEST_ADMIN.password);
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await main.getByRole('heading', { level: 1, name: 'Ada Lovelace' }).waitFor();
    const relationship = main.getByRole('region', { name: 'Relationship', exact: true });
    const score = relationship.locator('.rel-score-value');
    await score.waitFor();
    expect(await score.innerText()).toBe('0');
    await relationship.getByText('None', { exact: true }).waitFor();
    expect(await relationship.getByRole('table', { name: 'Factors' }).innerText()).toMatch(/Recency[\s\S]*Depth/);
    expect(await relationship.innerText()).toContain('round(100 × (0.35 × recency');
    const recordForm = main.getByRole('form', { name: 'Partner form' });
    expect(await recordForm.getByLabel('Name', { exact: true }).inputValue()).toBe('Ada Lovelace');
    expect(await recordForm.getByLabel('Relationship strength').count()).toBe(0);
    expect(await recordForm.getByLabel('Last contact').count()).toBe(0);
    await main.getByRole('complementary', { name: 'Record details' }).getByText('Relationship health').waitFor();
    const timelineCard = main.getByRole('region', { name: 'Timeline', exact: true });
    await timelineCard.getByText('No activities yet').waitFor();

    // 2. a call logged through the dialog: the timeline shows it, the score rises
    await timelineCard.getByRole('button', { name: 'Log activity' }).click();
    const dialog = page.getByRole('dialog', { name: /Log activity/ });
    const logForm = dialog.getByRole('form', { name: 'Log activity' });
    expect(await logForm.getByLabel('Kind', { exact: true }).inputValue()).toBe('call');
    expect(await logForm.getByLabel('Occurred at', { exact: true }).inputValue()).not.toBe('');
    await logForm.getByLabel('Direction', { exact: true }).selectOption('outbound');
    await logForm.getByLabel('Subject', { exact: true }).fill('Intro call');
    await logForm.getByLabel('Duration (minutes)', { exact: true }).fill('15');
    await logForm.getByLabel('Notes', { exact: true }).fill('Talked about the analytical engine.');
    await logForm.getByRole('button', { name: 'Log activity' }).click();
    await dialog.waitFor({ state: 'detached' });
    const activities = timelineCard.getByRole('list', { name: 'Activities, newest first' });
    await activities.getByText('Intro call').waitFor();
    expect(await activities.innerText()).toMatch(/Call[\s\S]*Outbound[\s\S]*Intro call[\s\S]*15 min/);
    await eventually(async () => expect(Number(await score.innerText())).toBeGreaterThan(0));
    expect(await relationship.getByText('None', { exact: true }).count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-relationships-record.png'), fullPage: true });
    expect(await timeline(ada.id)).toMatchObject([{ subject: 'Intro call', kind: 'call' }]);
    const signals = (await ok('GET', `/api/data/partner/${ada.id}/signals`)) as { score: number };
    expect(signals.score).toBe(Number(await score.innerText()));

    // 3. the designer: maintained fields offer no edit; tracking is on; weights must sum to 1; the stale alert
    await page.goto(`${base}/admin/entities/partner`);
    const fields = main.getByRole('table', { name: 'Fields of Partner' });
    await fields.getByRole('link', { name: 'Edit field Name' }).waitFor();
    expect(await fields.getByRole('row', { name: /Relationship strength/ }).innerText()).toContain('read-only');
    expect(await fields.getByRole('link', { name: 'Edit field Relationship strength' }).count()).toBe(0);
    expect(await fields.getByRole('button', { name: 'Remove field Relationship strength' }).count()).toBe(0);
    await main.getByRole('tab', { name: 'Settings' }).click();
    const settings = main.getByRole('region', { name: 'Relationships', exact: true });
    expect(await settings.getByRole('switch', { name: 'Track activities' }).isChecked()).toBe(true);
    const formula = settings.getByRole('form', { name: 'Relationship strength' });
    const weights = formula.getByRole('group', { name: 'Factor weights' });
    for (const name of ['Recency', 'Frequency', 'Reciprocity', 'Depth']) await weights.getByLabel(name).fill('0.5');
    await formula.getByRole('button', { name: 'Save formula' }).click();
    const weightsError = weights.locator('.field-error');
    await weightsError.waitFor();
    expect(await weightsError.innerText()).toContain('must sum to 1 (they sum to 2)');
    await page.screenshot({ path: join(ARTIFACTS, 'admin-relationships-weights.png'), fullPage: true });
    await formula.getByLabel('Cadence (days)').fill('10');
    const valid = { Recency: '0.4', Frequency: '0.3', Reciprocity: '0.2', Depth: '0.1' };
    for (const [name, value] of Object.entries(valid)) await weights.getByLabel(name).fill(value);
    await formula.getByRole('button', { name: 'Save formula' }).click();
    await eventually(async () =>
      expect(((await ok('GET', '/api/metadata/entities/partner')) as Record<string, unknown>).signalSettings).toEqual({
        cadenceDays: 10,
        weights: { recency: 0.4, frequency: 0.3, reciprocity: 0.2, depth: 0.1 },
      }),
    );
    await formula.getByRole('button', { name: 'Reset to defaults' }).click();
    await formula.getByRole('button', { name: 'Reset to defaults' }).waitFor({ state: 'detached' });
    expect((await ok('GET', '/api/metadata/entities/partner')).signalSettings).toBeUndefined();
    expect(await weights.getByLabel('Recency').inputValue()).toBe('');

    const alerts = settings.getByRole('list', { name: 'Alerts' });
    await alerts.getByRole('button', { name: 'Enable alert Stale relationship' }).click();
    await alerts.getByRole('link', { name: 'Stale relationship: Partners' }).waitFor();
    expect(await alerts.getByRole('button', { name: 'Enable alert Stale relationship' }).count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-relationships-settings.png'), fullPage: true });

    // 4. the alert is an automation rule, in the rules list
    await automationNav.getByRole('link', { name: 'Rules' }).click();
    const row = main
      .getByRole('table', { name: 'Automation rules' })
      .getByRole('row', { name: /Stale relationship: Partners/ });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/Partner[\s\S]*Schedule 0 \* \* \* \*[\s\S]*active/);

    // 5. today: the partner whose last contact is 40 days old, with its reason as a chip
    await automationNav.getByRole('link', { name: 'Today' }).click();
    await main.getByRole('heading', { level: 1, name: 'Today' }).waitFor();
    const today = main.getByRole('list', { name: 'Whom to contact, most urgent first' });
    const stale = today.getByRole('listitem', { name: 'Bob Stale' });
    await stale.waitFor();
    await stale.getByRole('link', { name: 'Bob Stale' }).waitFor();
    const reasons = stale.getByRole('list', { name: 'Reasons' });
    expect(await reasons.innerText()).toMatch(/Stale\s+No two-way contact for 40 days/);
    expect(await stale.innerText()).toMatch(/Partner[\s\S]*\d+\s*Very weak/);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-relationships-today.png'), fullPage: true });

    // 6. a CSV file of three activities with Ada, imported: the upload, then the job until it is done
    const csv = [
      'kind,direction,subject,occurred_at,from,to',
      `email,inbound,Question about pricing,${daysAgo(3)},ada@example.com,${TEST_ADMIN.email}`,
      `email,outbound,Re: Question about pricing,${daysAgo(2)},${TEST_ADMIN.email},ada@example.com`,
      `call,outbound,Pricing call,${daysAgo(1)},${TEST_ADMIN.email},ada@example.com`,
    ].join('\n');
    await automationNav.getByRole('link', { name: 'Import activities' }).click();
    await main.getByRole('heading', { level: 1, name: 'Import activities' }).waitFor();
    const importForm = main.getByRole('form', { name: 'Import a file' });
    await importForm.getByLabel('File', { exact: true }).setInputFiles({
      name: 'ada.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`${csv}\n`),
    });
    expect(await importForm.getByLabel('Format', { exact: true }).inputValue()).toBe('csv');
    expect(await importForm.getByLabel('Your addresses', { exact: true }).inputValue()).toBe(TEST_ADMIN.email);
    await importForm.getByRole('button', { name: 'Import', exact: true }).click();
    const job = main.getByRole('region', { name: /^Import job/ });
    await job.waitFor();
    const status = job.getByRole('status');
    await eventually(async () => expect(await status.innerText()).toBe('Done: 3 imported, 0 problems.'), 30_000);
    // the job reports done just before it commits its end: the badge follows on the next poll
    await eventually(async () => expect(await job.locator('.badge').innerText()).toBe('succeeded'), 10_000);
    expect(await job.locator('.rel-counters').innerText()).toMatch(/Imported\s+3\s+Problems\s+0/);
    expect(await job.getByRole('progressbar').getAttribute('value')).toBe(
      await job.getByRole('progressbar').getAttribute('max'),
    );
    await page.screenshot({ path: join(ARTIFACTS, 'admin-relationships-import.png'), fullPage: true });
    await eventually(async () =>
      expect((await timeline(ada.id)).map((a) => a.subject)).toEqual([
        'Intro call',
        'Pricing call',
        'Re: Question about pricing',
        'Question about pricing',
      ]),
    );

    // the imported activities on Ada's timeline, their parties linked to her record
    await page.goto(`${base}/admin/data/partner/${ada.id}`);
    const imported = main
      .getByRole('region', { name: 'Timeline', exact: true })
      .getByRole('listitem', { name: /Pricing call/ });
    await imported.waitFor();
    const parties = imported.getByRole('list', { name: 'Parties' });
    expect(await parties.innerText()).toMatch(/from: admin@xrm\.test[\s\S]*to: ada@example\.com → Partner/);
    await parties.getByRole('link', { name: 'Partner “Ada Lovelace”' }).waitFor();

    // the activities' grid: a reference links to its record, a party list reads "role: address → record"
    await page.evaluate(() =>
      (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem(
        'xrm-admin:columns:activity',
        JSON.stringify(['subject', 'regarding', 'parties']),
      ),
    );
    await page.getByRole('navigation', { name: 'Data' }).getByRole('link', { name: 'Activities' }).click();
    await main.getByRole('heading', { level: 1, name: 'Activities' }).waitFor();
    const intro = main.getByRole('row', { name: /Intro call/ });
    await intro.getByRole('link', { name: /^Partner [0-9a-f]{8}…$/ }).click();
    await main.getByRole('heading', { level: 1, name: 'Ada Lovelace' }).waitFor();
    await page.goBack();
    const pricing = main.getByRole('row', { name: /Pricing call/ });
    await pricing.waitFor();
    expect(await pricing.innerText()).toMatch(/from: admin@xrm\.test;?\s*to: ada@example\.com → Partner [0-9a-f]{8}…/);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-relationships-activities.png'), fullPage: true });

    // the browser logged only the deliberate refusal
    const logged = consoleErrors.filter((e) => !SIGNED_OUT_START.test(e));
    expect(logged.filter((e) => !REFUSED_WEIGHTS.test(e))).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-relationships.png'), fullPage: true });
  }
});
