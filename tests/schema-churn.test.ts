/**
 * Schema churn under load (issue "Reads racing a schema change answer 500"): for ~20 s one
 * instance adds and drops a field of `item` over and over (and now and then creates and deletes a
 * second entity) while concurrent clients read and write `item` through REST and GraphQL. On
 * PostgreSQL two instances share the database, so the one that learns of each change by
 * LISTEN/NOTIFY races too; on PGlite one embedded instance serves everything.
 *
 * Nothing may answer 5xx. Requests that don't name the churned field must all succeed; those that
 * name it may be refused once the field is gone (REST: a 4xx problem+json with an XRM_ERR_ code;
 * GraphQL: a 4xx with `errors`), never fail, and when they succeed the field is in the answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { camelCase } from '../metadata/inflection.ts';
import { buildPlatform, type Platform } from '../server/app.ts';
import { call, type Reply } from './support/http.ts';
import { createTestDatabase, DATABASES, testConfig, type TestDatabase } from './support/platform.ts';

const CHURN_MS = 20_000;
const CLIENT_LOOPS = 6;
const SEED_RECORDS = 20;

/** The types the churned field cycles through, with a value each accepts. */
const CHURN_TYPES = [
  { def: { type: 'text' }, value: 'churned' },
  { def: { type: 'integer' }, value: 7 },
  { def: { type: 'datetime' }, value: '2024-05-01T10:00:00.000Z' },
  {
    def: {
      type: 'choice',
      options: [
        { value: 'a', label: 'A' },
        { value: 'b', label: 'B' },
      ],
    },
    value: 'a',
  },
] as const;

interface Instance {
  name: string;
  platform: Platform;
}

interface Request {
  method: string;
  url: string;
  body?: unknown;
}

/** A success that lacks what was asked for; undefined when the answer is right. */
type Verify = (reply: Reply) => string | undefined;

/** What every loop shares: the seeded ids and the field the churner added last (maybe dropped by now). */
interface World {
  ids: string[];
  field: { name: string; value: unknown };
  seq: number;
}

/** A client operation: `plain` ones don't name the churned field and must answer `expect`. */
interface Op {
  name: string;
  plain: boolean;
  expect?: number;
  request(world: World): Request & { verify?: Verify };
}

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
const qty = () => Math.floor(Math.random() * 1000);
const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

const OPS: readonly Op[] = [
  { name: 'list', plain: true, expect: 200, request: () => ({ method: 'GET', url: '/api/data/item' }) },
  {
    name: 'list sorted',
    plain: true,
    expect: 200,
    request: () => ({ method: 'GET', url: `/api/data/item?${query({ sort: '-qty', limit: '20' })}` }),
  },
  {
    name: 'list filtered',
    plain: true,
    expect: 200,
    request: () => ({ method: 'GET', url: `/api/data/item?${query({ filter: 'qty gte 100 and qty lt 900' })}` }),
  },
  { name: 'get', plain: true, expect: 200, request: (w) => ({ method: 'GET', url: `/api/data/item/${pick(w.ids)}` }) },
  {
    name: 'count',
    plain: true,
    expect: 200,
    request: () => ({ method: 'GET', url: '/api/data/item/aggregate?aggregate=count' }),
  },
  {
    name: 'create',
    plain: true,
    expect: 201,
    request: (w) => ({ method: 'POST', url: '/api/data/item', body: { title: `created ${++w.seq}`, qty: qty() } }),
  },
  {
    name: 'patch',
    plain: true,
    expect: 200,
    request: (w) => ({ method: 'PATCH', url: `/api/data/item/${pick(w.ids)}`, body: { qty: qty() } }),
  },
  {
    name: 'graphql',
    plain: true,
    expect: 200,
    request: () => ({
      method: 'POST',
      url: '/graphql',
      body: { query: '{ items(first: 20) { nodes { id title qty } } }' },
    }),
  },
  {
    name: 'select churned',
    plain: false,
    request: ({ field }) => ({
      method: 'GET',
      url: `/api/data/item?${query({ select: `title,${field.name}` })}`,
      verify: (reply) =>
        reply.body.data.every((r: object) => field.name in r) ? undefined : `a row lacks ${field.name}`,
    }),
  },
  {
    name: 'sort churned',
    plain: false,
    request: (w) => ({ method: 'GET', url: `/api/data/item?${query({ sort: w.field.name, limit: '10' })}` }),
  },
  {
    name: 'create churned',
    plain: false,
    request: (w) => {
      const { field } = w;
      return {
        method: 'POST',
        url: '/api/data/item',
        body: { title: `churned ${++w.seq}`, qty: qty(), [field.name]: field.value },
        verify: (reply) =>
          reply.body[field.name] !== null && reply.body[field.name] !== undefined
            ? undefined
            : `the stored record lacks ${field.name}`,
      };
    },
  },
  {
    name: 'graphql churned',
    plain: false,
    request: ({ field }) => {
      const name = camelCase(field.name);
      return {
        method: 'POST',
        url: '/graphql',
        body: { query: `{ items(first: 5) { nodes { id title ${name} } } }` },
        verify: (reply) =>
          reply.body.errors || reply.body.data.items.nodes.every((n: object) => name in n)
            ? undefined
            : `a node lacks ${name}`,
      };
    },
  },
];

