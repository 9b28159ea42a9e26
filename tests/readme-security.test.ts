/**
 * The README's security section, run as written: its ```sh blocks in one bash session (so `$PAT`
 * carries from block to block) with curl against a real socket, `$TOKEN` being the
 * administrator's token as in the tour. The answers must be the ones the section shows.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { adminToken } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';

const run = promisify(execFile);
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = readme.slice(
  readme.indexOf('## Security: users, roles, and who sees what'),
  readme.indexOf('## When things go wrong'),
);
const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
const answers = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());

describeEachDatabase('README security section', (get) => {
  let base = '';
  let token = '';
  beforeAll(async () => {
    const address = await get().app.listen({ port: 0, host: '127.0.0.1' });
    base = address.replace('127.0.0.1', 'localhost');
    token = (await adminToken(get().app))!;
  });

  /** Runs the blocks in one shell; answers what each printed (curl's output, a newline after each call). */
  async function session(scripts: readonly string[]): Promise<string[]> {
    const marker = '@@block@@';
    const script = scripts.map((s) => `${s}\necho ${marker}`).join('\n');
    const { stdout } = await run(
      'bash',
      [
        '-euo',
        'pipefail',
        '-c',
        `curl() { command curl "$@"; echo; }\n${script.replaceAll('http://localhost:3000', base)}`,
      ],
      { env: { ...process.env, TOKEN: token } },
    );
    return stdout.split(`${marker}\n`).slice(0, scripts.length);
  }

  it('shows a partner manager only her region, without the revenue, and refuses sorting by it', async () => {
    expect(blocks).toHaveLength(3);
    expect(answers).toHaveLength(2);
    const [modelled, listed, sorted] = await session(blocks);
    // every modelling call succeeded
    expect(modelled).not.toContain('XRM_ERR_');
    const created = modelled!
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(created.map((c) => c.name ?? c.data?.length)).toEqual([
      'partner',
      'partner_manager',
      'emea-sales',
      undefined,
      2,
    ]);
    expect(created[3]).toMatchObject({ email: 'pat@example.com', roles: ['partner_manager'], teams: ['emea-sales'] });
    // Pat's list: what the README shows, the id aside
    const page = JSON.parse(listed!.trim());
    const shown = JSON.parse(answers[0]!);
    expect(page.data).toHaveLength(1);
    expect(page).toEqual({ data: [{ ...shown.data[0], id: page.data[0].id }] });
    expect(listed).not.toContain('1200000');
    // the refusal, exactly as shown
    expect(JSON.parse(sorted!.trim())).toEqual(JSON.parse(answers[1]!));
  });
});
