/**
 * What browser tests share: the admin UI build (made once per test run by the global setup, so two
 * suites never rebuild admin-ui/dist under each other) and Debian Chromium's launch options.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type ConsoleMessage, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Config } from '../../server/config.ts';
import { adminToken } from './http.ts';
import { type DatabaseKind, startTestPlatform, type TestPlatform } from './platform.ts';
import { listen, ROOT } from './tools.ts';

const ADMIN = join(ROOT, 'admin-ui');
const DIST_INDEX = join(ADMIN, 'dist', 'index.html');

/** Where browser tests leave screenshots of failures. */
export const ARTIFACTS = join(ROOT, 'tests', 'artifacts');

/** Retries an assertion until it passes (the UI updates asynchronously). */
export async function eventually(assertion: () => Promise<void> | void, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Newest modification time under admin-ui/ (dist and node_modules aside). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the admin UI (and its GraphiQL entry) when the build is missing or older than its sources. */
export function ensureAdminBuild(): void {
  if (existsSync(DIST_INDEX) && statSync(DIST_INDEX).mtimeMs >= newestSource(ADMIN)) return;
  // vitest sets NODE_ENV=test, which would make Vite bundle React's development build
  execFileSync('npm', ['run', '--silent', 'build:admin'], {
    cwd: ROOT,
    stdio: 'pipe',
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

/** Debian's Chromium, headless. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Chromium and one page, with every console error and page error the app logs collected in `consoleErrors`. */
export async function openPage(
  viewport: { width: number; height: number },
  options: { locale?: string } = {},
): Promise<{ browser: Browser; page: Page; consoleErrors: string[] }> {
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport, ...options });
  page.setDefaultTimeout(10_000);
  const consoleErrors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} @ ${message.location().url}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  return { browser, page, consoleErrors };
}

/**
 * What an admin UI scenario runs on: a platform served on a loopback port, the test administrator's
 * bearer header for the test's own API calls, and Chromium with one page. Fails, never skips,
 * without the browser.
 */
export interface AdminSession {
  readonly platform: TestPlatform;
  readonly base: string;
  readonly auth: Record<string, string>;
  readonly browser: Browser;
  readonly page: Page;
  readonly consoleErrors: string[];
}

export async function openAdminSession(kind: DatabaseKind, config: Partial<Config> = {}): Promise<AdminSession> {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is required (apt-get install chromium)`).toBe(true);
  const platform = await startTestPlatform(kind, config);
  const base = await listen(platform.app);
  const token = await adminToken(platform.app);
  expect(token, 'the test administrator signs in').toBeTruthy();
  const { browser, page, consoleErrors } = await openPage({ width: 1280, height: 900 }, { locale: 'en-US' });
  mkdirSync(ARTIFACTS, { recursive: true });
  return { platform, base, auth: { authorization: `Bearer ${token}` }, browser, page, consoleErrors };
}

export async function closeAdminSession(session: AdminSession | undefined): Promise<void> {
  await session?.browser.close();
  await session?.platform.close();
}

/** Runs a browser scenario; when it fails, a full-page screenshot `<name>-failure.png` is left in ARTIFACTS. */
export async function withFailureScreenshot(page: Page, name: string, scenario: () => Promise<void>): Promise<void> {
  try {
    await scenario();
  } catch (error) {
    await page.screenshot({ path: join(ARTIFACTS, `${name}-failure.png`), fullPage: true }).catch(() => {});
    throw error;
  }
}
