import { GraphQLError, printSchema, validateSchema } from 'graphql';
import { sql } from 'kysely';
import type { MercuriusContext } from 'mercurius';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { Catalog } from '../metadata/catalog.ts';
import { formatGraphqlErrors } from '../server/graphql/errors.ts';
import { buildGraphqlSchema, printGraphqlSchema } from '../server/graphql/schema-builder.ts';
import { createFixtureModel } from './fixtures/model.ts';
import { adminToken, api } from './support/http.ts';
import { describeEachDatabase, type TestPlatform } from './support/platform.ts';
import { StatementCache } from '../server/query/statement-cache.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Lists are oldest first, but records created within one clock tick (PGlite: 1 ms) tie; compare those as sets. */
const sortBy = <T extends Record<string, any>>(items: readonly T[], key: keyof T): T[] =>
  [...items].sort((x, y) => String(x[key]).localeCompare(String(y[key])));

describe('GraphQL schema without a database', () => {
  it('is valid with no entities and always offers _schemaVersion', () => {
    const schema = buildGraphqlSchema(Catalog.empty());
    expect(validateSchema(schema)).toEqual([]);
    expect(String(schema.getQueryType()?.getFields()._schemaVersion?.type)).toBe('Int!');
    expect(schema.getMutationType()).toBeUndefined();
    expect(printSchema(schema)).toContain('_schemaVersion: Int!');
  });

  it('masks an unexpected error, logging it with the error id it returns', () => {
    const log = { error: vi.fn(), info: vi.fn(), warn: vi.fn(), debug: vi.fn() };
    const context = { reply: { log, request: { log } }, app: { log } } as unknown as MercuriusContext;
    const secret = new Error('connection to 10.0.0.5 refused: password authentication failed');
    const { statusCode, response } = formatGraphqlErrors(
      { data: null, errors: [new GraphQLError(secret.message, { path: ['partners'], originalError: secret })] },
      context,
    );
    expect(statusCode).toBe(200);
    const [error] = response.errors!;
    expect(error).toEqual({
      message: 'Internal error',
      path: ['partners'],
      extensions: { code: 'XRM_ERR_INTERNAL', status: 500, errors: [], errorId: expect.stringMatching(UUID) },
    });
    expect(log.error).toHaveBeenCalledWith({ err: secret, errorId: error!.extensions!.errorId }, expect.any(String));
    expect(JSON.stringify(response)).not.toMatch(/10\.0\.0\.5|password|stack/);
  });
});

