/**
 * The README as the tests read it: its sections, their ```sh blocks and ```json answers, and a
 * bash session that runs blocks one after another (variables carry over), with curl against a
 * real server socket in place of http://localhost:3000.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The README from one heading up to the next one named. */
export const section = (from: string, to: string) => README.slice(README.indexOf(from), README.indexOf(to));

export const shBlocks = (text: string) => [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

export const jsonBlocks = (text: string) => [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());

/** The tour's first block: `XRM_ADMIN_EMAIL=… XRM_ADMIN_PASSWORD='…' npm start` → [email, password]. */
export function tourAdmin(start: string | undefined): [string, string] | undefined {
  const m = /^XRM_ADMIN_EMAIL=(\S+) XRM_ADMIN_PASSWORD='([^']+)' npm start$/m.exec(start ?? '');
  return m ? [m[1]!, m[2]!] : undefined;
}

/** Runs the blocks in ONE bash session against `base`; answers what each printed (curl adds a newline per call). */
export async function shellSession(base: string, scripts: readonly string[]): Promise<string[]> {
  const marker = '@@block@@';
  const script = scripts.map((s) => `${s}\necho ${marker}`).join('\n');
  const { stdout } = await run('bash', [
    '-euo',
    'pipefail',
    '-c',
    `curl() { command curl "$@"; echo; }\n${script.replaceAll('http://localhost:3000', base)}`,
  ]);
  return stdout.split(`${marker}\n`);
}
