/**
 * The query engine through REST and GraphQL on both databases: every operator family, logic
 * nested to any depth, filters across lookups and over to-many relations, search, multi-key
 * sorting with nulls placement and lookup keys, keyset cursors stable under inserts, selection
 * and per-parent expansion three levels deep, aggregates with groupings, and the errors a client
 * gets for a query the catalog does not allow.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createFixtureModel } from './fixtures/model.ts';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';

const ids = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describeEachDatabase('query engine', (get) => {
  const http = () => api(get().app);
  const list = async (entity: string, query: Record<string, string>) => {
    const qs = new URLSearchParams(query).toString();
    const res = await http().get(`/api/data/${entity}?${qs}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { data: any[]; nextCursor?: string; totalCount?: number };
  };
  const names = async (entity: string, query: Record<string, string>, key = 'full_name') =>
    (await list(entity, { ...query, sort: query.sort ?? key })).data.map((r) => r[key]);
  const refused = async (entity: string, query: Record<string, string>) => {
    const res = await http().get(`/api/data/${entity}?${new URLSearchParams(query)}`);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('XRM_ERR_QUERY_INVALID');
    return res.body.errors as { path: string; message: string }[];
  };

  beforeAll(async () => {
    await createFixtureModel(http().post);
    const post = async (entity: string, body: object) => {
      const res = await http().post(`/api/data/${entity}`, body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body;
    };
    await post('employee', {
      id: ids(1),
      full_name: 'Ada Lovelace',
      email: 'ada@corp.example',
      hired_on: '2020-03-15',
      salary: 9000,
    });
    await post('employee', {
      id: ids(2),
      full_name: 'Charles Babbage',
      email: 'charles@corp.example',
      hired_on: '2021-07-01',
      salary: 7000,
      manager: ids(1),
    });
    await post('employee', {
      id: ids(3),
      full_name: 'Grace Hopper',
      email: 'grace@corp.example',
      hired_on: '2021-11-20',
      salary: 8000,
      manager: ids(1),
    });
    await post('employee', {
      id: ids(4),
      full_name: 'Alan Turing',
      email: 'alan@corp.example',
      salary: 7500,
      manager: ids(2),
    });
    await post('employee', {
      id: ids(5),
      full_name: "Dennis O'Ritchie",
      email: 'dennis@corp.example',
      hired_on: '2023-01-09',
      manager: ids(3),
    });
    await post('asset', {
      id: ids(11),
      name: 'Analytical Engine',
      serial_number: 'AE-1',
      value: 1000.5,
      units: 2,
      assigned_to: ids(2),
      purchased_at: '2021-07-02T09:00:00Z',
    });
    await post('asset', {
      id: ids(12),
      name: 'Difference Engine',
      serial_number: 'DE-1',
      value: 250,
      units: 1,
      assigned_to: ids(2),
      in_service: false,
    });
    await post('asset', {
      id: ids(13),
      name: 'Mark I',
      serial_number: 'MK-1',
      value: 5000,
      units: 1,
      assigned_to: ids(3),
    });
    await post('asset', {
      id: ids(14),
      name: 'Bombe',
      serial_number: 'BO-1',
      value: 3000,
      units: 4,
      assigned_to: ids(4),
    });
    await post('iot_device', {
      name: 'AE sensor',
      asset: ids(11),
      status: 'online',
      telemetry: { temperature: 21.5, tags: ['steam'], nested: { level: 2 } },
    });
    await post('iot_device', { name: 'DE sensor', asset: ids(12), status: 'offline', telemetry: { temperature: 19 } });
    await post('iot_device', {
      name: 'Mark sensor',
      asset: ids(13),
      status: 'maintenance',
      telemetry: { temperature: 30, nested: { level: 2 } },
    });
    await post('supplier', { id: ids(21), name: 'Gears Inc', rating: 5, categories: ['hardware', 'services'] });
    await post('supplier', { id: ids(22), name: 'Bits Ltd', rating: 3, categories: ['software'] });
    await post('supplier', { id: ids(23), name: 'Odd Jobs', categories: ['services'] });
    for (const [s, a] of [
      [21, 11],
      [21, 12],
      [22, 13],
    ])
      expect((await http().post(`/api/data/supplier/${ids(s!)}/supplier_assets`, { id: ids(a!) })).status).toBe(204);
  });

  describe('filters', () => {
    it('compares numbers, dates and text with eq ne gt gte lt lte in nin between isNull', async () => {
      expect(await names('employee', { filter: 'salary gt 7500' })).toEqual(['Ada Lovelace', 'Grace Hopper']);
      expect(await names('employee', { filter: 'salary gte 7500 and salary lte 8000' })).toEqual([
        'Alan Turing',
        'Grace Hopper',
      ]);
      expect(await names('employee', { filter: 'salary between (7000, 7500)' })).toEqual([
        'Alan Turing',
        'Charles Babbage',
      ]);
      expect(await names('employee', { filter: "hired_on lt '2021-01-01'" })).toEqual(['Ada Lovelace']);
      expect(await names('employee', { filter: 'hired_on isNull true' })).toEqual(['Alan Turing']);
      expect(await names('employee', { filter: 'salary isNull true' })).toEqual(["Dennis O'Ritchie"]);
      // ne and nin keep NULLs (a missing salary is not 9000)
      expect(await names('employee', { filter: 'salary ne 9000' })).toEqual([
        'Alan Turing',
        'Charles Babbage',
        "Dennis O'Ritchie",
        'Grace Hopper',
      ]);
      expect(await names('employee', { filter: "email in ('ada@corp.example', 'alan@corp.example')" })).toEqual([
        'Ada Lovelace',
        'Alan Turing',
      ]);
      expect(await names('employee', { filter: 'salary nin (7000, 8000, 9000)' })).toEqual([
        'Alan Turing',
        "Dennis O'Ritchie",
      ]);
      expect(await names('employee', { filter: "full_name eq 'Dennis O''Ritchie'" })).toEqual(["Dennis O'Ritchie"]);
    });

    it(
      'matches text with contains, startsWith, endsWith and their case-insensitive forms, ' + 'escaping wildcards',
      async () => {
        expect(await names('employee', { filter: "full_name contains 'ace'" })).toEqual([
          'Ada Lovelace',
          'Grace Hopper',
        ]);
        expect(await names('employee', { filter: "full_name contains 'ACE'" })).toEqual([]);
        expect(await names('employee', { filter: "full_name icontains 'ACE'" })).toEqual([
          'Ada Lovelace',
          'Grace Hopper',
        ]);
        expect(await names('employee', { filter: "full_name startsWith 'A'" })).toEqual([
          'Ada Lovelace',
          'Alan Turing',
        ]);
        expect(await names('employee', { filter: "full_name istartsWith 'a'" })).toEqual([
          'Ada Lovelace',
          'Alan Turing',
        ]);
        expect(await names('employee', { filter: "full_name endsWith 'ing'" })).toEqual(['Alan Turing']);
        expect(await names('employee', { filter: "full_name iendsWith 'ING'" })).toEqual(['Alan Turing']);
        expect(await names('employee', { filter: "full_name contains '%'" })).toEqual([]);
        expect(await names('employee', { filter: "full_name contains '_'" })).toEqual([]);
      },
    );

    it('tests multiChoice with containsAny and containsAll, and JSON paths with eq', async () => {
      expect(await names('supplier', { filter: "categories containsAny ('software', 'hardware')" }, 'name')).toEqual([
        'Bits Ltd',
        'Gears Inc',
      ]);
      expect(await names('supplier', { filter: "categories containsAll ('services', 'hardware')" }, 'name')).toEqual([
        'Gears Inc',
      ]);
      expect(await names('iot_device', { filter: 'telemetry.temperature eq 21.5' }, 'name')).toEqual(['AE sensor']);
      expect(await names('iot_device', { filter: 'telemetry.nested.level eq 2' }, 'name')).toEqual([
        'AE sensor',
        'Mark sensor',
      ]);
      expect(
        await names(
          'iot_device',
          { filter: JSON.stringify({ telemetry: { jsonPathEq: { path: ['tags'], value: ['steam'] } } }) },
          'name',
        ),
      ).toEqual(['AE sensor']);
    });

    it('nests and, or, not to any depth, in the expression language and as JSON', async () => {
      const expr =
        "(salary gte 8000 or (hired_on isNull true and not (full_name startsWith 'B'))) " +
        "and not email endsWith 'grace@corp.example'";
      expect(await names('employee', { filter: expr })).toEqual(['Ada Lovelace', 'Alan Turing']);
      const json = {
        and: [
          {
            or: [
              { salary: { gte: 8000 } },
              { and: [{ hired_on: { isNull: true } }, { not: { full_name: { startsWith: 'B' } } }] },
            ],
          },
          { not: { email: { endsWith: 'grace@corp.example' } } },
        ],
      };
      expect(await names('employee', { filter: JSON.stringify(json) })).toEqual(['Ada Lovelace', 'Alan Turing']);
    });

    it('follows lookups at any depth and quantifies over to-many relations', async () => {
      expect(await names('employee', { filter: "manager.full_name eq 'Ada Lovelace'" })).toEqual([
        'Charles Babbage',
        'Grace Hopper',
      ]);
      expect(await names('employee', { filter: "manager.manager.full_name eq 'Ada Lovelace'" })).toEqual([
        'Alan Turing',
        "Dennis O'Ritchie",
      ]);
      expect(
        await names('iot_device', { filter: "asset.assigned_to.manager.full_name startsWith 'Ada'" }, 'name'),
      ).toEqual(['AE sensor', 'DE sensor', 'Mark sensor']);
      expect(await names('employee', { filter: 'assets some (value gt 2000)' })).toEqual([
        'Alan Turing',
        'Grace Hopper',
      ]);
      expect(await names('employee', { filter: 'assets every (value gt 500)' })).toEqual([
        'Ada Lovelace',
        'Alan Turing',
        "Dennis O'Ritchie",
        'Grace Hopper',
      ]);
      expect(await names('employee', { filter: 'assets none (value gt 0) and reports some (salary gt 0)' })).toEqual([
        'Ada Lovelace',
      ]);
      expect(
        await names('employee', { filter: "reports some (assets some (iot_devices some (status eq 'maintenance')))" }),
      ).toEqual(['Ada Lovelace']);
      expect(await names('supplier', { filter: "supplier_assets some (name startsWith 'Mark')" }, 'name')).toEqual([
        'Bits Ltd',
      ]);
      expect(await names('asset', { filter: 'supplier_assets none (rating gte 1)' }, 'name')).toEqual(['Bombe']);
    });

    it('searches the searchable text fields by word prefixes, combined with a filter', async () => {
      expect(await names('partner', { search: 'x' }, 'name')).toEqual([]);
      expect(await names('employee', { search: 'grac hop' })).toEqual(['Grace Hopper']);
      expect(await names('employee', { search: 'lovelace' })).toEqual(['Ada Lovelace']);
      expect(await names('asset', { search: 'engine', filter: 'value gt 500' }, 'name')).toEqual(['Analytical Engine']);
    });

    it('refuses unknown fields, operators a type lacks and values of the wrong type, naming the path', async () => {
      expect(await refused('employee', { filter: "nickname eq 'x'" })).toEqual([
        { path: '/filter/nickname', message: expect.stringContaining('no field or relationship') },
      ]);
      expect((await refused('employee', { filter: "salary contains '1'" }))[0]!.path).toBe('/filter/salary/contains');
      expect((await refused('employee', { filter: "salary eq 'lots'" }))[0]!.path).toBe('/filter/salary/eq');
      expect((await refused('employee', { filter: "hired_on gt 'yesterday'" }))[0]!.path).toBe('/filter/hired_on/gt');
      expect((await refused('employee', { filter: "manager.nope eq 'x'" }))[0]!.path).toBe('/filter/manager/nope');
      expect((await refused('employee', { filter: "reports eq 'x'" }))[0]!.path).toBe('/filter/reports/eq');
      expect((await refused('employee', { filter: 'salary gt' }))[0]!.path).toBe('/filter');
      expect((await refused('employee', { filter: '{"salary": {"gt": 1}' }))[0]!.message).toBe('is not valid JSON');
      expect((await refused('iot_device', { filter: 'telemetry.temperature gt 20' }))[0]!.path).toContain(
        '/filter/telemetry',
      );
      expect((await refused('employee', { sort: 'telemetry' }))[0]!.path).toBe('/sort/0');
      expect((await refused('employee', { expand: 'nothing' }))[0]!.path).toBe('/expand/0/name');
      expect((await refused('employee', { cursor: 'garbage' }))[0]!.path).toBe('/cursor');
    });
  });

  describe('sorting and paging', () => {
    it('sorts by several keys, descending, with nulls first or last, and by a lookup field', async () => {
      expect(await names('employee', { sort: '-hired_on' })).toEqual([
        'Alan Turing',
        "Dennis O'Ritchie",
        'Grace Hopper',
        'Charles Babbage',
        'Ada Lovelace',
      ]);
      expect(await names('employee', { sort: '-hired_on:nullslast' })).toEqual([
        "Dennis O'Ritchie",
        'Grace Hopper',
        'Charles Babbage',
        'Ada Lovelace',
        'Alan Turing',
      ]);
      expect(await names('employee', { sort: 'hired_on:nullsfirst' })).toEqual([
        'Alan Turing',
        'Ada Lovelace',
        'Charles Babbage',
        'Grace Hopper',
        "Dennis O'Ritchie",
      ]);
      expect(await names('employee', { sort: 'manager.full_name:nullsfirst,-salary' })).toEqual([
        'Ada Lovelace',
        'Grace Hopper',
        'Charles Babbage',
        'Alan Turing',
        "Dennis O'Ritchie",
      ]);
      expect(await names('asset', { sort: '-assigned_to.manager.full_name,name' }, 'name')).toEqual([
        'Bombe',
        'Analytical Engine',
        'Difference Engine',
        'Mark I',
      ]);
    });

    it('pages with keyset cursors for any sort, stable when records are inserted meanwhile', async () => {
      for (const sort of [
        '-hired_on:nullslast',
        'manager.full_name:nullsfirst,-salary',
        'salary,full_name',
        '-created_at',
      ]) {
        const all = await names('employee', { sort, limit: '100' });
        const seen: string[] = [];
        let page = await list('employee', { sort, limit: '2' });
        seen.push(...page.data.map((r) => r.full_name));
        let inserted = false;
        while (page.nextCursor) {
          if (!inserted) {
            // an insert between pages must neither repeat nor skip records already listed
            await http().post('/api/data/employee', { full_name: 'Zed Newcomer', email: `zed-${sort}@corp.example` });
            inserted = true;
          }
          page = await list('employee', { sort, limit: '2', cursor: page.nextCursor });
          seen.push(...page.data.map((r) => r.full_name));
        }
        expect(
          seen.filter((n) => n !== 'Zed Newcomer'),
          sort,
        ).toEqual(all);
        expect(new Set(seen).size, sort).toBe(seen.length);
        await http().post('/api/data/employee/bulk', {
          operation: 'delete',
          records: (await list('employee', { filter: "full_name eq 'Zed Newcomer'", select: 'id' })).data.map((r) => ({
            id: r.id,
          })),
        });
      }
    });

    it('pages with limit/offset, caps the page size and counts only when asked', async () => {
      const first = await list('employee', { sort: 'full_name', limit: '2', offset: '1', select: 'full_name' });
      expect(first.data.map((r) => r.full_name)).toEqual(['Alan Turing', 'Charles Babbage']);
      expect(first.totalCount).toBeUndefined();
      expect((await list('employee', { count: 'true', filter: 'salary gt 7000' })).totalCount).toBe(3);
      expect(typeof (await list('employee', { count: 'estimated' })).totalCount).toBe('number');
      expect((await refused('employee', { limit: '100000' }))[0]!.path).toBe('/limit');
    });
  });

  describe('selection and expansion', () => {
    it(
      'selects fields and expands lookups and to-many relations with their own options, ' + 'three levels deep',
      async () => {
        const expand =
          'reports(select=full_name;sort=-salary;limit=1;' +
          'expand=assets(select=name;filter=value gt 100;sort=-value;expand=iot_devices(select=name,status))),' +
          'manager(select=full_name)';
        const res = await http().get(
          `/api/data/employee/${ids(1)}?select=full_name&expand=${encodeURIComponent(expand)}`,
        );
        expect(res.status).toBe(200);
        expect(res.body).toEqual({
          id: ids(1),
          full_name: 'Ada Lovelace',
          manager: null,
          reports: [
            {
              id: ids(3),
              full_name: 'Grace Hopper',
              assets: [
                {
                  id: ids(13),
                  name: 'Mark I',
                  iot_devices: [{ id: expect.any(String), name: 'Mark sensor', status: 'maintenance' }],
                },
              ],
            },
          ],
        });
        // an expanded lookup takes its id column's place: one key, the record
        const keyed = await http().get(
          `/api/data/employee/${ids(2)}?select=full_name,manager&expand=manager(select=full_name)`,
        );
        expect(keyed.text.match(/"manager"/g)).toHaveLength(1);
        expect(keyed.body.manager).toEqual({ id: ids(1), full_name: 'Ada Lovelace' });
        // limits apply per parent, not across parents
        const all = await list('employee', {
          select: 'full_name',
          sort: 'full_name',
          expand: 'assets(select=name;limit=1;sort=name)',
        });
        expect(Object.fromEntries(all.data.map((r) => [r.full_name, r.assets.map((a: any) => a.name)]))).toEqual({
          'Ada Lovelace': [],
          'Alan Turing': ['Bombe'],
          'Charles Babbage': ['Analytical Engine'],
          "Dennis O'Ritchie": [],
          'Grace Hopper': ['Mark I'],
        });
        // a JSON filter inside an expansion may hold quotes, semicolons and parentheses
        const tricky = await list('employee', {
          select: 'full_name',
          filter: "full_name eq 'Grace Hopper'",
          expand: 'reports(select=full_name;filter={"full_name":{"contains":"O\'Ritchie (;)"}})',
        });
        expect(tricky.data[0].reports).toEqual([]);
        const quoted = await list('employee', {
          select: 'full_name',
          filter: "full_name eq 'Grace Hopper'",
          expand: 'reports(select=full_name;filter={"full_name":{"contains":"O\'Rit"}})',
        });
        expect(quoted.data[0].reports.map((r: any) => r.full_name)).toEqual(["Dennis O'Ritchie"]);
        const m2m = await list('supplier', {
          select: 'name',
          sort: 'name',
          expand: 'supplier_assets(select=name;sort=name)',
        });
        expect(m2m.data.map((s) => [s.name, s.supplier_assets.map((a: any) => a.name)])).toEqual([
          ['Bits Ltd', ['Mark I']],
          ['Gears Inc', ['Analytical Engine', 'Difference Engine']],
          ['Odd Jobs', []],
        ]);
      },
    );

    it('does the same through GraphQL with typed filter and orderBy inputs', async () => {
      const res = await http().graphql(`{
        employees(filter: { manager: { fullName: { eq: "Ada Lovelace" } } }, orderBy: [{ salary: DESC }], first: 5) {
          totalCount
          nodes {
            fullName
            reports(orderBy: [{ fullName: ASC }]) {
              nodes { fullName assets(filter: { value: { gt: 100 } }) { nodes { name } } }
            }
          }
        }
        suppliers(filter: { categories: { containsAny: ["services"] }, rating: { isNull: false } }) { nodes { name } }
        last: employees(last: 2, orderBy: [{ fullName: ASC }]) {
          nodes { fullName } pageInfo { hasPreviousPage hasNextPage }
        }
      }`);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.employees).toEqual({
        totalCount: 2,
        nodes: [
          { fullName: 'Grace Hopper', reports: { nodes: [{ fullName: "Dennis O'Ritchie", assets: { nodes: [] } }] } },
          {
            fullName: 'Charles Babbage',
            reports: { nodes: [{ fullName: 'Alan Turing', assets: { nodes: [{ name: 'Bombe' }] } }] },
          },
        ],
      });
      expect(res.body.data.suppliers.nodes).toEqual([{ name: 'Gears Inc' }]);
      expect(res.body.data.last).toEqual({
        nodes: [{ fullName: "Dennis O'Ritchie" }, { fullName: 'Grace Hopper' }],
        pageInfo: { hasPreviousPage: true, hasNextPage: false },
      });
      const bad = await http().graphql('{ employees(filter: { salary: { eq: "lots" } }) { totalCount } }');
      expect(bad.status).toBe(400);
    });
  });

  describe('a policy: row rules and field masks', () => {
    it('applies them inside the one statement, at the root, in expansions and in relation filters', async () => {
      const { services } = get();
      const query = services.query;
      // salary becomes a secured field; a role sees only employees hired since 2021, and not their salary
      expect((await http().patch('/api/metadata/entities/employee/fields/salary', { secured: true })).status).toBe(200);
      const role = {
        id: '00000000-0000-4000-8000-000000000001',
        name: 'recent_hires',
        builtIn: false,
        updatedAt: new Date().toISOString(),
        definition: {
          privileges: [{ entity: 'employee', read: 'all' as const }],
          rowRules: [{ entity: 'employee', privilege: 'read' as const, filter: { hired_on: { gte: '2021-01-01' } } }],
          fieldPermissions: [],
          metadata: false,
          users: false,
          plugins: false,
        },
      };
      const access = {
        principal: { kind: 'user' as const, id: role.id },
        subject: { userId: role.id, email: null, teams: [], owners: [role.id], principals: [role.id], attributes: {} },
        policy: services.access.policy([role]),
      };
      const hooks = access;
      const reportsFromA = JSON.stringify({ reports: { some: { full_name: { startsWith: 'A' } } } });
      const page = JSON.parse(
        await query.read(
          { access: hooks },
          { kind: 'list', entity: 'employee', query: { sort: 'full_name', expand: 'manager,reports' } },
        ),
      );
      expect(page.data.map((e: any) => e.full_name)).toEqual(['Charles Babbage', "Dennis O'Ritchie", 'Grace Hopper']);
      expect(page.data.every((e: any) => !('salary' in e))).toBe(true);
      // Ada (hired 2020) is invisible as a manager too, and as a report
      expect(page.data.map((e: any) => e.manager?.full_name ?? null)).toEqual([null, 'Grace Hopper', null]);
      // sorting by a hidden manager's name sorts as if there were no manager
      const sorted = JSON.parse(
        await query.read(
          { access: hooks },
          {
            kind: 'list',
            entity: 'employee',
            query: { sort: 'manager.full_name:nullslast,full_name', select: 'full_name' },
          },
        ),
      );
      expect(sorted.data.map((e: any) => e.full_name)).toEqual(["Dennis O'Ritchie", 'Charles Babbage', 'Grace Hopper']);
      const filtered = JSON.parse(
        await query.read({ access: hooks }, { kind: 'list', entity: 'employee', query: { filter: reportsFromA } }),
      );
      expect(filtered.data).toEqual([]); // Alan (no hire date) cannot be seen, so cannot be matched
      const unhooked = JSON.parse(
        await query.read(
          {},
          { kind: 'list', entity: 'employee', query: { filter: reportsFromA, select: 'full_name' } },
        ),
      );
      expect(unhooked.data.map((e: any) => e.full_name)).toEqual(['Charles Babbage']);
      // naming the masked field is refused, not silently dropped
      await expect(
        query.read({ access }, { kind: 'list', entity: 'employee', query: { sort: 'salary' } }),
      ).rejects.toMatchObject({ code: 'XRM_ERR_FIELD_FORBIDDEN' });
      expect((await http().patch('/api/metadata/entities/employee/fields/salary', { secured: null })).status).toBe(200);
    });
  });

  describe('aggregates', () => {
    it(
      'counts, sums, averages, finds extremes and counts distinct values, ' +
        'grouped by fields, lookup fields and date parts',
      async () => {
        const byManagerParams = new URLSearchParams({
          groupBy: 'manager.full_name',
          aggregate: 'count,sum(salary),avg(salary),min(hired_on),max(salary),countDistinct(manager)',
        });
        const byManager = await http().get(`/api/data/employee/aggregate?${byManagerParams}`);
        expect(byManager.status).toBe(200);
        expect(byManager.body.data).toEqual([
          {
            manager_full_name: 'Ada Lovelace',
            count: 2,
            sum_salary: 15000,
            avg_salary: 7500,
            min_hired_on: '2021-07-01',
            max_salary: 8000,
            countDistinct_manager: 1,
          },
          {
            manager_full_name: 'Charles Babbage',
            count: 1,
            sum_salary: 7500,
            avg_salary: 7500,
            min_hired_on: null,
            max_salary: 7500,
            countDistinct_manager: 1,
          },
          {
            manager_full_name: 'Grace Hopper',
            count: 1,
            sum_salary: null,
            avg_salary: null,
            min_hired_on: '2023-01-09',
            max_salary: null,
            countDistinct_manager: 1,
          },
          {
            manager_full_name: null,
            count: 1,
            sum_salary: 9000,
            avg_salary: 9000,
            min_hired_on: '2020-03-15',
            max_salary: 9000,
            countDistinct_manager: 0,
          },
        ]);
        const byDateParams = new URLSearchParams({
          groupBy: 'year(hired_on),month(hired_on)',
          filter: 'hired_on isNull false',
        });
        const byDate = await http().get(`/api/data/employee/aggregate?${byDateParams}`);
        expect(byDate.body.data).toEqual([
          { year_hired_on: 2020, month_hired_on: 3, count: 1 },
          { year_hired_on: 2021, month_hired_on: 7, count: 1 },
          { year_hired_on: 2021, month_hired_on: 11, count: 1 },
          { year_hired_on: 2023, month_hired_on: 1, count: 1 },
        ]);
        const byWeekParams = new URLSearchParams({
          groupBy: 'week(purchased_at),day(purchased_at)',
          filter: 'purchased_at isNull false',
        });
        const byWeek = await http().get(`/api/data/asset/aggregate?${byWeekParams}`);
        expect(byWeek.body.data).toEqual([{ week_purchased_at: 26, day_purchased_at: 2, count: 1 }]);
        const status = await http().graphql(
          '{ iotDevicesAggregate(groupBy: ["status"], aggregate: ["count"], ' +
            'filter: { name: { endsWith: "sensor" } }) }',
        );
        expect(status.body.data.iotDevicesAggregate).toEqual([
          { status: 'maintenance', count: 1 },
          { status: 'offline', count: 1 },
          { status: 'online', count: 1 },
        ]);
        const bad = await http().get('/api/data/employee/aggregate?aggregate=sum(full_name)');
        expect(bad.status).toBe(400);
        expect(bad.body.errors[0].path).toBe('/aggregate/0');
      },
    );
  });
});
