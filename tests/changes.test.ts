/**
 * What the write pipeline does with every change, on both databases: the audit trail (each
 * write path — REST single, bulk, upsert, GraphQL, N:N link, cascade, custom message — appends
 * exactly once, in the write's transaction; append-only; kept after a delete), cascades raised
 * as messages plugins see, `async` steps run from the durable queue with a stable event id,
 * custom messages, plugin switches kept in the catalog, and webhooks delivered to a real
 * receiver on loopback: signed (Standard Webhooks), filtered, retried while it is down, turned
 * off on 410, signed twice while a secret rotates.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { definePlugin, type StepContext } from '../plugins/api.ts';
import { api } from './support/http.ts';
import { until } from './support/tools.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectProblem, expectStatus } from './support/problems.ts';

interface Seen {
  stage: string;
  message: string;
  entity: string;
  id?: string;
  eventId: string;
  depth: number;
}
const seen: Seen[] = [];
const note = (ctx: StepContext): void => {
  seen.push({
    stage: ctx.signal ? 'async' : 'sync',
    message: ctx.message,
    entity: ctx.entity,
    id: ctx.id,
    eventId: ctx.eventId,
    depth: ctx.depth,
  });
};

let failuresLeft = 0;

const observer = definePlugin({
  name: 'observer',
  version: '1.0.0',
  setup(api) {
    for (const message of ['delete', 'update'] as const) {
      api.on({ message, entity: 'contact', stage: 'after' }, note);
      api.on({ message, entity: 'memo', stage: 'after' }, note);
    }
    // async: after commit, from the queue; a DB effect keyed by the change's event id
    api.on({ message: 'create', entity: 'purchase', stage: 'async' }, async (ctx) => {
      note(ctx);
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('the async step failed on purpose');
      }
      await ctx.data!.create('effect', { event_id: ctx.eventId, order_id: ctx.id });
    });
    api.defineMessage(
      {
        name: 'close_deal',
        description: 'Closes a deal with a reason',
        entity: 'account',
        input: {
          type: 'object',
          properties: { reason: { type: 'string', minLength: 3 } },
          required: ['reason'],
          additionalProperties: false,
        },
        output: {
          type: 'object',
          properties: { closed: { type: 'boolean' }, name: { type: 'string' } },
          required: ['closed'],
        },
      },
      async (ctx) => {
        const updated = await ctx.data!.update('account', ctx.id!, { status: `closed: ${String(ctx.input.reason)}` });
        return { closed: true, name: updated.name };
      },
    );
    // another step hooks the custom message like any message
    api.on({ message: 'close_deal', entity: 'account', stage: 'before' }, (ctx) => {
      if (ctx.input.reason === 'nope') ctx.reject('Not a reason', { path: '/input/reason' });
      note(ctx);
    });
  },
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback: records what arrives; answers `status` (a list, consumed per request). */
function receiver() {
  const received: Received[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.statusCode = statuses.shift() ?? 204;
      res.end();
    });
  });
  return {
    received,
    statuses,
    server,
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
  };
}

const hook = receiver();

