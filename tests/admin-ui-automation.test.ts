/**
 * The admin UI's automation pages end to end, in headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core) against the platform on a real socket: the test administrator builds a
 * manual rule in the rule builder (an update action whose value first names a field that does not
 * exist — the server's error shows next to that value — and a notify action written with a template
 * chip), dry-runs it on a record, saves a change (version 2), finds it in the rules list with its
 * health, presses its button on the record page and sees the record change, reads the run log,
 * approves in the inbox a suggestion that a rule made through the API, and follows the header's bell
 * (its unread count) to the notifications, marking them read. Without Chromium this suite fails: it
 * is never skipped.
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
/** The one refusal the scenario provokes: saving a rule whose value names a field the entity lacks. */
const REFUSED_RULE = /status of 400 \(Bad Request\) @ http:\/\/127\.0\.0\.1:\d+\/api\/automation\/rules$/;

describe('admin UI automation in Chromium [pglite]', () => {
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

  it('builds a manual rule, runs it from a record page, approves a suggestion and reads notifications', async () => {
    await withFailureScreenshot(page, 'admin-automation', scenario);
  });

  async function scenario(): Promise<void> {
    const main = page.locator('main');
    const automationNav = page.getByRole('navigation', { name: 'Automation' });
    const bell = page.getByRole('link', { name: /^Notifications/ });

    // a small model and one record, through the API
    await ok('POST', '/api/metadata/entities', {
      name: 'chore',
      fields: [
        { name: 'title', displayName: 'Title', type: 'text', required: true },
        { name: 'status', displayName: 'Status', type: 'text' },
        { name: 'due_on', displayName: 'Due on', type: 'date' },
      ],
    });
    const chore = (await ok('POST', '/api/data/chore', { title: 'Water the plants', status: 'open' })) as {
      id: string;
    };
    const status = async () => ((await ok('GET', `/api/data/chore/${chore.id}`)) as { status: string }).status;

    // 1. the rules page, empty, with its health
    await page.goto(`${base}/admin/automation`);
    const form = page.getByRole('form', { name: 'Sign in' });
    await form.getByLabel('Email', { exact: true }).fill(TEST_ADMIN.email);
    await form.getByLabel('Password', { exact: true }).fill(TEST_ADMIN.password);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await main.getByRole('heading', { level: 1, name: 'Automation' }).waitFor();
    await main.getByText('No rules yet').waitFor();
    await main.getByRole('region', { name: 'Health' }).getByText('0 invalid').waitFor();

    // 2. the builder: a manual rule on chores that sets the status and notifies the owner
    await main.getByRole('link', { name: 'New rule' }).click();
    await main.getByRole('heading', { level: 1, name: 'New rule' }).waitFor();
    const builder = main.getByRole('region', { name: 'Rule builder' });
    await builder.getByLabel('Name', { exact: true }).fill('Finish chore');
    await builder.getByLabel('Entity', { exact: true }).selectOption('chore');
    await builder.getByRole('radio', { name: /^By hand/ }).check();
    const update = builder.getByRole('region', { name: 'Action 1' });
    expect(await update.getByLabel('Action 1', { exact: true }).inputValue()).toBe('update');
    await update.getByRole('button', { name: 'Add field' }).click();
    await update.getByLabel('Field', { exact: true }).selectOption('status');
    const statusValue = update.getByLabel('Status', { exact: true });
    await statusValue.fill('{{record.nope}}');
    // a second action, its text written with a template chip inserted at the cursor
    await builder.getByLabel('New action').selectOption('notify');
    await builder.getByRole('button', { name: 'Add action' }).click();
    const notify = builder.getByRole('region', { name: 'Action 2' });
    expect(await notify.getByLabel('To', { exact: true }).inputValue()).toBe('owner');
    const text = notify.getByLabel('Text', { exact: true });
    await text.click();
    await builder
      .getByRole('list', { name: 'Templates of the record' })
      .getByRole('button', { name: '{{record.title}}' })
      .click();
    await text.press('End');
    await text.pressSequentially(' is done');
    expect(await text.inputValue()).toBe('{{record.title}} is done');

    // the server's refusal is shown next to the value it is about
    await builder.getByRole('button', { name: 'Create rule' }).click();
    const valueError = update.locator('.value-row .field-error');
    await valueError.waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'admin-automation-builder.png'), fullPage: true });
    expect(await valueError.innerText()).toContain('has no field "nope"');
    expect(await statusValue.getAttribute('aria-invalid')).toBe('true');
    await statusValue.fill('done');
    await builder.getByRole('button', { name: 'Create rule' }).click();
    await main.getByRole('heading', { level: 1, name: 'Finish chore' }).waitFor();
    expect(new URL(page.url()).pathname).toMatch(/^\/admin\/automation\/[0-9a-f-]{36}$/);
    const ruleId = new URL(page.url()).pathname.split('/').pop()!;
    const saved = (await ok('GET', `/api/automation/rules/${ruleId}`)) as Record<string, unknown>;
    expect(saved).toMatchObject({
      name: 'Finish chore',
      entity: 'chore',
      trigger: { type: 'manual' },
      status: 'active',
      actions: [
        { type: 'update', values: { status: 'done' } },
        { type: 'notify', to: 'owner', text: '{{record.title}} is done' },
      ],
    });

    // 3. a dry run on the record: it matches, and says what the actions would do (nothing is written)
    const test = main.getByRole('form', { name: 'Test on a record' });
    await test.getByLabel('Record id', { exact: true }).fill(chore.id);
    await test.getByRole('button', { name: 'Test', exact: true }).click();
    const result = test.locator('.test-result');
    await result.getByText('matches', { exact: true }).waitFor();
    expect(await result.innerText()).toContain('Water the plants is done');
    expect(await status()).toBe('open');

    // an edit is saved as the rule's next version
    await builder.getByLabel('Description', { exact: true }).fill('Marks the chore done');
    await builder.getByRole('button', { name: 'Save rule' }).click();
    await main.getByText('version 2').waitFor();
    expect(await ok('GET', `/api/automation/rules/${ruleId}`)).toMatchObject({
      description: 'Marks the chore done',
      version: 2,
      actions: [{ type: 'update' }, { type: 'notify' }],
    });

    // 4. the rules list: the new rule, its trigger and status, with the switch on
    await automationNav.getByRole('link', { name: 'Rules' }).click();
    const row = main.getByRole('table', { name: 'Automation rules' }).getByRole('row', { name: /Finish chore/ });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/Chore\s+By hand, from a record page\s+active/);
    expect(await row.getByRole('switch', { name: 'Enable rule Finish chore' }).isChecked()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-automation-rules.png'), fullPage: true });

    // 5. the record page's button runs it on the record, which is read again; the bell counts the notification
    await page.goto(`${base}/admin/data/chore/${chore.id}`);
    await main.getByRole('heading', { level: 1, name: 'Water the plants' }).waitFor();
    expect(await main.getByLabel('Status', { exact: true }).inputValue()).toBe('open');
    await main.getByRole('region', { name: 'Automation' }).getByRole('button', { name: 'Finish chore' }).click();
    await eventually(async () => expect(await main.getByLabel('Status', { exact: true }).inputValue()).toBe('done'));
    expect(await status()).toBe('done');
    await eventually(async () => expect(await bell.getAttribute('aria-label')).toBe('Notifications, 1 unread'));
    expect(await bell.innerText()).toBe('1');
    await page.screenshot({ path: join(ARTIFACTS, 'admin-automation-record.png') });

    // 6. the run log lists the manual run
    await page.goto(`${base}/admin/automation/${ruleId}/runs`);
    const runRow = main.getByRole('table', { name: 'Run log' }).getByRole('row').nth(1);
    await runRow.waitFor();
    await eventually(async () =>
      expect(await runRow.innerText()).toMatch(/manual[\s\S]*Chore “Water the plants”[\s\S]*succeeded/),
    );

    // 7. a suggestion a rule made (through the API) waits in the inbox; approving it runs its action
    const suggesting = (await ok('POST', '/api/automation/rules', {
      name: 'Propose a review',
      entity: 'chore',
      trigger: { type: 'manual' },
      actions: [
        {
          type: 'suggest',
          reason: 'Review {{record.title}}',
          actions: [{ type: 'update', values: { status: 'review' } }],
        },
      ],
    })) as { id: string };
    const run = (await ok('POST', `/api/automation/rules/${suggesting.id}/run`, { id: chore.id })) as {
      outcome: string;
    };
    expect(run.outcome).toBe('suggested');
    await automationNav.getByRole('link', { name: 'Suggestions' }).click();
    await main.getByRole('heading', { level: 1, name: 'Suggestions' }).waitFor();
    const card = main.getByRole('article', { name: 'Review Water the plants' });
    await card.waitFor();
    await card.getByRole('link', { name: 'Chore “Water the plants”' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'admin-automation-suggestions.png'), fullPage: true });
    expect(await card.getByRole('list', { name: 'Proposed actions' }).innerText()).toMatch(/Status → review/);
    await card.getByRole('button', { name: 'Approve: Review Water the plants' }).click();
    await main.getByText('No pending suggestions').waitFor();
    expect(await status()).toBe('review');
    await main.getByRole('tab', { name: 'Approved' }).click();
    await main.getByRole('article', { name: 'Review Water the plants' }).getByText('approved').waitFor();

    // 8. the bell leads to the notifications; marking them read empties its count
    await bell.click();
    await main.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
    const list = main.getByRole('list', { name: 'Notifications' });
    await list.getByText('Water the plants is done').waitFor();
    await main.getByRole('button', { name: 'Mark all read' }).click();
    await eventually(async () => expect(await bell.getAttribute('aria-label')).toBe('Notifications'));
    expect(((await ok('GET', '/api/notifications?unread=true')) as { unread: number }).unread).toBe(0);

    // the browser logged only the deliberate refusal
    const logged = consoleErrors.filter((e) => !SIGNED_OUT_START.test(e));
    expect(logged.filter((e) => !REFUSED_RULE.test(e))).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-automation.png'), fullPage: true });
  }
});
