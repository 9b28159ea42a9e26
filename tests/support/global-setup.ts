/** vitest globalSetup: work every suite relies on, done once before any test file starts. */
import { ensureAdminBuild } from './browser.ts';

export default function setup(): void {
  ensureAdminBuild();
}
