/**
 * What browser tests share: the admin UI build (made once per test run by the global setup, so two
 * suites never rebuild admin-ui/dist under each other) and Debian Chromium's launch options.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type ConsoleMessage, type Page } from 'playwright-core';
import { ROOT } from './tools.ts';

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
