/**
 * The README's "Write a plugin" section, run as written on both databases: its plugin module is
 * loaded from XRM_PLUGINS_DIR (importing `xrm-platform/plugins`, the package entry, as a user's
 * module would), its curl commands run with bash against a real socket, and its webhook receiver
 * runs as its own Node process and verifies a real delivery's signature. The TypeScript
 * example compiles against the package's declarations. `$TOKEN` is the administrator's session
 * token, as the tour's sign-in leaves it.
 */
import { connect } from 'node:net';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminToken, api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectStatus } from './support/problems.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Write a plugin'), readme.indexOf('## Typed SDK'));
const [pluginModule, receiverModule] = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
const shBlocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

// inside the package folder, so `import 'xrm-platform/plugins'` resolves as in a user's plugins.d
const dir = mkdtempSync(join(ROOT, 'tests', '.plugins-'));
const pluginsDir = join(dir, 'plugins.d');
mkdirSync(pluginsDir);
writeFileSync(join(pluginsDir, 'crm-rules.mjs'), pluginModule!);
writeFileSync(join(dir, 'receiver.mjs'), receiverModule!);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('has the plugin, the receiver and the commands the section describes', () => {
  expect(pluginModule).toContain("from 'xrm-platform/plugins'");
  expect(receiverModule).toContain("from 'standardwebhooks'");
  expect(shBlocks).toHaveLength(2);
});

it("compiles the issue's TypeScript example against the package's declarations", async () => {
  writeFileSync(
    join(dir, 'typed.ts'),
    `import { definePlugin } from 'xrm-platform/plugins';
const normalize = (phone: string) => phone.replace(/[^+\\d]/g, '');
export default definePlugin({ name: 'phone-normalizer', version: '1.0.0', setup(api) {
  api.on({ message: 'create', entity: 'partner', stage: 'before', rank: 10 }, (ctx) => {
    ctx.input.phone = normalize(ctx.input.phone);
  });
  api.on({ message: 'update', entity: 'deal', stage: 'validate', fields: ['amount'] }, (ctx) => {
    if (ctx.input.amount < 1000) ctx.reject('A deal below 1,000 needs approval', { path: '/amount' });
  });
} });
`,
  );
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
  const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', 'typed.ts'];
  await expect(run(tsc, args, { cwd: dir })).resolves.toBeDefined();
});

describeEachDatabase(
  'README: write a plugin',
  (get) => {
    let base = '';
    let token = '';
    beforeAll(async () => {
      const address = await get().app.listen({ port: 0, host: '127.0.0.1' });
      base = address.replace('127.0.0.1', 'localhost');
      const signedIn = await adminToken(get().app);
      if (!signedIn) throw new Error('the test administrator could not sign in');
      token = signedIn;
    });
    const bash = async (script: string) =>
      (
        await run(
          'bash',
          [
            '-euo',
            'pipefail',
            '-c',
            `curl() { command curl "$@"; echo; }\n${script.replaceAll('http://localhost:3000', base)}`,
          ],
          { env: { ...process.env, TOKEN: token } },
        )
      ).stdout;

    it('loads the module from the plugins folder', () => {
      const plugin = get().services.plugins.plugin('crm-rules');
      expect(plugin?.messages).toEqual(['win_deal']);
      expect(plugin?.steps.map((s) => s.stage)).toEqual(['before', 'validate', 'async']);
    });

    it('runs the commands with the answers the section describes', async () => {
      const first = await bash(shBlocks[0]!);
      expect(first).toContain('"phone":"+442079460958"');
      const lines = (await bash(shBlocks[1]!)).trim().split('\n');
      const [refused, won, history] = lines.map((l) => JSON.parse(l));
      expect(refused).toEqual(
        expect.objectContaining({
          status: 422,
          code: 'XRM_ERR_PLUGIN_REJECTED',
          errors: [{ path: '/amount', message: 'A deal below 1,000 needs approval' }],
        }),
      );
      expect(won).toEqual({ output: { stage: 'won' } });
      expect(history.data.map((e: { message: string }) => e.message)).toEqual(['update', 'create']);
      expect(history.data[0].changes).toEqual([{ field: 'stage', old: null, new: 'won' }]);
    });

    it("runs the receiver, which verifies a real delivery's signature", async () => {
      const http = api(get().app);
      const port = 40000 + Math.floor(Math.random() * 20000);
      const hook = expectStatus(
        await http.post('/api/webhooks', { url: `http://127.0.0.1:${port}/`, entity: 'lead', messages: ['create'] }),
        201,
      );
      const child = spawn(process.execPath, ['receiver.mjs'], {
        cwd: dir,
        env: { ...process.env, WEBHOOK_SECRET: hook.secret, PORT: String(port) },
      });
      try {
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        // the receiver is listening (a loaded machine starts a process slowly: a delivery that finds
        // the port closed is retried seconds later, past this test's patience)
        const listening = () =>
          new Promise<boolean>((resolve) => {
            const socket = connect(port, '127.0.0.1');
            socket.once('connect', () => resolve(socket.end() !== undefined));
            socket.once('error', () => resolve(false));
          });
        const ready = Date.now() + 10_000;
        while (!(await listening()) && Date.now() < ready) await new Promise((r) => setTimeout(r, 50));
        const lead = expectStatus(await http.post('/api/data/lead', { name: 'Grace' }), 201);
        const deadline = Date.now() + 10_000;
        while (!out.includes(lead.id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
        expect(out).toContain(`verified lead.created ${lead.id}`);
      } finally {
        child.kill();
        expectStatus(await http.delete(`/api/webhooks/${hook.id}`), 204);
      }
    });
  },
  { config: { pluginsDir, webhookAllowHosts: '127.0.0.1' } },
);