describeEachDatabase('GraphQL API', (get) => {
  const a = () => api(get().app);
  /** The signed-in test administrator's user id: the owner and creator of the records it creates. */
  const adminId = async (): Promise<string> => {
    const id = (await a().get('/api/auth/me')).body.user?.id;
    expect(id).toMatch(UUID);
    return id;
  };

  /** Runs an operation that must succeed; returns its data. */
  async function ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const res = await a().graphql(query, variables);
    expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
    expect(res.status).toBe(200);
    return res.body.data as T;
  }

  /** Runs an operation that must fail with one error; returns it. */
  async function failure(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{ status: number; error: any; text: string }> {
    const res = await a().graphql(query, variables);
    expect(res.body.errors, JSON.stringify(res.body)).toHaveLength(1);
    return { status: res.status, error: res.body.errors[0], text: res.text };
  }

  const createEmployee = async (input: Record<string, unknown>): Promise<string> =>
    (await ok('mutation($input: EmployeeCreateInput!) { createEmployee(input: $input) { id } }', { input }))
      .createEmployee.id;

  beforeAll(async () => {
    await createFixtureModel(a().post);
  });

  it('serves a valid schema for the fixture model, as in the golden SDL', async () => {
    const catalog = get().services.runtime.state.catalog;
    expect(validateSchema(buildGraphqlSchema(catalog))).toEqual([]);
    await expect(printGraphqlSchema(catalog)).toMatchFileSnapshot('./golden/schema.graphql');
    const data = await ok(
      '{ _schemaVersion __type(name: "IotDevice") { fields { name type { name kind ofType { name } } } } }',
    );
    expect(data._schemaVersion).toBe(catalog.version);
    const fields = Object.fromEntries(
      data.__type.fields.map((f: any) => [f.name, f.type.name ?? `${f.type.ofType.name}!`]),
    );
    expect(fields).toMatchObject({
      id: 'ID!',
      createdAt: 'DateTime!',
      version: 'Int!',
      assetId: 'ID',
      asset: 'Asset',
      status: 'String!',
      telemetry: 'JSON',
      lastSeenAt: 'DateTime',
    });
  });

  it('creates, reads, updates and deletes records through mutations', async () => {
    const asset = await ok(
      `mutation($input: AssetCreateInput!) { createAsset(input: $input) ` +
        `{ id name units purchasedAt inService value } }`,
      { input: { name: 'Gateway', units: 9007199254740991, purchasedAt: '2024-05-01T10:00:00Z', value: 199.99 } },
    );
    expect(asset.createAsset).toMatchObject({
      name: 'Gateway',
      units: 9007199254740991,
      inService: true,
      value: 199.99,
    });
    expect(new Date(asset.createAsset.purchasedAt).toISOString()).toBe('2024-05-01T10:00:00.000Z');
    const assetId = asset.createAsset.id;

    const created = await ok(
      `mutation($input: IotDeviceCreateInput!) {
        createIotDevice(input: $input) {
          id name status telemetry assetId asset { name } version createdAt updatedAt createdBy ownerId
        }
      }`,
      { input: { name: 'Sensor 1', assetId, telemetry: { temperature: [21.5, 22], ok: true, meta: null } } },
    );
    const device = created.createIotDevice;
    expect(device).toMatchObject({
      name: 'Sensor 1',
      status: 'offline',
      assetId,
      asset: { name: 'Gateway' },
      version: 1,
      createdBy: await adminId(),
      ownerId: await adminId(),
    });
    expect(device.telemetry).toEqual({ temperature: [21.5, 22], ok: true, meta: null });
    expect(device.id).toMatch(UUID);
    expect(device.createdAt).toBe((await a().get(`/api/data/iot_device/${device.id}`)).body.created_at);

    const read = await ok('query($id: ID!) { iotDevice(id: $id) { id name telemetry } }', { id: device.id });
    expect(read.iotDevice).toEqual({ id: device.id, name: 'Sensor 1', telemetry: device.telemetry });

    const updated = await ok(
      'mutation($id: ID!, $input: IotDeviceUpdateInput!) { updateIotDevice(id: $id, input: $input) ' +
        '{ status assetId asset { id } lastSeenAt version name } }',
      { id: device.id, input: { status: 'online', assetId: null, lastSeenAt: '2024-06-01T12:30:00+02:00' } },
    );
    expect(updated.updateIotDevice).toMatchObject({
      status: 'online',
      assetId: null,
      asset: null,
      version: 2,
      name: 'Sensor 1',
    });
    expect(new Date(updated.updateIotDevice.lastSeenAt).toISOString()).toBe('2024-06-01T10:30:00.000Z');
    expect((await a().get(`/api/data/iot_device/${device.id}`)).body).toMatchObject({
      status: 'online',
      asset: null,
      version: 2,
    });

    const supplier = await ok(
      'mutation { createSupplier(input: { name: "Acme", categories: ["hardware", "services"] }) { code categories } }',
    );
    expect(supplier.createSupplier).toEqual({
      code: expect.stringMatching(/^SUP-\d{5}$/),
      categories: ['hardware', 'services'],
    });

    expect((await ok('mutation($id: ID!) { deleteIotDevice(id: $id) }', { id: device.id })).deleteIotDevice).toBe(
      device.id,
    );
    expect((await ok('query($id: ID!) { iotDevice(id: $id) { id } }', { id: device.id })).iotDevice).toBeNull();
    const again = await failure('mutation($id: ID!) { deleteIotDevice(id: $id) }', { id: device.id });
    expect(again.error.extensions).toMatchObject({ code: 'XRM_ERR_RECORD_NOT_FOUND', status: 404 });
    const badId = await failure('{ iotDevice(id: "not-a-uuid") { id } }');
    expect(badId.error.extensions).toEqual({
      code: 'XRM_ERR_REQUEST_INVALID',
      status: 400,
      errors: [{ path: '/id', message: 'must be a UUID' }],
    });
  });

  it('lists records as a connection with pageInfo, cursors, offset and totalCount', async () => {
    for (const name of ['P1', 'P2', 'P3', 'P4', 'P5'])
      await ok('mutation($name: String!) { createPartner(input: { name: $name }) { id } }', { name });
    const page = `query($first: Int, $offset: Int, $after: String) {
      partners(first: $first, offset: $offset, after: $after) {
        totalCount nodes { name } edges { cursor node { name } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }`;
    // oldest first, ties (PGlite's clock ticks in milliseconds) broken by id: take the order from one full page
    const all: { name: string }[] = (await ok('{ partners(first: 100) { nodes { name } } }')).partners.nodes;
    expect(all.map((n) => n.name).sort()).toEqual(['P1', 'P2', 'P3', 'P4', 'P5']);

    const first = (await ok(page, { first: 2 })).partners;
    expect(first.totalCount).toBe(5);
    expect(first.nodes).toEqual(all.slice(0, 2));
    expect(first.edges.map((e: any) => e.node)).toEqual(first.nodes);
    expect(first.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: first.edges[0].cursor,
      endCursor: first.edges[1].cursor,
    });
    // edge cursors are the keyset cursors RecordsService issues
    expect((await a().get('/api/data/partner?limit=2')).body.nextCursor).toBe(first.pageInfo.endCursor);

    const second = (await ok(page, { first: 2, after: first.pageInfo.endCursor })).partners;
    expect(second.nodes).toEqual(all.slice(2, 4));
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const third = (await ok(page, { first: 2, after: second.edges[1].cursor })).partners;
    expect(third.nodes).toEqual(all.slice(4));
    expect(third.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const skipped = (await ok(page, { offset: 3 })).partners;
    expect(skipped.nodes).toEqual(all.slice(3));
    expect(skipped.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const none = (await ok(page, { first: 0 })).partners;
    expect(none).toMatchObject({
      totalCount: 5,
      nodes: [],
      edges: [],
      pageInfo: { hasNextPage: true, startCursor: null, endCursor: null },
    });

    const negative = await failure(page, { first: -1 });
    expect(negative.error.extensions).toEqual({
      code: 'XRM_ERR_QUERY_INVALID',
      status: 400,
      errors: [{ path: '/first', message: 'must be from 0 to 1000' }],
    });
    const badCursor = await failure(page, { after: 'bm90IGEgY3Vyc29y' });
    expect(badCursor.error.extensions).toMatchObject({ code: 'XRM_ERR_QUERY_INVALID', errors: [{ path: '/after' }] });
  });

  it('counts only when totalCount is selected (directly, through fragments, not when skipped)', async () => {
    const service = get().services.query;
    const list = vi.spyOn(service, 'read');
    try {
      const counted = async (query: string, variables?: Record<string, unknown>): Promise<boolean | undefined> => {
        list.mockClear();
        await ok(query, variables);
        expect(list).toHaveBeenCalledTimes(1);
        const request = list.mock.calls[0]![1];
        if (request.kind !== 'page') throw new Error(`expected a page read, got ${request.kind}`);
        return request.build(service.parseContext()).count === 'exact';
      };
      expect(await counted('{ partners { nodes { name } } }')).toBe(false);
      expect(await counted('{ partners { total: totalCount } }')).toBe(true);
      expect(await counted('{ partners { ...Counted } } fragment Counted on PartnerConnection { totalCount }')).toBe(
        true,
      );
      expect(await counted('{ partners { ... on PartnerConnection { totalCount } } }')).toBe(true);
      expect(
        await counted('query($no: Boolean!) { partners { totalCount @include(if: $no) nodes { name } } }', {
          no: false,
        }),
      ).toBe(false);
    } finally {
      list.mockRestore();
    }
  });

  it('resolves lookups and inverse navigations, any depth, in one read', async () => {
    const ada = await createEmployee({ fullName: 'Ada Boss', email: 'ada@corp.io' });
    const bob = await createEmployee({ fullName: 'Bob Lead', email: 'bob@corp.io', managerId: ada });
    await createEmployee({ fullName: 'Cy Dev', email: 'cy@corp.io', managerId: ada });
    const dee = await createEmployee({ fullName: 'Dee Dev', email: 'dee@corp.io', managerId: bob });
    await ok('mutation($id: ID!) { createAsset(input: { name: "Laptop", assignedToId: $id }) { id } }', { id: dee });

    const runList = vi.spyOn(get().services.query, 'read');
    let data: any;
    try {
      data = await ok('{ employees { nodes { fullName manager { fullName } } } }');
      expect(runList).toHaveBeenCalledTimes(1);
    } finally {
      runList.mockRestore();
    }
    const byName = Object.fromEntries(data.employees.nodes.map((n: any) => [n.fullName, n.manager?.fullName ?? null]));
    expect(byName).toMatchObject({
      'Ada Boss': null,
      'Bob Lead': 'Ada Boss',
      'Cy Dev': 'Ada Boss',
      'Dee Dev': 'Bob Lead',
    });

    const chain = await ok(
      'query($id: ID!) { employee(id: $id) { ' +
        'fullName managerId manager { fullName manager { fullName manager { id } } } } }',
      { id: dee },
    );
    expect(chain.employee).toEqual({
      fullName: 'Dee Dev',
      managerId: bob,
      manager: { fullName: 'Bob Lead', manager: { fullName: 'Ada Boss', manager: null } },
    });

    const tree = await ok(
      `query($id: ID!) { employee(id: $id) {
        reports { totalCount nodes { fullName reports { totalCount nodes { fullName assets { nodes { name } } } } } }
        firstOnly: reports(first: 1) { nodes { fullName } pageInfo { hasNextPage } }
      } }`,
      { id: ada },
    );
    expect(tree.employee.reports.totalCount).toBe(2);
    expect(sortBy(tree.employee.reports.nodes, 'fullName')).toEqual([
      {
        fullName: 'Bob Lead',
        reports: { totalCount: 1, nodes: [{ fullName: 'Dee Dev', assets: { nodes: [{ name: 'Laptop' }] } }] },
      },
      { fullName: 'Cy Dev', reports: { totalCount: 0, nodes: [] } },
    ]);
    expect(tree.employee.firstOnly).toEqual({
      nodes: [{ fullName: tree.employee.reports.nodes[0].fullName }],
      pageInfo: { hasNextPage: true },
    });
  });

  it('compiles one(id: $id) once for every id; a $id used in the selection too still shapes it', async () => {
    const eve = await createEmployee({ fullName: 'Eve Lead', email: 'eve.lead@corp.io' });
    const fay = await createEmployee({ fullName: 'Fay Dev', email: 'fay.dev@corp.io', managerId: eve });
    const gus = await createEmployee({ fullName: 'Gus Dev', email: 'gus.dev@corp.io', managerId: eve });
    const byId = 'query($id: ID!) { employee(id: $id) { id fullName email } }';
    const compiled = vi.spyOn(StatementCache.prototype, 'set');
    try {
      for (const [id, fullName] of [
        [eve, 'Eve Lead'],
        [fay, 'Fay Dev'],
        [gus, 'Gus Dev'],
        [eve, 'Eve Lead'],
      ])
        expect((await ok(byId, { id })).employee).toMatchObject({ id, fullName });
      expect(compiled).toHaveBeenCalledTimes(1);
    } finally {
      compiled.mockRestore();
    }
    // the same variable in a nested filter: its value is part of the statement
    const nested =
      'query($id: ID!) { employee(id: $id) { fullName reports(filter: { id: { ne: $id } }) { totalCount } } }';
    expect((await ok(nested, { id: eve })).employee).toEqual({ fullName: 'Eve Lead', reports: { totalCount: 2 } });
    expect((await ok(nested, { id: fay })).employee).toEqual({ fullName: 'Fay Dev', reports: { totalCount: 0 } });
    const reportsOf =
      'query($id: ID!, $not: ID!) { employee(id: $id) { reports(filter: { id: { ne: $not } }) { nodes { id } } } }';
    expect((await ok(reportsOf, { id: eve, not: fay })).employee.reports.nodes).toEqual([{ id: gus }]);
    expect((await ok(reportsOf, { id: eve, not: gus })).employee.reports.nodes).toEqual([{ id: fay }]);
  });

  it('follows a many-to-many relationship in both directions', async () => {
    const supplier = async (name: string) =>
      (await ok('mutation($name: String!) { createSupplier(input: { name: $name }) { id } }', { name })).createSupplier
        .id;
    const asset = async (name: string) =>
      (await ok('mutation($name: String!) { createAsset(input: { name: $name }) { id } }', { name })).createAsset.id;
    const [s1, s2, a1, a2] = [
      await supplier('North'),
      await supplier('South'),
      await asset('Router'),
      await asset('Switch'),
    ];
    for (const [s, as] of [
      [s1, a1],
      [s1, a2],
      [s2, a1],
    ]) {
      expect((await a().post(`/api/data/supplier/${s}/supplier_assets`, { id: as })).status).toBe(204);
    }
    const fromSupplier = await ok(
      'query($id: ID!) { supplier(id: $id) { supplierAssets { totalCount nodes { name } } } }',
      { id: s1 },
    );
    expect(fromSupplier.supplier.supplierAssets.totalCount).toBe(2);
    expect(sortBy(fromSupplier.supplier.supplierAssets.nodes, 'name')).toEqual([
      { name: 'Router' },
      { name: 'Switch' },
    ]);
    const fromAsset = await ok(
      'query($id: ID!) { asset(id: $id) { ' +
        'supplierAssets { totalCount nodes { name supplierAssets { nodes { name } } } } } }',
      { id: a1 },
    );
    const suppliers = fromAsset.asset.supplierAssets.nodes;
    expect(fromAsset.asset.supplierAssets.totalCount).toBe(2);
    expect(sortBy(suppliers, 'name').map((n: any) => [n.name, sortBy(n.supplierAssets.nodes, 'name')])).toEqual([
      ['North', [{ name: 'Router' }, { name: 'Switch' }]],
      ['South', [{ name: 'Router' }]],
    ]);
    const paged = await ok(
      'query($id: ID!) { asset(id: $id) { supplierAssets(first: 1, offset: 1) ' +
        '{ nodes { name } pageInfo { hasNextPage hasPreviousPage } } } }',
      { id: a1 },
    );
    expect(paged.asset.supplierAssets).toEqual({
      nodes: [{ name: suppliers[1].name }],
      pageInfo: { hasNextPage: false, hasPreviousPage: true },
    });
    const first = await ok(
      'query($id: ID!) { asset(id: $id) { supplierAssets(first: 1) { pageInfo { hasNextPage } } } }',
      { id: a1 },
    );
    expect(first.asset.supplierAssets.pageInfo.hasNextPage).toBe(true);
  });

  it('reports invalid records with their code, status and camelCase field paths', async () => {
    const create = 'mutation($input: EmployeeCreateInput!) { createEmployee(input: $input) { id } }';
    const invalid = await failure(create, {
      input: { fullName: 'Eve', email: 'not-an-email', hiredOn: '2024-02-30', salary: 1e12 },
    });
    expect(invalid.status).toBe(200);
    expect(invalid.error.path).toEqual(['createEmployee']);
    expect(invalid.error.extensions.code).toBe('XRM_ERR_RECORD_INVALID');
    expect(invalid.error.extensions.status).toBe(400);
    expect(invalid.error.extensions.errors.map((e: any) => e.path).sort()).toEqual(['/email', '/hiredOn', '/salary']);
    expect(invalid.error.message).toContain('/hiredOn');
    expect(invalid.error.message).not.toContain('hired_on');
    expect(invalid.text).not.toContain('stack');

    const eve = await createEmployee({ fullName: 'Eve', email: 'eve@corp.io' });
    const cleared = await failure('mutation($id: ID!) { updateEmployee(id: $id, input: { fullName: null }) { id } }', {
      id: eve,
    });
    expect(cleared.error.extensions).toMatchObject({ code: 'XRM_ERR_RECORD_INVALID', errors: [{ path: '/fullName' }] });

    const ghost = await failure(create, {
      input: { fullName: 'Gus', email: 'gus@corp.io', managerId: '00000000-0000-4000-8000-000000000000' },
    });
    expect(ghost.error.extensions).toEqual({
      code: 'XRM_ERR_RECORD_REFERENCE_NOT_FOUND',
      status: 422,
      errors: [{ path: '/managerId', message: 'references a record that does not exist' }],
    });
    const duplicate = await failure(create, { input: { fullName: 'Eve 2', email: 'eve@corp.io' } });
    expect(duplicate.error.extensions).toEqual({
      code: 'XRM_ERR_RECORD_DUPLICATE',
      status: 409,
      errors: [{ path: '/email', message: 'must be unique' }],
    });

    // errors GraphQL raises about the request itself keep mercurius' status codes
    const unknownField = await failure('{ employees { nodes { salaryy } } }');
    expect(unknownField.status).toBe(400);
    expect(unknownField.error.message).toMatch(/Cannot query field "salaryy"/);
    const missingInput = await failure(create, { input: { email: 'x@corp.io' } });
    expect(missingInput.status).toBe(400);
    expect(missingInput.error.message).toMatch(/fullName/);
    const badDate = await failure(create, { input: { fullName: 'Hal', email: 'hal@corp.io', hiredOn: 'yesterday' } });
    expect(badDate.status).toBe(400);
    expect(badDate.error.message).toMatch(/YYYY-MM-DD/);
    const malformed = await get().app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await adminToken(get().app)}` },
      payload: '{"query": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().errors[0].extensions).toMatchObject({
      code: 'XRM_ERR_REQUEST_MALFORMED_JSON',
      status: 400,
    });
  });

  it('serves a metadata change at once, without a restart', async () => {
    const before = (await ok('{ _schemaVersion }'))._schemaVersion;
    const query = '{ partners(first: 1) { nodes { name vatNumber } } }';
    const stale = await failure(query);
    expect(stale.status).toBe(400);

    const field = await a().post('/api/metadata/entities/partner/fields', {
      name: 'vat_number',
      type: 'text',
      maxLength: 20,
    });
    expect(field.status, JSON.stringify(field.body)).toBe(201);
    expect((await ok('{ _schemaVersion }'))._schemaVersion).toBeGreaterThan(before);
    // the same query text was refused before: mercurius' caches must not serve the old verdict
    expect((await ok(query)).partners.nodes).toEqual([{ name: expect.stringMatching(/^P\d$/), vatNumber: null }]);
    const p = await ok('mutation { createPartner(input: { name: "Vatted", vatNumber: "DE123" }) { vatNumber } }');
    expect(p.createPartner.vatNumber).toBe('DE123');
    const tooLong = await failure(
      'mutation { createPartner(input: { name: "Long", vatNumber: "012345678901234567890" }) { id } }',
    );
    expect(tooLong.error.extensions).toMatchObject({
      code: 'XRM_ERR_RECORD_INVALID',
      errors: [{ path: '/vatNumber' }],
    });

    const entity = await a().post('/api/metadata/entities', {
      name: 'work_site',
      fields: [
        { name: 'city', type: 'text', required: true },
        { name: 'site_manager', type: 'lookup', target: 'employee', inverseName: 'managed_sites' },
      ],
    });
    expect(entity.status, JSON.stringify(entity.body)).toBe(201);
    const boss = await createEmployee({ fullName: 'Site Boss', email: 'site@corp.io' });
    const site = await ok(
      'mutation($id: ID!) { createWorkSite(input: { city: "Lyon", siteManagerId: $id }) ' +
        '{ city siteManager { fullName } } }',
      { id: boss },
    );
    expect(site.createWorkSite).toEqual({ city: 'Lyon', siteManager: { fullName: 'Site Boss' } });
    const inverse = await ok('query($id: ID!) { employee(id: $id) { managedSites { totalCount nodes { city } } } }', {
      id: boss,
    });
    expect(inverse.employee.managedSites).toEqual({ totalCount: 1, nodes: [{ city: 'Lyon' }] });
    const catalog = get().services.runtime.state.catalog;
    expect(validateSchema(buildGraphqlSchema(catalog))).toEqual([]);
  });

  it('keeps the schema valid when an entity would take a GraphQL name already in use', async () => {
    const res = await a().post('/api/metadata/entities', { name: 'date', fields: [{ name: 'label', type: 'text' }] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const data = await ok('mutation { createDateRecord(input: { label: "launch" }) { label } }');
    expect(data.createDateRecord).toEqual({ label: 'launch' });
    const types = await ok(
      '{ scalar: __type(name: "Date") { kind } entity: __type(name: "DateRecord") ' +
        '{ kind } dateRecords { totalCount } }',
    );
    expect(types).toEqual({ scalar: { kind: 'SCALAR' }, entity: { kind: 'OBJECT' }, dateRecords: { totalCount: 1 } });
    const dated = await ok(
      'mutation { createEmployee(input: { fullName: "Dot", email: "dot@corp.io", hiredOn: "2024-02-29" }) ' +
        '{ hiredOn } }',
    );
    expect(dated.createEmployee.hiredOn).toBe('2024-02-29');

    // a lookup `owner` would add `ownerId`, the name of a system field: the metadata API refuses it
    const car = await a().post('/api/metadata/entities', {
      name: 'car',
      fields: [
        { name: 'plate', type: 'text' },
        { name: 'owner', type: 'lookup', target: 'employee' },
      ],
    });
    expect(car.status, JSON.stringify(car.body)).toBe(400);
    expect(car.body.errors).toEqual([{ path: '/fields/1/name', message: expect.stringContaining('owner_id') }]);
    const keeper = await a().post('/api/metadata/entities', {
      name: 'car',
      fields: [
        { name: 'plate', type: 'text' },
        { name: 'keeper', type: 'lookup', target: 'employee' },
      ],
    });
    expect(keeper.status, JSON.stringify(keeper.body)).toBe(201);
    expect(validateSchema(buildGraphqlSchema(get().services.runtime.state.catalog))).toEqual([]);
    const dot = await createEmployee({ fullName: 'Dot Keeper', email: 'keeper@corp.io' });
    const kept = await ok(
      'mutation($id: ID!) { createCar(input: { plate: "XRM-1", keeperId: $id }) ' +
        '{ plate ownerId keeperId keeper { fullName } } }',
      { id: dot },
    );
    expect(kept.createCar).toEqual({
      plate: 'XRM-1',
      ownerId: await adminId(),
      keeperId: dot,
      keeper: { fullName: 'Dot Keeper' },
    });
  });

  it('masks unexpected failures as "Internal error" with an error id', async () => {
    const platform: TestPlatform = get();
    expect(
      (await a().post('/api/metadata/entities', { name: 'scratch_pad', fields: [{ name: 'note', type: 'text' }] }))
        .status,
    ).toBe(201);
    await ok('{ scratchPads { nodes { id } } }');
    // behind the platform's back: a bug, not a client mistake
    await sql`DROP TABLE data.scratch_pad`.execute(platform.services.db);
    const res = await a().graphql('{ scratchPads { nodes { id } } }');
    expect(res.status).toBe(200);
    expect(res.body.data).toBeNull();
    // (locations may be absent: once graphql-jit compiles the operation it leaves them out)
    expect(res.body.errors).toEqual([
      {
        message: 'Internal error',
        ...(res.body.errors[0].locations ? { locations: [{ line: 1, column: 3 }] } : {}),
        path: ['scratchPads'],
        extensions: { code: 'XRM_ERR_INTERNAL', status: 500, errors: [], errorId: expect.stringMatching(UUID) },
      },
    ]);
    expect(res.text).not.toMatch(/scratch_pad|relation|does not exist|stack/);
  });
});