/** Every reply, tallied; violations keep a readable line each (request, status, body). */
class Tally {
  readonly statuses = new Map<string, number>();
  readonly perOp = new Map<string, number>();
  readonly serverErrors: string[] = [];
  readonly badProblems: string[] = [];
  readonly plainFailures: string[] = [];
  readonly thrown: string[] = [];
  readonly wrongAnswers: string[] = [];
  /** The first reply of each refused (operation, status): what a refusal looked like. */
  readonly refusals = new Map<string, string>();
  requests = 0;

  record(op: Op, instance: string, req: Request & { verify?: Verify }, reply: Reply): void {
    this.requests++;
    const key = `${op.name} ${reply.status}`;
    this.perOp.set(key, (this.perOp.get(key) ?? 0) + 1);
    this.statuses.set(String(reply.status), (this.statuses.get(String(reply.status)) ?? 0) + 1);
    const body = req.body === undefined ? '' : ` ${JSON.stringify(req.body)}`;
    const line = `[${instance}] ${req.method} ${req.url}${body} -> ${reply.status} ${reply.text.slice(0, 600)}`;

    if (reply.status >= 400 && !this.refusals.has(key)) this.refusals.set(key, line.slice(0, 400));
    if (reply.status >= 500) this.serverErrors.push(line);
    if (req.url === '/graphql') {
      // GraphQL answers in its own shape: a refusal is a non-empty `errors` list (a query naming a
      // field the schema lacks keeps mercurius' 400 without an XRM code), a failure an error >= 500
      const errors: any[] = Array.isArray(reply.body?.errors) ? reply.body.errors : [];
      if (errors.some((e) => e?.extensions?.code === 'XRM_ERR_INTERNAL' || Number(e?.extensions?.status) >= 500))
        this.serverErrors.push(line);
      if (reply.status >= 400 && reply.status < 500 && !errors.length) this.badProblems.push(line);
      if (op.plain && errors.length) this.plainFailures.push(line);
    } else if (reply.status >= 400 && reply.status < 500) {
      const type = String(reply.headers['content-type'] ?? '');
      if (!type.startsWith('application/problem+json') || !/^XRM_ERR_/.test(String(reply.body?.code)))
        this.badProblems.push(line);
    }
    if (op.plain && reply.status !== op.expect) this.plainFailures.push(line);
    if (reply.status < 300 && req.verify) {
      const wrong = req.verify(reply);
      if (wrong) this.wrongAnswers.push(`${wrong}: ${line}`);
    }
  }

  summary(rounds: number, perLoop: number[]): string {
    const statuses = [...this.statuses]
      .sort()
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    return `${rounds} churn rounds, ${this.requests} requests (per loop ${perLoop.join('/')}), statuses ${statuses}`;
  }