beforeAll(async () => {
  await new Promise<void>((resolve) => hook.server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise((resolve) => hook.server.close(resolve));
});

describeEachDatabase(
  'changes: audit, cascades, async steps, custom messages, webhooks',
  (get) => {
    const http = () => api(get().app);
    const history = async (entity: string, id: string) =>
      expectStatus(await http().get(`/api/data/${entity}/${id}/history`), 200).data as {
        message: string;
        actor: string;
        correlationId: string;
        changes: { field: string; old?: unknown; new?: unknown }[];
      }[];

    beforeAll(async () => {
      const entities = [
        {
          name: 'account',
          fields: [
            { name: 'name', type: 'text', required: true },
            { name: 'code', type: 'text', unique: true },
            { name: 'status', type: 'text' },
          ],
        },
        {
          name: 'contact',
          fields: [
            { name: 'name', type: 'text', required: true },
            { name: 'account', type: 'lookup', target: 'account', onDelete: 'cascade' },
          ],
        },
        {
          name: 'memo',
          fields: [
            { name: 'name', type: 'text', required: true },
            { name: 'account', type: 'lookup', target: 'account', onDelete: 'setNull' },
          ],
        },
        { name: 'purchase', fields: [{ name: 'name', type: 'text', required: true }] },
        {
          name: 'effect',
          auditEnabled: false,
          fields: [
            { name: 'event_id', type: 'text', required: true },
            { name: 'order_id', type: 'text' },
          ],
        },
      ];
      for (const e of entities) expectStatus(await http().post('/api/metadata/entities', e), 201);
      expectStatus(
        await http().post('/api/metadata/entities/account/keys', { name: 'by_code', fields: ['code'] }),
        201,
      );
      expectStatus(
        await http().post('/api/metadata/relationships', {
          name: 'account_purchases',
          type: 'manyToMany',
          from: 'account',
          to: 'purchase',
        }),
        201,
      );
    });

    it('appends one audit row per write on every path, old → new, and keeps it after the delete', async () => {
      const created = expectStatus(await http().post('/api/data/account', { name: 'Acme', code: 'A1' }), 201);
      expectStatus(await http().patch(`/api/data/account/${created.id}`, { name: 'Acme Corp' }), 200);
      // upsert resolving to an update, then GraphQL
      expectStatus(await http().post('/api/data/account/upsert?key=by_code', { code: 'A1', status: 'active' }), 200);
      const gql = await http().post('/graphql', {
        query: `mutation($id: ID!) { updateAccount(id: $id, input: { status: "vip" }) { id } }`,
        variables: { id: created.id },
      });
      expect(gql.body.errors).toBeUndefined();
      const order = expectStatus(await http().post('/api/data/purchase', { name: 'O-1' }), 201);
      expectStatus(await http().post(`/api/data/account/${created.id}/account_purchases`, { id: order.id }), 204);

      const entries = await history('account', created.id);
      expect(entries.map((e) => e.message)).toEqual(['associate', 'update', 'update', 'update', 'create']);
      expect(entries[4]!.changes).toContainEqual({ field: 'name', new: 'Acme' });
      expect(entries[3]!.changes).toEqual([{ field: 'name', old: 'Acme', new: 'Acme Corp' }]);
      expect(entries[2]!.changes).toEqual([{ field: 'status', old: null, new: 'active' }]);
      expect(entries[1]!.changes).toEqual([{ field: 'status', old: 'active', new: 'vip' }]);
      expect(entries[0]!.changes).toEqual([{ field: 'account_purchases', new: order.id }]);
      // every write above came from the signed-in test administrator
      const me = expectStatus(await http().get('/api/auth/me'), 200);
      expect(entries[0]!.actor).toBe(`user:${me.user.id}`);
      expect(new Set(entries.map((e) => e.actor))).toEqual(new Set([`user:${me.user.id}`]));
      // the link is in the other record's history too
      expect((await history('purchase', order.id)).map((e) => e.message)).toEqual(['associate', 'create']);

      expectStatus(await http().delete(`/api/data/account/${created.id}/account_purchases/${order.id}`), 204);
      expectStatus(await http().delete(`/api/data/account/${created.id}`), 204);
      const after = await history('account', created.id);
      expect(after.map((e) => e.message).slice(0, 2)).toEqual(['delete', 'disassociate']);
      expect(after[0]!.changes).toContainEqual({ field: 'name', old: 'Acme Corp' });
    });

    it('audits a set-based bulk create once per record, and pages the history by cursor', async () => {
      const records = Array.from({ length: 5 }, (_, i) => ({ name: `Bulk ${i}` }));
      const { data } = expectStatus(
        await http().post('/api/data/account/bulk', { operation: 'create', records }),
        200,
      ) as { data: { id: string }[] };
      for (const r of data) expect((await history('account', r.id)).map((e) => e.message)).toEqual(['create']);
      const db = get().services.db;
      const { rows } = await sql<{ n: string }>`SELECT count(*)::text AS n FROM xrm.audit
        WHERE entity = 'account' AND record_id = ANY(${data.map((r) => r.id)}::uuid[])`.execute(db);
      expect(Number(rows[0]!.n)).toBe(5);

      const one = data[0]!.id;
      for (let i = 0; i < 3; i++) await http().patch(`/api/data/account/${one}`, { status: `s${i}` });
      const first = expectStatus(await http().get(`/api/data/account/${one}/history?limit=2`), 200);
      expect(first.data).toHaveLength(2);
      const second = expectStatus(
        await http().get(`/api/data/account/${one}/history?limit=2&cursor=${first.nextCursor}`),
        200,
      );
      expect(second.data.map((e: { message: string }) => e.message)).toEqual(['update', 'create']);
      expect(second.nextCursor).toBeUndefined();
      // `history` is a record's sub-resource: no navigation may take its name
      const clash = await http().post('/api/metadata/relationships', {
        name: 'history',
        type: 'manyToMany',
        from: 'account',
        to: 'purchase',
      });
      expectProblem(clash, 400, 'XRM_ERR_METADATA_INVALID');
    });

    it('resolves concurrent upserts of one key to one create and updates, none refused', async () => {
      const replies = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          http().post('/api/data/account/upsert?key=by_code', { code: 'RACE', name: 'Racer', status: `s${i}` }),
        ),
      );
      expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
      const ids = new Set(replies.map((r) => r.body.id));
      expect(ids.size).toBe(1);
      const entries = await history('account', [...ids][0]!);
      expect(entries.map((e) => e.message).sort()).toEqual([...Array(7).fill('update'), 'create'].sort());
    });

    it('refuses to change or delete audit rows (append-only), and stops auditing when switched off', async () => {
      const db = get().services.db;
      await expect(sql`UPDATE xrm.audit SET actor = 'mallory'`.execute(db)).rejects.toThrow(/append-only/);
      await expect(sql`DELETE FROM xrm.audit`.execute(db)).rejects.toThrow(/append-only/);
      await expect(sql`TRUNCATE xrm.audit`.execute(db)).rejects.toThrow(/append-only/);

      expectStatus(await http().patch('/api/metadata/entities/purchase', { auditEnabled: false }), 200);
      const order = expectStatus(await http().post('/api/data/purchase', { name: 'quiet' }), 201);
      expect(await history('purchase', order.id)).toEqual([]);
      expectStatus(await http().patch('/api/metadata/entities/purchase', { auditEnabled: true }), 200);
    });

    it("runs a delete's cascade, set-null and unlinking as messages: plugins and the audit see each once", async () => {
      const account = expectStatus(await http().post('/api/data/account', { name: 'Parent' }), 201);
      const contacts = expectStatus(
        await http().post('/api/data/contact/bulk', {
          operation: 'create',
          records: [
            { name: 'C1', account: account.id },
            { name: 'C2', account: account.id },
          ],
        }),
        200,
      ).data as { id: string }[];
      const memo = expectStatus(await http().post('/api/data/memo', { name: 'M', account: account.id }), 201);
      const linked = expectStatus(await http().post('/api/data/purchase', { name: 'linked' }), 201);
      expectStatus(await http().post(`/api/data/account/${account.id}/account_purchases`, { id: linked.id }), 204);
      seen.length = 0;
      const res = await http().delete(`/api/data/account/${account.id}`);
      expectStatus(res, 204);
      const deletes = seen.filter((s) => s.message === 'delete' && s.entity === 'contact').map((s) => s.id);
      expect(deletes.sort()).toEqual(contacts.map((c) => c.id).sort());
      expect(seen.filter((s) => s.message === 'update' && s.entity === 'memo').map((s) => s.id)).toEqual([memo.id]);
      for (const c of contacts) {
        const h = await history('contact', c.id);
        expect(h.map((e) => e.message)).toEqual(['delete', 'create']);
        expect(h[0]!.correlationId).toBe(res.headers['x-request-id'] ?? h[0]!.correlationId);
      }
      const memoHistory = await history('memo', memo.id);
      expect(memoHistory[0]!.changes).toEqual([{ field: 'account', old: account.id, new: null }]);
      expect((await http().get(`/api/data/memo/${memo.id}`)).body.account).toBeNull();
      // its many-to-many link went with it, as a disassociate in the other record's history
      const unlinked = (await history('purchase', linked.id))[0]!;
      expect(unlinked.message).toBe('disassociate');
      expect(unlinked.changes).toEqual([{ field: 'account_purchases', old: account.id }]);
    });

    it('runs an async step after commit from the durable queue, retrying it with the same event id', async () => {
      seen.length = 0;
      failuresLeft = 1;
      const order = expectStatus(await http().post('/api/data/purchase', { name: 'async' }), 201);
      const effect = await until('the async effect', async () => {
        const r = await http().get(
          `/api/data/effect?filter=${encodeURIComponent(JSON.stringify({ order_id: { eq: order.id } }))}`,
        );
        return r.body.data[0] as { event_id: string } | undefined;
      });
      const runs = seen.filter((s) => s.stage === 'async' && s.id === order.id);
      expect(runs).toHaveLength(2);
      expect(new Set(runs.map((r) => r.eventId))).toEqual(new Set([effect.event_id]));
      const jobs = expectStatus(await http().get('/api/jobs?kind=step'), 200).data as {
        eventId: string;
        state: string;
        attempts: number;
        lastError: string | null;
      }[];
      const job = await until('the job to succeed', async () => {
        const list = expectStatus(await http().get('/api/jobs?kind=step'), 200).data as typeof jobs;
        return list.find((j) => j.eventId === effect.event_id && j.state === 'succeeded');
      });
      expect(job.attempts).toBe(2);
      expect(job.lastError).toMatch(/failed on purpose/);
      // retention: succeeded jobs older than the limit are deleted (0 days: all of them)
      expect(await get().services.jobs.prune(0)).toBeGreaterThan(0);
      expect(expectStatus(await http().get('/api/jobs?state=succeeded'), 200).data).toEqual([]);
    });

    it('runs a custom message through the pipeline: checked input, a bound record, hooked by steps', async () => {
      const list = expectStatus(await http().get('/api/messages'), 200).data;
      expect(list).toContainEqual(
        expect.objectContaining({ name: 'close_deal', plugin: 'observer', entity: 'account' }),
      );
      const account = expectStatus(await http().post('/api/data/account', { name: 'Deal Co' }), 201);
      const target = { entity: 'account', id: account.id };
      seen.length = 0;
      const ok = expectStatus(await http().post('/api/messages/close_deal', { input: { reason: 'won' }, target }), 200);
      expect(ok).toEqual({ output: { closed: true, name: 'Deal Co' } });
      expect(seen.filter((s) => s.message === 'close_deal')).toHaveLength(1);
      expect((await http().get(`/api/data/account/${account.id}`)).body.status).toBe('closed: won');
      expect((await history('account', account.id))[0]!.changes).toEqual([
        { field: 'status', old: null, new: 'closed: won' },
      ]);

      expectProblem(
        await http().post('/api/messages/close_deal', { input: { reason: 'x' }, target }),
        400,
        'XRM_ERR_REQUEST_INVALID',
      );
      const refused = expectProblem(
        await http().post('/api/messages/close_deal', { input: { reason: 'nope' }, target }),
        422,
        'XRM_ERR_PLUGIN_REJECTED',
      );
      expect(refused.body.errors).toEqual([{ path: '/input/reason', message: 'Not a reason' }]);
      expectProblem(
        await http().post('/api/messages/close_deal', { input: { reason: 'won' } }),
        400,
        'XRM_ERR_REQUEST_INVALID',
      );
      expectProblem(await http().post('/api/messages/no_such', { input: {} }), 404, 'XRM_ERR_MESSAGE_NOT_FOUND');
      // OpenAPI documents it as its own operation, with its input and output schemas
      const doc = expectStatus(await http().get('/openapi.json'), 200);
      const op = doc.paths['/api/messages/close_deal'].post;
      expect(op.operationId).toBe('executeCloseDeal');
      const body = op.requestBody.content['application/json'].schema;
      expect(body.properties.input.required).toEqual(['reason']);
      expect(body.properties.target.properties.entity).toEqual({ const: 'account' });
      expect(op.responses['200'].content['application/json'].schema.properties.output.required).toEqual(['closed']);
    });

    it('keeps a plugin switched off in the catalog and the ledger; built-ins cannot be switched off', async () => {
      expectStatus(await http().post('/api/plugins/observer/disable'), 200);
      expect(get().services.runtime.state.catalog.disabledPlugins.has('observer')).toBe(true);
      expectProblem(
        await http().post('/api/messages/close_deal', { input: { reason: 'won' } }),
        404,
        'XRM_ERR_MESSAGE_NOT_FOUND',
      );
      const ledger = expectStatus(await http().get('/api/metadata/changes?limit=1'), 200).data[0];
      expect(ledger).toEqual(expect.objectContaining({ operation: 'plugin.disable', target: 'plugin:observer' }));
      expectStatus(await http().post('/api/plugins/observer/enable'), 200);
      expect(get().services.runtime.state.catalog.disabledPlugins.has('observer')).toBe(false);
      expectProblem(await http().post('/api/plugins/audit/disable'), 409, 'XRM_ERR_PLUGIN_BUILT_IN');
    });

    it('delivers signed, filtered webhooks to a real receiver, retries while it is down, stops on 410', async () => {
      expectProblem(
        await http().post('/api/webhooks', { url: 'http://10.0.0.1/hook', entity: 'account' }),
        422,
        'XRM_ERR_WEBHOOK_TARGET_FORBIDDEN',
      );
      expectProblem(
        await http().post('/api/webhooks', { url: hook.url(), entity: 'account', filter: { nope: { eq: 1 } } }),
        400,
        'XRM_ERR_QUERY_INVALID',
      );
      const created = expectStatus(
        await http().post('/api/webhooks', {
          url: hook.url(),
          entity: 'account',
          messages: ['create', 'update'],
          filter: { name: { startsWith: 'W' } },
        }),
        201,
      );
      expect(created.secret).toMatch(/^whsec_/);
      expect(expectStatus(await http().get(`/api/webhooks/${created.id}`), 200).secret).toBeUndefined();
      hook.received.length = 0;

      expectStatus(await http().post('/api/data/account', { name: 'Acme (filtered out)' }), 201);
      const wonka = expectStatus(await http().post('/api/data/account', { name: 'Wonka' }), 201);
      const first = await until('a delivery', () => hook.received[0]);
      const payload = new Webhook(created.secret).verify(first.body, first.headers as Record<string, string>) as {
        type: string;
        data: { id: string; record: { name: string } };
      };
      expect(payload.type).toBe('account.created');
      expect(payload.data.id).toBe(wonka.id);
      expect(payload.data.record.name).toBe('Wonka');
      expect(hook.received).toHaveLength(1);

      // the receiver fails twice, then takes it: the same webhook-id arrives three times
      hook.received.length = 0;
      hook.statuses.push(503, 500);
      expectStatus(await http().patch(`/api/data/account/${wonka.id}`, { status: 'retry me' }), 200);
      await until('three attempts', () => hook.received.length >= 3 || undefined);
      const ids = new Set(hook.received.map((r) => r.headers['webhook-id']));
      expect(ids.size).toBe(1);
      type Attempt = { status: number; attempt: number; success: boolean };
      // the receiver has answered; the attempt is logged right after
      const log = await until('the third attempt in the delivery log', async () => {
        const data = expectStatus(await http().get(`/api/webhooks/${created.id}/deliveries`), 200).data as Attempt[];
        return data[0]?.attempt === 3 ? data : undefined;
      });
      expect(log.slice(0, 3).map((d) => [d.status, d.attempt, d.success])).toEqual([
        [204, 3, true],
        [500, 2, false],
        [503, 1, false],
      ]);

      // rotation: both secrets sign during the grace period
      const rotated = expectStatus(await http().post(`/api/webhooks/${created.id}/rotate-secret`, {}), 200);
      hook.received.length = 0;
      expectStatus(await http().patch(`/api/data/account/${wonka.id}`, { status: 'rotated' }), 200);
      const signed = await until('a delivery after rotation', () => hook.received[0]);
      expect(String(signed.headers['webhook-signature']).split(' ')).toHaveLength(2);
      for (const secret of [rotated.secret, created.secret])
        expect(() => new Webhook(secret).verify(signed.body, signed.headers as Record<string, string>)).not.toThrow();

      // the test endpoint, then 410 Gone turns the subscription off
      const test = expectStatus(await http().post(`/api/webhooks/${created.id}/test`), 200);
      expect(test).toEqual(expect.objectContaining({ eventType: 'webhook.test', status: 204, success: true }));
      hook.statuses.push(410);
      expectStatus(await http().patch(`/api/data/account/${wonka.id}`, { status: 'gone' }), 200);
      const off = await until('the webhook to be turned off', async () => {
        const w = expectStatus(await http().get(`/api/webhooks/${created.id}`), 200);
        return w.enabled === false ? w : undefined;
      });
      expect(off.disabledReason).toMatch(/410/);
      expectStatus(await http().delete(`/api/webhooks/${created.id}`), 204);
      expectProblem(await http().get(`/api/webhooks/${created.id}`), 404, 'XRM_ERR_WEBHOOK_NOT_FOUND');
    });
  },
  {
    config: {
      webhookAllowHosts: '127.0.0.1',
      jobs: { maxAttempts: 5, leaseMs: 5000, backoffMs: 20, pollMs: 50, concurrency: 4, retentionDays: 7 },
    },
    build: { plugins: [observer] },
  },
);
