/**
 * No N+1: a read of 100 parents with nested lookups and to-many relations three levels deep is
 * ONE SQL statement, through REST and through GraphQL alike (besides the one statement that checks
 * the request's credential and loads the caller's roles).
 */
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { createFixtureModel } from './fixtures/model.ts';
import { adminToken, api } from './support/http.ts';
import { loadConfig } from '../server/config.ts';
import { describeEachDatabase } from './support/platform.ts';

const statements: string[] = [];

describeEachDatabase(
  'one SQL statement per read (and per audited write)',
  (get) => {
    beforeAll(async () => {
      await createFixtureModel(api(get().app).post);
      const db = get().services.db;
      // 100 employees (each managed by the previous), 2 assets each, 1 device per asset
      const employees = sql`INSERT INTO data.employee (id, full_name, email)
        SELECT md5('e' || n)::uuid, 'Employee ' || n, 'e' || n || '@corp.example' FROM generate_series(1, 100) n`;
      await employees.execute(db);
      await sql`UPDATE data.employee e SET manager = md5('e' || (n - 1))::uuid
        FROM generate_series(2, 100) n WHERE e.id = md5('e' || n)::uuid`.execute(db);
      const assets = sql`INSERT INTO data.asset (id, name, assigned_to)
        SELECT md5('a' || n)::uuid, 'Asset ' || n, md5('e' || (1 + n % 100))::uuid FROM generate_series(1, 200) n`;
      await assets.execute(db);
      await sql`INSERT INTO data.iot_device (name, asset, telemetry)
        SELECT 'Device ' || n, md5('a' || n)::uuid, jsonb_build_object('n', n) FROM generate_series(1, 200) n`.execute(
        db,
      );
    });

    /**
     * The statements a request runs besides the one that checks its credential (the bearer token,
     * with the caller's teams and roles, is ONE statement too, when it runs: on PostgreSQL an
     * earlier request's finding is kept while security notices are heard, tests/access-kept.test.ts).
     */
    async function counted<T>(run: () => Promise<T>): Promise<{ result: T; count: number }> {
      await adminToken(get().app);
      statements.length = 0;
      const result = await run();
      const credentialChecks = statements.filter((text) => text.includes('FROM xrm.sessions s JOIN xrm.users u'));
      expect(credentialChecks.length).toBeLessThanOrEqual(1);
      return { result, count: statements.length - credentialChecks.length };
    }

    it('a list reads only its page: no CTE, no whole rows, no sorted window (issue 13)', async () => {
      const { result } = await counted(() =>
        api(get().app).get('/api/data/employee?limit=20&select=full_name&sort=-full_name&expand=manager(select=id)'),
      );
      expect(result.status).toBe(200);
      expect(result.body.data).toHaveLength(20);
      expect(result.body.nextCursor).toEqual(expect.any(String));
      const list = statements.filter((text) => text.includes('"data"."employee"'));
      expect(list).toHaveLength(1);
      // the page is one plain SELECT … ORDER BY … LIMIT n + 1 with only the selected columns
      expect(list[0]).not.toMatch(/^\s*WITH\b/i);
      expect(list[0]).not.toMatch(/"t\d+"\.\*/);
      expect(list[0]).not.toMatch(/OVER\s*\(\s*ORDER BY/i);
      expect(list[0]).toMatch(/LIMIT 21\b/);
    });

    it('REST: 100 employees with manager, assets and their devices', async () => {
      const { result, count } = await counted(() =>
        api(get().app).get(
          '/api/data/employee?limit=100&select=full_name' +
            '&expand=manager(select=full_name),assets(select=name;expand=iot_devices(select=name,telemetry))',
        ),
      );
      expect(result.status).toBe(200);
      expect(count).toBe(1);
      const rows = result.body.data as any[];
      expect(rows).toHaveLength(100);
      expect(rows.filter((r) => r.manager)).toHaveLength(99);
      expect(rows.every((r) => r.assets.length === 2 && r.assets.every((a: any) => a.iot_devices.length === 1))).toBe(
        true,
      );
    });

    it('GraphQL: the same tree, plus totals, in one statement', async () => {
      const query = `{ employees(first: 100) { totalCount nodes { fullName manager { fullName manager { fullName } }
        assets { totalCount nodes { name iotDevices { nodes { name telemetry asset { name } } } } } } } }`;
      const { result, count } = await counted(() => api(get().app).graphql(query));
      expect(result.body.errors).toBeUndefined();
      expect(count).toBe(1);
      const nodes = result.body.data.employees.nodes as any[];
      expect(result.body.data.employees.totalCount).toBe(100);
      expect(nodes).toHaveLength(100);
      expect(
        nodes.every(
          (n) =>
            n.assets.totalCount === 2 && n.assets.nodes.every((a: any) => a.iotDevices.nodes[0].asset.name === a.name),
        ),
      ).toBe(true);
    });

    it('REST: a related list, with the 404 for a missing parent, in one statement', async () => {
      const { result, count } = await counted(() =>
        api(get().app).get('/api/data/employee/5e0b62f7-0000-4000-8000-000000000000/assets?expand=iot_devices'),
      );
      expect(result.status).toBe(404);
      expect(count).toBe(1);
      const { rows } = await sql<{ id: string }>`SELECT id::text FROM data.employee WHERE manager IS NULL`.execute(
        get().services.db,
      );
      const found = await counted(() =>
        api(get().app).get(`/api/data/employee/${rows[0]!.id}/reports?expand=assets(expand=iot_devices)`),
      );
      expect(found.result.status).toBe(200);
      expect(found.result.body.data).toHaveLength(1);
      expect(found.count).toBe(1);
    });

    it('REST writes on an audited entity: the record and its audit row in one statement each', async () => {
      const http = api(get().app);
      // iot_device: nothing points at it, so its delete has no cascade to raise
      const created = await counted(() => http.post('/api/data/iot_device', { name: 'Sensor' }));
      expect(created.result.status).toBe(201);
      expect(created.count).toBe(1);
      const id = created.result.body.id as string;
      const updated = await counted(() => http.patch(`/api/data/iot_device/${id}`, { name: 'Sensor 2' }));
      expect(updated.result.status).toBe(200);
      expect(updated.count).toBe(1);
      const deleted = await counted(() => http.delete(`/api/data/iot_device/${id}`));
      expect(deleted.result.status).toBe(204);
      expect(deleted.count).toBe(1);
      const history = (await http.get(`/api/data/iot_device/${id}/history`)).body.data as { message: string }[];
      expect(history.map((e) => e.message)).toEqual(['delete', 'update', 'create']);
    });

    it('GraphQL: one record by id with nested relations in one statement', async () => {
      const { result, count } = await counted(() =>
        api(get().app).graphql(
          `{ employee(id: "${'00000000-0000-0000-0000-000000000000'}") { id } e: employees(first: 1) ` +
            `{ nodes { reports { nodes { fullName } } } } }`,
        ),
      );
      expect(result.body.errors).toBeUndefined();
      // two root fields, one statement each
      expect(count).toBe(2);
    });
  },
  {
    config: { schemaPollMs: 0, jobs: { ...loadConfig({}).jobs, concurrency: 0 } },
    build: { onQuery: (text) => statements.push(text) },
  },
);
