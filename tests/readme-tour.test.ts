/**
 * The README's five-minute tour, run exactly as written: every ```sh block of the tour section is
 * executed with bash and curl against a real server socket (only the host and port are swapped).
 * The first block starts the server: the test starts the platform itself, with the administrator
 * that block's XRM_ADMIN_EMAIL and XRM_ADMIN_PASSWORD name. The sign-in block's `TOKEN` is handed
 * to every later block, as the reader's shell keeps it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/platform.ts';

const run = promisify(execFile);
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const tour = readme.slice(readme.indexOf('## A five-minute tour'), readme.indexOf('## The metadata API'));
const [start, signIn, ...blocks] = [...tour.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
/** The server's first start, as the README runs it: `XRM_ADMIN_EMAIL=… XRM_ADMIN_PASSWORD='…' npm start`. */
const admin = /^XRM_ADMIN_EMAIL=(\S+) XRM_ADMIN_PASSWORD='([^']+)' npm start$/m.exec(start ?? '');
// the Querying section's examples (the security section's, after it, have their own test)
const querying = readme.slice(readme.indexOf('## Querying'), readme.indexOf('## Performance'));
const queryBlocks = [...querying.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
/** Step 7, refused on purpose. */
const badInput = blocks.find((b) => b.includes('not-an-email'));
const expectedProblem = JSON.parse([...tour.matchAll(/```json\n([\s\S]*?)```/g)][0]![1]!) as Record<string, unknown>;

it('starts the server with a first administrator, then signs in keeping the token in TOKEN', () => {
  expect(admin, start).not.toBeNull();
  expect(signIn).toMatch(/^TOKEN=\$\(curl -s -X POST http:\/\/localhost:3000\/api\/auth\/login /);
  expect(signIn).toContain(`"email": "${admin![1]}"`);
  expect(signIn).toContain(`"password": "${admin![2]}"`);
  // every later command sends it
  for (const block of [...blocks, ...queryBlocks])
    for (const command of block.split(/\n(?=\S)/).filter((c) => c.includes('curl ')))
      expect(command, command).toContain('-H "Authorization: Bearer $TOKEN"');
});

describeEachDatabase(
  'README tour',
  (get) => {
    let base = '';
    /** What the sign-in block left in TOKEN. */
    let token = '';
    beforeAll(async () => {
      const address = await get().app.listen({ port: 0, host: '127.0.0.1' });
      base = address.replace('127.0.0.1', 'localhost');
      token = (await bash(`${signIn}printf '%s' "$TOKEN"`, true)).trim();
    });

    async function bash(script: string, failOnHttpError: boolean): Promise<string> {
      const wrapper = failOnHttpError
        ? 'curl() { command curl --fail-with-body "$@"; echo; }'
        : 'curl() { command curl "$@"; echo; }';
      const { stdout } = await run(
        'bash',
        ['-euo', 'pipefail', '-c', `${wrapper}\n${script.replaceAll('http://localhost:3000', base)}`],
        { env: { ...process.env, ...(token ? { TOKEN: token } : {}) } },
      );
      return stdout;
    }
    const signedIn = () => ({ authorization: `Bearer ${token}` });

    it('has the blocks the tour describes, and signs in', async () => {
      expect(blocks.length).toBeGreaterThanOrEqual(6);
      // a session token, which the API takes
      expect(token).toMatch(/^xrms_/);
      expect((await fetch(`${base}/api/auth/me`, { headers: signedIn() })).status).toBe(200);
      expect((await fetch(`${base}/api/metadata/entities`)).status).toBe(401);
    });

    it('runs every step with success answers and no GraphQL errors', async () => {
      let last = '';
      for (const block of blocks.filter((b) => b !== badInput)) {
        const out = await bash(block, true);
        expect(out, block).not.toMatch(/"errors"\s*:/);
        expect(out, block).not.toContain('XRM_ERR_');
        last = out;
      }
      // step 8: the signals recompute from their parts, the timeline is newest first, Acme is on today's list
      const [tracked, ingested, signals, timeline, today] = last
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
      expect(tracked.trackActivities).toBe(true);
      expect(ingested.data.map((a: { created: boolean }) => a.created)).toEqual([true, true, true]);
      const w = signals.weights;
      const f = signals.factors;
      const sum = w.recency * f.recency + w.frequency * f.frequency + w.reciprocity * f.reciprocity + w.depth * f.depth;
      expect(Math.round(100 * sum)).toBe(signals.score);
      expect(signals.score).toBeGreaterThan(0);
      expect(signals.activityIds).toHaveLength(3);
      expect(timeline.data.map((a: { subject: string }) => a.subject)).toEqual(['Pricing questions', 'Re: Our offer']);
      const acme = today.data.find((x: { name: string }) => x.name === 'Acme Corp');
      expect(acme.reason).toBe('No two-way contact for 38 days (cadence 14 days)');
    });

    it('answers the bad-input step with the problem document shown', async () => {
      const out = await bash(badInput!, false);
      expect(JSON.parse(out)).toEqual(expectedProblem);
    });

    it('runs the Querying section examples, all answered with success', async () => {
      expect(queryBlocks.length).toBeGreaterThanOrEqual(4);
      for (const block of queryBlocks) {
        const out = await bash(block, true);
        expect(out, block).not.toMatch(/"errors"\s*:/);
        expect(out, block).not.toContain('XRM_ERR_');
      }
    });

    it('really modelled and stored what the tour says', async () => {
      const read = async <T>(path: string) =>
        (await (await fetch(`${base}${path}`, { headers: signedIn() })).json()) as T;
      const employees = await read<{ totalCount: number }>('/api/data/employee?count=true');
      expect(employees.totalCount).toBe(2);
      const supplier = await read<{ data: { code: string }[] }>('/api/data/supplier');
      expect(supplier.data[0]!.code).toBe('SUP-00001');
      const devices = await read<{ data: { telemetry: unknown }[] }>('/api/data/iot_device');
      expect(devices.data.map((d) => d.telemetry)).toContainEqual({ temperature: 21.5, rpm: [120, 118, 121] });
    });
  },
  // the administrator the README's first start creates
  { config: { adminEmail: admin?.[1], adminPassword: admin?.[2] } },
);
