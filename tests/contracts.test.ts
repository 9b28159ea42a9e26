/**
 * Contract tests with standard clients that know nothing of xrm-platform, over a real socket:
 *
 * - OpenAPI: `openapi-typescript` turns the served /openapi.json into TypeScript, `tsc --strict`
 *   accepts a program using it through `openapi-fetch` and rejects wrong paths, bodies and
 *   parameters; the same program then runs against the server.
 * - GraphQL: `graphql-request` queries and mutates; the introspection result builds a valid
 *   client schema (graphql-js `buildClientSchema` + `validateSchema`) with no breaking difference
 *   from the server's schema, and validates the documents the client sends.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  buildClientSchema,
  findBreakingChanges,
  findDangerousChanges,
  getIntrospectionQuery,
  parse,
  printSchema,
  validate,
  validateSchema,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { ClientError, GraphQLClient } from 'graphql-request';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildGraphqlSchema } from '../server/graphql/schema-builder.ts';
import { createFixtureModel } from './fixtures/model.ts';
import { adminToken, api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { listen, typecheck } from './support/tools.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** A program written against the types openapi-typescript generates; the test runs it too. */
const USAGE = `import createClient from 'openapi-fetch';
import type { components, paths } from './openapi.ts';

type Partner = components['schemas']['Partner'];
type Problem = components['schemas']['Problem'];

export async function run(baseUrl: string, token: string) {
  const client = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${token}\` } });
  const created = await client.POST('/api/data/partner', {
    body: { name: 'OpenAPI Co', email: 'openapi@contract.example', region: 'emea', annual_revenue: 10.5 },
  });
  if (!created.data) throw new Error(\`create failed: \${JSON.stringify(created.error)}\`);
  const partner: Partner = created.data;
  const region: 'emea' | 'amer' | 'apac' | null = partner.region;

  const page = await client.GET('/api/data/partner', {
    params: {
      query: {
        filter: JSON.stringify({ email: { eq: 'openapi@contract.example' } }),
        select: 'name,region',
        count: 'true',
        limit: 10,
      },
    },
  });
  const total: number | undefined = page.data?.totalCount;
  const one = await client.GET('/api/data/partner/{id}', { params: { path: { id: partner.id } } });
  const patched = await client.PATCH('/api/data/partner/{id}', {
    params: { path: { id: partner.id } },
    body: { tier: 'gold', website: null },
  });
  const tier: 'gold' | 'silver' | null | undefined = patched.data?.tier;
  const invalid = await client.POST('/api/data/partner', { body: { name: 'Bad', email: 'not-an-email' } });
  const problem: Problem | undefined = invalid.error;
  const aggregate = await client.GET('/api/data/partner/aggregate', {
    params: { query: { aggregate: 'count,sum(annual_revenue)', groupBy: 'region' } },
  });
  const types = await client.GET('/api/metadata/entities/{name}', { params: { path: { name: 'partner' } } });
  const removed = await client.DELETE('/api/data/partner/{id}', { params: { path: { id: partner.id } } });
  return {
    partner,
    region,
    page: page.data,
    total,
    one: one.data,
    tier,
    invalid: { status: invalid.response.status, problem },
    aggregate: aggregate.data,
    entity: types.data?.name,
    removed: removed.response.status,
  };
}
`;

/** Each line marked `// error` must fail to type-check; no other line may. */
const MISUSE = `import createClient from 'openapi-fetch';
import type { paths } from './openapi.ts';

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:3000' });

export async function misuse(): Promise<void> {
  await client.GET('/api/data/gadget'); // error
  await client.POST('/api/data/partner', { body: { name: 42 } }); // error
  await client.POST('/api/data/partner', { body: { website: 'https://contoso.example' } }); // error
  await client.POST('/api/data/supplier', { body: { name: 'S', rating: 'five' } }); // error
  await client.GET('/api/data/partner', { params: { query: { count: 'yes' } } }); // error
  await client.GET('/api/data/partner/{id}', { params: { path: {} } }); // error
  await client.PATCH('/api/data/iot_device/{id}', {
    params: { path: { id: 'x' } },
    body: { status: 'broken' }, // error
  });
  const found = await client.GET('/api/data/partner/{id}', { params: { path: { id: 'x' } } });
  const name: number | undefined = found.data?.name; // error
}
`;

