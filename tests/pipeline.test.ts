/**
 * The write pipeline on both databases: every write path (REST single, bulk, upsert, GraphQL,
 * many-to-many links) runs the steps plugins register, once per record, in stage and rank order,
 * with pre- and post-images; a step can change the input, refuse the write, or write more in the
 * same transaction; anything that throws, times out or loops rolls everything back.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePlugin, type StepContext } from '../plugins/api.ts';
import { api } from './support/http.ts';
import { describeEachDatabase, startTestPlatform, type TestPlatform } from './support/platform.ts';
import { expectProblem, expectStatus } from './support/problems.ts';

interface Seen {
  plugin: string;
  stage: string;
  message: string;
  entity: string;
  id?: string;
  input: Record<string, unknown>;
  pre?: unknown;
  post?: unknown;
  depth: number;
  shared: unknown;
}

const seen: Seen[] = [];
const record = (plugin: string, stage: string) => (ctx: StepContext) => {
  seen.push({
    plugin,
    stage,
    message: ctx.message,
    entity: ctx.entity,
    id: ctx.id,
    input: { ...ctx.input },
    pre: ctx.preImage && { ...ctx.preImage },
    post: ctx.postImage && { ...ctx.postImage },
    depth: ctx.depth,
    shared: ctx.shared.get('mark'),
  });
};

const recorder = definePlugin({
  name: 'recorder',
  setup(api) {
    for (const message of ['create', 'update', 'delete', 'associate', 'disassociate'] as const) {
      for (const stage of ['validate', 'before', 'after'] as const) {
        api.on({ message, entity: 'deal', stage }, record('recorder', stage));
      }
    }
  },
});

const rules = definePlugin({
  name: 'deal-rules',
  setup(api) {
    // rank -10: runs before the recorder's rank-0 `before` step, which sees its change
    api.on({ message: 'create', entity: 'deal', stage: 'before', rank: -10 }, (ctx) => {
      ctx.shared.set('mark', 'set by rank -10');
      if (typeof ctx.input.name === 'string') ctx.input.name = ctx.input.name.trim().toUpperCase();
    });
    api.on({ message: 'update', entity: 'deal', stage: 'validate', fields: ['amount'] }, (ctx) => {
      if (typeof ctx.input.amount === 'number' && ctx.input.amount < 1000) {
        ctx.reject('A deal below 1,000 needs approval', { path: '/amount' });
      }
    });
    api.on({ message: 'create', entity: 'deal', stage: 'after' }, async (ctx) => {
      // a follow-up task in the same transaction, written before anything can fail
      await ctx.data!.create('task', { subject: `Call ${String(ctx.postImage!.name)}`, deal: ctx.postImage!.id });
      if (ctx.input.name === 'BOOM') throw new Error('the after step failed');
      if (ctx.input.name === 'SLOW') await new Promise((r) => setTimeout(r, 1500));
    });
  },
});

const loop = definePlugin({
  name: 'loop',
  setup(api) {
    api.on({ message: 'create', entity: 'echo', stage: 'after' }, async (ctx) => {
      await ctx.data!.create('echo', { name: 'echo', n: (ctx.input.n as number) + 1 });
    });
  },
});

const broken = definePlugin({
  name: 'broken',
  setup(api) {
    api.on({ message: 'create', entity: 'deal', stage: 'sometime' as never }, () => undefined);
  },
});

describeEachDatabase(
  'write pipeline',
  (get) => {
    const http = () => api(get().app);
    const count = async (entity: string) =>
      (await http().get(`/api/data/${entity}?count=true&limit=1`)).body.totalCount;
    const stages = (filter: Partial<Seen> = {}) =>
      seen
        .filter((s) => Object.entries(filter).every(([k, v]) => s[k as keyof Seen] === v))
        .map((s) => `${s.stage}:${s.message}`);

    beforeAll(async () => {
      expectStatus(
        await http().post('/api/metadata/entities', {
          name: 'deal',
          fields: [
            { name: 'name', type: 'text', required: true },
            { name: 'amount', type: 'integer' },
            { name: 'code', type: 'text', unique: true },
          ],
        }),
        201,
      );
      expectStatus(await http().post('/api/metadata/entities/deal/keys', { name: 'by_code', fields: ['code'] }), 201);
      expectStatus(
        await http().post('/api/metadata/entities', {
          name: 'task',
          fields: [
            { name: 'subject', type: 'text', required: true },
            { name: 'deal', type: 'lookup', target: 'deal', onDelete: 'cascade' },
          ],
        }),
        201,
      );
      expectStatus(
        await http().post('/api/metadata/entities', {
          name: 'echo',
          fields: [
            { name: 'name', type: 'text' },
            { name: 'n', type: 'integer' },
          ],
        }),
        201,
      );
      expectStatus(
        await http().post('/api/metadata/relationships', {
          name: 'deal_tasks',
          type: 'manyToMany',
          from: 'deal',
          to: 'task',
        }),
        201,
      );
    });

    it('skips a plugin whose setup registers an unknown stage, and starts', () => {
      expect(get().services.plugins.plugins.map((p) => p.name)).toEqual([
        'audit',
        'webhooks',
        'automation',
        'recorder',
        'deal-rules',
        'loop',
      ]);
    });

    it("lists the plugins and their steps; a disabled plugin's steps stop running at once", async () => {
      const list = expectStatus(await http().get('/api/plugins'), 200).data as {
        name: string;
        enabled: boolean;
        builtIn: boolean;
        steps: { message: string; stage: string; entity: string; fields?: string[] }[];
      }[];
      expect(list.filter((p) => !p.builtIn).map((p) => p.name)).toEqual(['recorder', 'deal-rules', 'loop']);
      expect(list.filter((p) => p.builtIn).map((p) => p.name)).toEqual(['audit', 'webhooks', 'automation']);
      const rulesSteps = list.find((p) => p.name === 'deal-rules')!.steps;
      expect(rulesSteps).toContainEqual(
        expect.objectContaining({ message: 'update', stage: 'validate', fields: ['amount'] }),
      );
      expect(expectStatus(await http().post('/api/plugins/deal-rules/disable'), 200)).toMatchObject({ enabled: false });
      const plain = expectStatus(await http().post('/api/data/deal', { name: 'lower' }), 201);
      expect(plain.name).toBe('lower');
      expect(expectStatus(await http().post('/api/plugins/deal-rules/enable'), 200)).toMatchObject({ enabled: true });
      expect(expectStatus(await http().post('/api/data/deal', { name: 'lower' }), 201).name).toBe('LOWER');
      expectProblem(await http().post('/api/plugins/nobody/disable'), 404, 'XRM_ERR_PLUGIN_NOT_FOUND');
    });

    it('runs validate, before (rank order, input changed), the write and after with the post-image', async () => {
      seen.length = 0;
      const created = expectStatus(await http().post('/api/data/deal', { name: '  acme ', amount: 5000 }), 201);
      expect(created.name).toBe('ACME');
      expect(stages({ plugin: 'recorder', message: 'create' })).toEqual([
        'validate:create',
        'before:create',
        'after:create',
      ]);
      const before = seen.find((s) => s.stage === 'before')!;
      // the rank -10 step ran first: the recorder's before step sees its change and its shared mark
      expect(before.input.name).toBe('ACME');
      expect(before.shared).toBe('set by rank -10');
      const after = seen.find((s) => s.stage === 'after' && s.message === 'create')!;
      expect(after.post).toMatchObject({ id: created.id, name: 'ACME', version: 1 });
      expect(after.depth).toBe(1);
      // the after step's task was written in the same transaction
      const tasks = expectStatus(await http().get(`/api/data/task?filter=deal eq '${created.id}'`), 200).data;
      expect(tasks.map((t: { subject: string }) => t.subject)).toEqual(['Call ACME']);
    });

    it('gives update and delete the locked pre-image, update the post-image too', async () => {
      const deal = expectStatus(await http().post('/api/data/deal', { name: 'beta', amount: 2000 }), 201);
      seen.length = 0;
      expectStatus(await http().patch(`/api/data/deal/${deal.id}`, { amount: 3000 }), 200);
      const update = seen.find((s) => s.stage === 'after' && s.message === 'update')!;
      expect(update.id).toBe(deal.id);
      expect(update.pre).toMatchObject({ amount: 2000, version: 1 });
      expect(update.post).toMatchObject({ amount: 3000, version: 2 });
      seen.length = 0;
      expect((await http().delete(`/api/data/deal/${deal.id}`)).status).toBe(204);
      expect(stages({ message: 'delete' })).toEqual(['validate:delete', 'before:delete', 'after:delete']);
      expect(seen.find((s) => s.stage === 'after')!.pre).toMatchObject({ id: deal.id, amount: 3000 });
    });

    it("refuses in validate with 422 and the step's message and path; fields filter the steps", async () => {
      const deal = expectStatus(await http().post('/api/data/deal', { name: 'gamma', amount: 5000 }), 201);
      const refused = expectProblem(
        await http().patch(`/api/data/deal/${deal.id}`, { amount: 10 }),
        422,
        'XRM_ERR_PLUGIN_REJECTED',
        '/amount',
      );
      expect(refused.body.detail).toBe('A deal below 1,000 needs approval');
      expect(refused.body.plugin).toBe('deal-rules');
      // unchanged
      expect(expectStatus(await http().get(`/api/data/deal/${deal.id}`), 200).amount).toBe(5000);
      // an update without amount does not run the amount rule
      expectStatus(await http().patch(`/api/data/deal/${deal.id}`, { name: 'gamma 2' }), 200);
    });

    it('rolls everything back when an after step throws or outlives its budget', async () => {
      const deals = await count('deal');
      const tasks = await count('task');
      const failed = await http().post('/api/data/deal', { name: 'boom' });
      expect(failed.status).toBe(500);
      expect(failed.body.errorId).toEqual(expect.any(String));
      expect(failed.text).not.toContain('the after step failed');
      const slow = await http().post('/api/data/deal', { name: 'slow' });
      expect(slow.status).toBe(500);
      expect(await count('deal')).toBe(deals);
      expect(await count('task')).toBe(tasks);
    });

    it('stops a chain of step writes deeper than 8 with a coded error, writing nothing', async () => {
      const before = await count('echo');
      expectProblem(await http().post('/api/data/echo', { name: 'echo', n: 1 }), 422, 'XRM_ERR_PLUGIN_DEPTH_EXCEEDED');
      expect(await count('echo')).toBe(before);
    });

    it('runs the steps once per record on bulk, upsert, GraphQL and link writes', async () => {
      seen.length = 0;
      expectStatus(
        await http().post('/api/data/deal/bulk', { operation: 'create', records: [{ name: 'b1' }, { name: 'b2' }] }),
        200,
      );
      expect(stages({ plugin: 'recorder', stage: 'after' })).toEqual(['after:create', 'after:create']);
      seen.length = 0;
      const first = await http().post('/api/data/deal/upsert', { code: 'U-1', name: 'upserted' });
      expect(first.status).toBe(201);
      const second = await http().post('/api/data/deal/upsert', { code: 'U-1', name: 'upserted again' });
      expect(second.status).toBe(200);
      // an upsert resolves to create, then to update (with the pre-image), before any step runs
      expect(stages({ plugin: 'recorder', stage: 'after' })).toEqual(['after:create', 'after:update']);
      // validate steps too see what the upsert will be: the second one validates as an update of that record
      expect(stages({ plugin: 'recorder', stage: 'validate' })).toEqual(['validate:create', 'validate:update']);
      expect(seen.filter((s) => s.stage === 'validate')[1]!.id).toBe(first.body.id);
      expect(seen.filter((s) => s.stage === 'after')[1]!.pre).toMatchObject({ name: 'UPSERTED' });
      seen.length = 0;
      const gql = await http().graphql('mutation { a: createDeal(input: { name: "g1" }) { id name } }');
      expect(gql.body.errors).toBeUndefined();
      expect(gql.body.data.a.name).toBe('G1');
      expect(stages({ plugin: 'recorder', stage: 'after' })).toEqual(['after:create']);
      seen.length = 0;
      const task = expectStatus(await http().post('/api/data/task', { subject: 'linked' }), 201);
      expect((await http().post(`/api/data/deal/${gql.body.data.a.id}/deal_tasks`, { id: task.id })).status).toBe(204);
      expect(stages({ plugin: 'recorder', message: 'associate' })).toEqual([
        'validate:associate',
        'before:associate',
        'after:associate',
      ]);
    });
  },
  { config: { pluginTimeoutMs: 500 }, build: { plugins: [recorder, rules, loop, broken] } },
);

describe('plugins loaded from XRM_PLUGINS_DIR', () => {
  let dir: string;
  let platform: TestPlatform | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xrm-plugins-'));
    writeFileSync(
      join(dir, 'good.mjs'),
      `export default {
        name: 'from-folder',
        setup(api) {
          api.on({ message: 'create', entity: '*', stage: 'before' }, (ctx) => {
            ctx.input.label = 'set by a plugin';
          });
        },
      };\n`,
    );
    writeFileSync(join(dir, 'broken.mjs'), "throw new Error('cannot load');\n");
    writeFileSync(join(dir, 'not-a-plugin.mjs'), 'export default 42;\n');
    writeFileSync(join(dir, 'notes.txt'), 'not a module\n');
    platform = await startTestPlatform('pglite', { pluginsDir: dir });
  });
  afterAll(async () => {
    await platform?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("loads the folder's plugin modules, skips the ones that fail, and runs their steps", async () => {
    const http = api(platform!.app);
    const names = expectStatus(await http.get('/api/plugins'), 200)
      .data.filter((p: { builtIn: boolean }) => !p.builtIn)
      .map((p: { name: string }) => p.name);
    expect(names).toEqual(['from-folder']);
    expectStatus(
      await http.post('/api/metadata/entities', { name: 'note', fields: [{ name: 'label', type: 'text' }] }),
      201,
    );
    expect(expectStatus(await http.post('/api/data/note', { label: 'typed' }), 201).label).toBe('set by a plugin');
  });
});
