/**
 * The README's five-minute tour, run exactly as written: every ```sh block of the tour section is
 * executed with bash and curl against a real server socket (only the host and port are swapped).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/platform.ts';

const run = promisify(execFile);
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const tour = readme.slice(readme.indexOf('## A five-minute tour'), readme.indexOf('## The metadata API'));
const blocks = [...tour.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
const querying = readme.slice(readme.indexOf('## Querying'), readme.indexOf('## Configuration'));
const queryBlocks = [...querying.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
const expectedProblem = JSON.parse([...tour.matchAll(/```json\n([\s\S]*?)```/g)][0]![1]!) as Record<string, unknown>;

describeEachDatabase('README tour', (get) => {
  let base = '';
  beforeAll(async () => {
    const address = await get().app.listen({ port: 0, host: '127.0.0.1' });
    base = address.replace('127.0.0.1', 'localhost');
  });

  async function bash(script: string, failOnHttpError: boolean): Promise<string> {
    const wrapper = failOnHttpError
      ? 'curl() { command curl --fail-with-body "$@"; echo; }'
      : 'curl() { command curl "$@"; echo; }';
    const { stdout } = await run('bash', [
      '-euo',
      'pipefail',
      '-c',
      `${wrapper}\n${script.replaceAll('http://localhost:3000', base)}`,
    ]);
    return stdout;
  }

  it('has the blocks the tour describes', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
  });

  it('runs every step with success answers and no GraphQL errors', async () => {
    for (const block of blocks.slice(0, -1)) {
      const out = await bash(block, true);
      expect(out, block).not.toMatch(/"errors"\s*:/);
      expect(out, block).not.toContain('XRM_ERR_');
    }
  });

  it('answers the bad-input step with the problem document shown', async () => {
    const out = await bash(blocks[blocks.length - 1]!, false);
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
    const employees = (await (await fetch(`${base}/api/data/employee?count=true`)).json()) as { totalCount: number };
    expect(employees.totalCount).toBe(2);
    const supplier = (await (await fetch(`${base}/api/data/supplier`)).json()) as { data: { code: string }[] };
    expect(supplier.data[0]!.code).toBe('SUP-00001');
    const devices = (await (await fetch(`${base}/api/data/iot_device`)).json()) as { data: { telemetry: unknown }[] };
    expect(devices.data.map((d) => d.telemetry)).toContainEqual({ temperature: 21.5, rpm: [120, 118, 121] });
  });
});