describeEachDatabase('contracts with standard clients', (get, kind) => {
  const dir = join(ROOT, 'tests', '.tmp', `contracts-${kind}-${randomBytes(4).toString('hex')}`);
  let url = '';
  /** The test administrator's bearer token: every client sends it. */
  let token = '';

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    const { app } = get();
    await createFixtureModel(api(app).post);
    url = await listen(app);
    const signedIn = await adminToken(app);
    if (!signedIn) throw new Error('the test administrator could not sign in');
    token = signedIn;
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'openapi-typescript types the served document; ' +
      'tsc accepts correct openapi-fetch usage and rejects wrong paths, bodies and parameters',
    async () => {
      // each principal's own document: the administrator's has every entity and field
      const response = await fetch(`${url}/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      const document = (await response.json()) as Record<string, unknown>;
      // a property with a default is optional when sent (the server fills it in): openapi-typescript's
      // defaultNonNullable would make it required in request bodies too
      const source = astToString(await openapiTS(document as never, { defaultNonNullable: false }));
      expect(source).toContain('"/api/data/partner/{id}": {');
      expect(source).toMatch(/^\s+PartnerCreate: \{$/m);
      writeFileSync(join(dir, 'openapi.ts'), source);
      writeFileSync(join(dir, 'usage.ts'), USAGE);
      writeFileSync(join(dir, 'misuse.ts'), MISUSE);

      const { code, errors, output } = await typecheck(
        dir,
        ['openapi.ts', 'usage.ts', 'misuse.ts'],
        ['--lib', 'ES2022,DOM', '--types', 'node'],
      );
      expect(code).not.toBe(0);
      expect(
        errors.filter((e) => e.file !== 'misuse.ts'),
        `the generated types and the correct usage compile:\n${output}`,
      ).toEqual([]);
      const expectedLines = MISUSE.split('\n').flatMap((line, i) => (line.endsWith('// error') ? [i + 1] : []));
      expect(expectedLines.length).toBe(8);
      expect(
        [...new Set(errors.map((e) => e.line))].sort((a, b) => a - b),
        output,
      ).toEqual(expectedLines);

      // the same program against the server: the documented shapes are the real ones
      const program = (await import(pathToFileURL(join(dir, 'usage.ts')).href)) as {
        run(baseUrl: string, token: string): Promise<Record<string, any>>;
      };
      const result = await program.run(url, token);
      expect(result.partner).toMatchObject({
        name: 'OpenAPI Co',
        region: 'emea',
        annual_revenue: 10.5,
        version: 1,
        tier: 'silver',
      });
      expect(result.page).toEqual({
        data: [{ id: result.partner.id, name: 'OpenAPI Co', region: 'emea' }],
        totalCount: 1,
      });
      expect(result.one).toEqual(result.partner);
      expect(result.tier).toBe('gold');
      expect(result.invalid.status).toBe(400);
      expect(result.invalid.problem).toMatchObject({
        code: 'XRM_ERR_RECORD_INVALID',
        errors: [{ path: '/email', message: 'must match format "email"' }],
      });
      expect(result.aggregate).toEqual({ data: [{ region: 'emea', count: 1, sum_annual_revenue: 10.5 }] });
      expect(result.entity).toBe('partner');
      expect(result.removed).toBe(204);
    },
  );

  it('graphql-request queries and mutates, and gets coded errors', async () => {
    const client = new GraphQLClient(`${url}/graphql`, { headers: { authorization: `Bearer ${token}` } });
    const created = await client.request<{ createEmployee: { id: string; fullName: string } }>(
      'mutation ($input: EmployeeCreateInput!) { createEmployee(input: $input) { id fullName } }',
      { input: { fullName: 'Grace Hopper', email: 'grace@contract.example', hiredOn: '2024-05-01' } },
    );
    expect(created.createEmployee.fullName).toBe('Grace Hopper');
    await client.request('mutation ($input: EmployeeCreateInput!) { createEmployee(input: $input) { id } }', {
      input: { fullName: 'Alan Turing', email: 'alan@contract.example', managerId: created.createEmployee.id },
    });

    const document = parse(
      'query Staff($filter: EmployeeFilter, $first: Int) { ' +
        'employees(filter: $filter, first: $first, orderBy: [{ fullName: ASC }]) { ' +
        'totalCount nodes { fullName manager { fullName } } pageInfo { hasNextPage } } }',
    );
    const data = await client.request<{
      employees: {
        totalCount: number;
        nodes: { fullName: string; manager: { fullName: string } | null }[];
        pageInfo: { hasNextPage: boolean };
      };
    }>(document, {
      filter: { email: { endsWith: '@contract.example' } },
      first: 1,
    });
    expect(data.employees).toEqual({
      totalCount: 2,
      nodes: [{ fullName: 'Alan Turing', manager: { fullName: 'Grace Hopper' } }],
      pageInfo: { hasNextPage: true },
    });

    const raw = await client.rawRequest<{ employee: { reports: { nodes: { fullName: string }[] } } }>(
      'query ($id: ID!) { employee(id: $id) { reports { nodes { fullName } } } }',
      { id: created.createEmployee.id },
    );
    expect(raw.status).toBe(200);
    expect(raw.data.employee.reports.nodes).toEqual([{ fullName: 'Alan Turing' }]);

    const failure = await client
      .request('mutation { createEmployee(input: { fullName: "Dup", email: "grace@contract.example" }) { id } }')
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ClientError);
    const [error] = (failure as ClientError).response.errors!;
    expect(error!.extensions).toMatchObject({
      code: 'XRM_ERR_RECORD_DUPLICATE',
      status: 409,
      errors: [{ path: '/email', message: 'must be unique' }],
    });
    expect(error!.path).toEqual(['createEmployee']);
  });

  it(
    "introspection builds a valid client schema, the same as the server's, " + 'that validates client documents',
    async () => {
      const client = new GraphQLClient(`${url}/graphql`, { headers: { authorization: `Bearer ${token}` } });
      const introspection = await client.request<IntrospectionQuery>(
        getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, inputValueDeprecation: true }),
      );
      const schema: GraphQLSchema = buildClientSchema(introspection);
      expect(validateSchema(schema)).toEqual([]);
      const server = buildGraphqlSchema(get().services.runtime.state.catalog);
      expect(findBreakingChanges(server, schema)).toEqual([]);
      expect(findBreakingChanges(schema, server)).toEqual([]);
      expect(findDangerousChanges(server, schema)).toEqual([]);
      expect(printSchema(schema)).toBe(printSchema(server));
      for (const name of ['Employee', 'EmployeeFilter', 'EmployeeOrderBy', 'EmployeeCreateInput', 'PartnerConnection'])
        expect(schema.getType(name), name).toBeDefined();

      // documents are checked on the client with the introspected schema, as the server checks them
      expect(
        validate(schema, parse('{ partners(first: 5, filter: { tier: { eq: "gold" } }) { nodes { name tier } } }')),
      ).toEqual([]);
      const wrong = validate(schema, parse('{ partners { nodes { shoeSize } } }')).map((e) => e.message);
      expect(wrong).toEqual(['Cannot query field "shoeSize" on type "Partner".']);
      const served = await client.request('{ partners { nodes { shoeSize } } }').catch((e: unknown) => e);
      expect((served as ClientError).response.errors!.map((e) => e.message)).toEqual(wrong);
    },
  );
});