  breakdown(): string {
    return [...this.perOp]
      .sort()
      .map(([k, n]) => `${k}×${n}`)
      .join(', ');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of DATABASES) {
  describe(`schema churn under load [${kind}]`, () => {
    let database: TestDatabase | undefined;
    const instances: Instance[] = [];
    const world: World = { ids: [], field: { name: 'extra_0', value: 'never added' }, seq: 0 };

    /** A call that must succeed (setup and the churner's own metadata changes). */
    async function must(instance: Instance, method: string, url: string, body: unknown, status: number): Promise<any> {
      const reply = await call(instance.platform.app, method, url, body);
      if (reply.status !== status)
        throw new Error(
          `[${instance.name}] ${method} ${url} -> ${reply.status} (expected ${status}) ${reply.text.slice(0, 600)}`,
        );
      return reply.body;
    }

    beforeAll(async () => {
      database = await createTestDatabase(kind);
      // PGlite is embedded: one process, one instance. PostgreSQL: two instances on one database.
      const names = kind === 'postgres' ? ['A', 'B'] : ['A'];
      for (const name of names) instances.push({ name, platform: await buildPlatform(testConfig(database)) });
      await Promise.all(instances.map((i) => i.platform.start()));

      const a = instances[0]!;
      await must(
        a,
        'POST',
        '/api/metadata/entities',
        {
          name: 'item',
          primaryField: 'title',
          fields: [
            { name: 'title', type: 'text', required: true },
            { name: 'qty', type: 'integer' },
          ],
        },
        201,
      );
      for (let i = 0; i < SEED_RECORDS; i++)
        world.ids.push((await must(a, 'POST', '/api/data/item', { title: `seed ${i}`, qty: i * 50 }, 201)).id);
      // every instance serves the seeded entity before the churn starts
      for (const instance of instances) {
        const started = Date.now();
        while (
          (await call(instance.platform.app, 'GET', '/api/data/item?count=true')).body?.totalCount !== SEED_RECORDS
        ) {
          if (Date.now() - started > 5000) throw new Error(`[${instance.name}] does not serve the seeded items`);
          await sleep(20);
        }
      }
    });

    afterAll(async () => {
      for (const instance of instances) await instance.platform.close();
      await database?.drop();
    });

    it('keeps answering without a 5xx while fields are added and dropped continuously', async ({ annotate }) => {
      const deadline = Date.now() + CHURN_MS;
      const tally = new Tally();
      const churnFailures: string[] = [];
      let rounds = 0;

      /** Instance A: add `extra_<n>`, let it live a few ms, drop it; every fifth round an entity comes and goes too. */
      async function churn(): Promise<void> {
        const a = instances[0]!;
        while (Date.now() < deadline) {
          const n = ++rounds;
          const { def, value } = CHURN_TYPES[n % CHURN_TYPES.length]!;
          const name = `extra_${n}`;
          try {
            await must(a, 'POST', '/api/metadata/entities/item/fields', { name, ...def }, 201);
            world.field = { name, value };
            await sleep(Math.random() * 40);
            await must(a, 'DELETE', `/api/metadata/entities/item/fields/${name}`, undefined, 204);
            if (n % 5 === 0) {
              const side = `side_${n}`;
              await must(
                a,
                'POST',
                '/api/metadata/entities',
                { name: side, fields: [{ name: 'label', type: 'text', required: true }] },
                201,
              );
              await must(a, 'POST', `/api/data/${side}`, { label: 'x' }, 201);
              await must(a, 'DELETE', `/api/metadata/entities/${side}`, undefined, 204);
            }
          } catch (error) {
            churnFailures.push(String((error as Error).message));
          }
        }
      }

      /**
       * One client: random operations until the deadline (random, not round-robin: in lockstep the
       * loops fall into phase with the churner and some operations would only ever see one state).
       */
      async function client(index: number): Promise<number> {
        const instance = instances[index % instances.length]!;
        let done = 0;
        while (Date.now() < deadline) {
          const op = pick(OPS);
          const req = op.request(world);
          try {
            tally.record(op, instance.name, req, await call(instance.platform.app, req.method, req.url, req.body));
          } catch (error) {
            tally.thrown.push(
              `[${instance.name}] ${req.method} ${req.url} threw ` +
                String((error as Error).stack ?? error).slice(0, 600),
            );
          }
          done++;
        }
        return done;
      }

      const [, ...perLoop] = await Promise.all([churn(), ...Array.from({ length: CLIENT_LOOPS }, (_, i) => client(i))]);

      const summary = tally.summary(rounds, perLoop);
      await annotate(summary);
      await annotate(`per operation: ${tally.breakdown()}`);
      await annotate(`first answer of each refused (operation, status):\n${[...tally.refusals.values()].join('\n')}`);
      const first = (lines: string[]) =>
        `${summary}\n${lines.length} total, first ones:\n${lines.slice(0, 5).join('\n')}`;

      expect(tally.serverErrors.length, `5xx answers: ${first(tally.serverErrors)}`).toBe(0);
      expect(tally.thrown.length, `requests that threw: ${first(tally.thrown)}`).toBe(0);
      expect(
        tally.badProblems.length,
        `4xx not in problem+json / GraphQL errors shape: ${first(tally.badProblems)}`,
      ).toBe(0);
      expect(tally.plainFailures.length, `plain reads and writes that failed: ${first(tally.plainFailures)}`).toBe(0);
      expect(tally.wrongAnswers.length, `successes without the field they named: ${first(tally.wrongAnswers)}`).toBe(0);
      expect(churnFailures.length, `metadata changes refused: ${first(churnFailures)}`).toBe(0);
      expect(rounds, summary).toBeGreaterThanOrEqual(10);
      for (const done of perLoop) expect(done, summary).toBeGreaterThanOrEqual(50);
    }, 60_000);
  });
}
