/**
 * The typed SDK and `xrm codegen` end to end. The platform listens on a real socket with the
 * fixture model; the CLI (bin/xrm.js, in a child process) generates a client as a directory and
 * as one file; the SDK then reads and writes through every method against the server, and
 * `tsc --strict` accepts correct usage (the JSDoc examples and the README example included) and
 * rejects wrong field names, operators, operands and record values, line by line.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../sdk/cli.ts';
import { declaredNames, generateClient, inlineRuntime, RUNTIME_MODULES, type EntityInfo } from '../sdk/cli/codegen.ts';
import { createClient, XrmApiError, type FetchLike, type XrmClient } from '../sdk/index.ts';
import { createFixtureModel, entities as fixtureEntities } from './fixtures/model.ts';
import type { XrmEntities } from './golden/xrm-types.ts';
import { adminToken, api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { listen, type Outcome, typecheck, xrmWith } from './support/tools.ts';

/** Stricter than --strict: the SDK's types must hold under the options careful projects use. */
const SDK_FLAGS = [
  '--noUncheckedIndexedAccess',
  '--exactOptionalPropertyTypes',
  '--noImplicitOverride',
  '--verbatimModuleSyntax',
  '--isolatedModules',
  '--lib',
  'ES2022',
  '--types',
  'node',
];

const ROOT = resolve(import.meta.dirname, '..');

/** What `xrm codegen` adds to the fixture's XrmEntities (written out here so these tests are typed the same way). */
interface Structure {
  activity: {
    fields: {
      subject: 'text';
      kind: 'choice';
      direction: 'choice';
      occurred_at: 'datetime';
      duration_minutes: 'integer';
      body: 'longText';
      due_at: 'datetime';
      completed_at: 'datetime';
      in_reply_to: 'lookup';
      message_id: 'text';
      regarding: 'reference';
      parties: 'partyList';
    };
    lookups: { in_reply_to: 'activity' };
    relations: { replies: 'activity' };
    manyToMany: never;
    keys: 'message_id';
  };
  asset: {
    fields: {
      name: 'text';
      serial_number: 'text';
      purchased_at: 'datetime';
      value: 'decimal';
      units: 'bigInteger';
      in_service: 'boolean';
      assigned_to: 'lookup';
    };
    lookups: { assigned_to: 'employee' };
    relations: { iot_devices: 'iot_device'; supplier_assets: 'supplier' };
    manyToMany: 'supplier_assets';
    keys: never;
  };
  employee: {
    fields: {
      full_name: 'text';
      email: 'email';
      hired_on: 'date';
      salary: 'decimal';
      badge_id: 'uuid';
      manager: 'lookup';
    };
    lookups: { manager: 'employee' };
    relations: { reports: 'employee'; assets: 'asset' };
    manyToMany: never;
    keys: never;
  };
  iot_device: {
    fields: { name: 'text'; asset: 'lookup'; status: 'choice'; telemetry: 'json'; last_seen_at: 'datetime' };
    lookups: { asset: 'asset' };
    relations: {};
    manyToMany: never;
    keys: never;
  };
  partner: {
    fields: {
      name: 'text';
      website: 'url';
      email: 'email';
      phone: 'phone';
      region: 'choice';
      tier: 'choice';
      annual_revenue: 'money';
      partner_since: 'date';
    };
    lookups: {};
    relations: {};
    manyToMany: never;
    keys: 'partner_email';
  };
  supplier: {
    fields: { name: 'text'; code: 'autonumber'; rating: 'integer'; categories: 'multiChoice'; notes: 'longText' };
    lookups: {};
    relations: { supplier_assets: 'asset' };
    manyToMany: 'supplier_assets';
    keys: never;
  };
}
type Fixture = { [N in keyof XrmEntities]: XrmEntities[N] & Structure[N] };

/** Every `@example` block of the SDK's JSDoc, as code. */
function jsdocExamples(): { module: string; code: string }[] {
  return readdirSync(join(ROOT, 'sdk'))
    .filter((f) => f.endsWith('.ts'))
    .flatMap((module) => {
      const source = readFileSync(join(ROOT, 'sdk', module), 'utf8');
      return [...source.matchAll(/@example\n((?:\s*\*(?! @|\/).*\n)+)/g)].map((m) => ({
        module,
        code: m[1]!
          .split('\n')
          .map((line) => line.replace(/^\s*\* ?/, ''))
          .join('\n')
          .trim(),
      }));
    });
}

/** The README's Typed SDK example. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Typed SDK'), readme.indexOf('## Architecture in a paragraph'));
  return /```ts\n([\s\S]*?)```/.exec(section)![1]!;
}

const GOOD = `import { createClient, XrmApiError, type Filter, type XrmSchema } from './xrm/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): void {}

const client = createClient({ baseUrl: 'http://127.0.0.1:3000' });

export async function usage(): Promise<void> {
  const partners = client.entity('partner');
  const page = await partners.list({
    select: ['name', 'tier'],
    filter: {
      tier: { in: ['gold', 'silver'] },
      annual_revenue: { gte: 1000, lt: 5e6 },
      name: { icontains: 'co' },
      partner_since: { between: ['2020-01-01', '2024-12-31'] },
      region: { isNull: false },
    },
    sort: ['-annual_revenue', 'name:nullslast'],
    limit: 10,
    count: 'estimated',
    search: 'acme',
  });
  expectType<Equal<(typeof page.data)[number], { id: string; name: string; tier: 'gold' | 'silver' | null }>>();
  const total: number | undefined = page.totalCount;
  const next: string | undefined = page.nextCursor;

  const employee = await client.entity('employee').get('id', {
    select: ['full_name'],
    expand: {
      manager: { select: ['email'] },
      reports: {
        select: ['full_name', 'hired_on'],
        filter: { hired_on: { gte: '2024-01-01' } },
        sort: '-hired_on',
        limit: 5,
        expand: { manager: true },
      },
    },
  });
  expectType<Equal<typeof employee.manager, { id: string; email: string } | null>>();
  expectType<Equal<(typeof employee.reports)[number]['hired_on'], string | null>>();
  const reportManager: string | undefined = employee.reports[0]?.manager?.full_name;
  const device = await client.entity('iot_device').get('id', {
    expand: { asset: { expand: { assigned_to: { select: ['full_name'] } } } },
  });
  expectType<Equal<typeof device.status, 'online' | 'offline' | 'maintenance'>>();
  const holder: string | undefined = device.asset?.assigned_to?.full_name;

  await client.entity('employee').list({
    filter: {
      manager: { full_name: { startsWith: 'A' }, manager: { email: { iendsWith: '.com' } } },
      reports: { some: { salary: { gt: 100 } }, none: { badge_id: { isNull: true } } },
      assets: { every: { in_service: { eq: true } } },
      or: [{ hired_on: { lt: '2020-01-01' } }, { not: { email: { contains: 'test' } } }],
    },
    sort: ['manager.full_name', '-created_at'],
  });
  await client.entity('iot_device').list({
    filter: {
      telemetry: { temperature: { eq: 21.5 } },
      status: { nin: ['offline'] },
      asset: { serial_number: { startsWith: 'AE' } },
    },
  });
  await client.entity('iot_device').list({
    filter: { telemetry: { jsonPathEq: { path: ['rpm'], value: [1] } }, last_seen_at: { isNull: true } },
  });
  await client.entity('supplier').list({
    filter: {
      categories: { containsAll: ['hardware', 'services'] },
      rating: { in: [4, 5] },
      supplier_assets: { some: { name: { eq: 'x' } } },
    },
  });
  const filter: Filter<XrmSchema, 'asset'> = {
    units: { gte: 1 },
    in_service: { ne: false },
    purchased_at: { gte: '2024-01-01T00:00:00Z' },
    id: { in: ['a'] },
    version: { gt: 1 },
  };
  await client.entity('asset').list({ filter });

  const created = await partners.create({
    name: 'Contoso',
    tier: 'gold',
    region: 'emea',
    annual_revenue: 1200.5,
    partner_since: '2020-01-01',
  });
  expectType<Equal<typeof created, XrmSchema['partner']['read']>>();
  const updated = await partners.update(
    created.id,
    { website: 'https://contoso.example', tier: null },
    { ifMatch: created.version },
  );
  await partners.delete(updated.id, { ifMatch: \`"\${updated.version}"\` });
  const { record, created: isNew } = await partners.upsert('partner_email', {
    name: 'Acme',
    email: 'hello@acme.example',
  });
  const written = await client.entity('supplier').bulk('update', [{ id: record.id, rating: 3, version: 1 }]);
  const deleted = await client.entity('supplier').bulk('delete', written.map((s) => ({ id: s.id })));
  expectType<Equal<typeof deleted, { id: string }[]>>();
  await partners.bulk('upsert', [{ name: 'A', email: 'a@example.com' }], { key: 'partner_email' });

  const rows = await partners.aggregate({
    aggregate: ['count', 'sum(annual_revenue)', 'min(partner_since)'],
    groupBy: ['region', 'year(partner_since)'],
    filter: { tier: { eq: 'gold' } },
  });
  expectType<
    Equal<
      (typeof rows)[number],
      {
        count: number;
        sum_annual_revenue: number | null;
        min_partner_since: string | null;
        region: 'emea' | 'amer' | 'apac' | null;
        year_partner_since: number | null;
      }
    >
  >();
  const byManager = await client.entity('employee').aggregate({
    groupBy: ['manager.full_name'],
    aggregate: ['countDistinct(badge_id)', 'avg(salary)'],
  });
  expectType<
    Equal<
      (typeof byManager)[number],
      { countDistinct_badge_id: number; avg_salary: number | null; manager_full_name: string | null }
    >
  >();
  const counted = await client.entity('supplier').aggregate();
  expectType<Equal<(typeof counted)[number], { count: number }>>();

  const reports = await client.entity('employee').related(created.id, 'reports', {
    select: ['email'],
    sort: ['-hired_on'],
  });
  expectType<Equal<(typeof reports.data)[number], { id: string; email: string }>>();
  const assets = await client.entity('supplier').related(created.id, 'supplier_assets', {
    filter: { in_service: { eq: true } },
  });
  const serial: string | null | undefined = assets.data[0]?.serial_number;
  await client.entity('supplier').associate('s', 'supplier_assets', 'a');
  await client.entity('asset').disassociate('a', 'supplier_assets', 's');

  const suppliers = client.entity('supplier').iterate({ select: ['code'], filter: { rating: { gte: 4 } } });
  for await (const supplier of suppliers) {
    expectType<Equal<typeof supplier, { id: string; code: string }>>();
  }
  const data = await client.graphql<{ partners: { totalCount: number } }>('{ partners { totalCount } }');
  try {
    await partners.get('x');
  } catch (error) {
    if (error instanceof XrmApiError) {
      const paths: string[] = error.errors.map((e) => e.path);
      const code: string = error.code;
    }
  }
}
`;

/** Each line marked `// error` must fail to type-check; no other line may. */
const BAD = `import { createClient } from './xrm/index.ts';

const client = createClient({ baseUrl: 'http://127.0.0.1:3000' });
const partners = client.entity('partner');

export async function misuse(): Promise<void> {
  await partners.list({ filter: { nmae: { eq: 'Contoso' } } }); // error
  await partners.list({ select: ['name', 'websit'] }); // error
  await partners.list({ sort: ['-revenue'] }); // error
  await client.entity('supplier').list({ filter: { rating: { eq: 'high' } } }); // error
  await partners.create({ name: 'Contoso', annual_revenue: '1200' }); // error
  await partners.create({ name: 'Contoso', webiste: 'https://x.example' }); // error
  await partners.create({ tier: 'gold' }); // error
  await partners.list({ filter: { tier: { contains: 'go' } } }); // error
  await partners.list({ filter: { tier: { eq: 'bronze' } } }); // error
  await client.entity('supplier').list({ filter: { rating: { in: [4, '5'] } } }); // error
  await client.entity('supplier').list({ filter: { rating: { between: [1] } } }); // error
  await client.entity('asset').list({ filter: { in_service: { gt: true } } }); // error
  await client.entity('supplier').list({ filter: { categories: { containsAny: ['food'] } } }); // error
  await partners.list({ filter: { partner_since: { isNull: 'yes' } } }); // error
  await partners.list({ filter: { name: { eq: null } } }); // error
  await client.entity('employee').list({ filter: { manager: { ful_name: { eq: 'Ada' } } } }); // error
  await client.entity('employee').list({ filter: { reports: { any: { email: { eq: 'x' } } } } }); // error
  await client.entity('employee').list({ filter: { or: [{ emial: { eq: 'x' } }] } }); // error
  await client.entity('employee').list({ expand: { manger: true } }); // error
  await client.entity('employee').list({ expand: { manager: { select: ['nmae'] } } }); // error
  await client.entity('employee').list({ expand: { manager: { limit: 5 } } }); // error
  await client.entity('supplier').list({ sort: ['categories'] }); // error
  await client.entity('employee').list({ sort: ['manager.nmae'] }); // error
  await partners.aggregate({ aggregate: ['sum(name)'] }); // error
  await partners.aggregate({ groupBy: ['year(name)'] }); // error
  await partners.update('id', { id: '7c9e6679-7425-40de-944b-e07fc1f90ae7' }); // error
  await partners.update('id', { name: null }); // error
  await client.entity('employee').related('id', 'managers'); // error
  await client.entity('employee').associate('id', 'reports', 'other'); // error
  await client.entity('supplier').upsert('by_code', { name: 'S' }); // error
  await client.entity('supplier').bulk('update', [{ rating: 3 }]); // error
  client.entity('gadget'); // error
  const notANumber: number = (await partners.get('id', { select: ['name'] })).name; // error
  const notSelected = (await partners.get('id', { select: ['name'] })).tier; // error
}
`;

describeEachDatabase('typed SDK and xrm codegen', (get, kind) => {
  const dir = join(ROOT, 'tests', '.tmp', `sdk-${kind}-${randomBytes(4).toString('hex')}`);
  let url = '';
  /** The test administrator's session token: the clients' bearer token, and `xrm`'s XRM_TOKEN. */
  let token = '';
  const auth = () => ({ authorization: `Bearer ${token}` });
  const xrm = (...args: string[]) => xrmWith({ XRM_TOKEN: token }, ...args);
  let client: XrmClient<Fixture>;
  let codegenDir: Outcome;
  let codegenFile: Outcome;

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    const { app } = get();
    const http = api(app);
    await createFixtureModel(http.post);
    expect(
      (await http.post('/api/metadata/entities/partner/keys', { name: 'partner_email', fields: ['email'] })).status,
    ).toBe(201);
    url = await listen(app);
    const signedIn = await adminToken(app);
    if (!signedIn) throw new Error('the test administrator could not sign in');
    token = signedIn;
    client = createClient<Fixture>({ baseUrl: url, headers: auth() });
    [codegenDir, codegenFile] = await Promise.all([
      xrm('codegen', '--url', url, '--out', join(dir, 'xrm')),
      xrm('codegen', '--url', url, '--out', join(dir, 'xrm-single.ts')),
    ]);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('xrm codegen writes a self-contained client: the types verbatim, the runtime, and the schema', async () => {
    expect(codegenDir.stderr).toBe(
      // the fixture's entities and the built-in activity
      `Wrote a typed client of ${fixtureEntities.length + 1} entities to ${join(dir, 'xrm')} ` +
        '(xrm-types.ts, index.ts)\n',
    );
    expect(codegenDir.code).toBe(0);
    expect(codegenFile.code).toBe(0);
    expect(codegenFile.stderr).toContain(`Wrote a typed client of ${fixtureEntities.length + 1} entities to`);
    const served = (await api(get().app).get('/api/metadata/typescript')).text;
    expect(readFileSync(join(dir, 'xrm', 'xrm-types.ts'), 'utf8')).toBe(served);
    const index = readFileSync(join(dir, 'xrm', 'index.ts'), 'utf8');
    const single = readFileSync(join(dir, 'xrm-single.ts'), 'utf8');
    // the directory imports only its own types file; the single file imports nothing
    expect([...index.matchAll(/^(?:import|export)\b.*\bfrom\s+'([^']+)'/gm)].map((m) => m[1])).toEqual([
      './xrm-types.js',
      './xrm-types.js',
    ]);
    expect(single).not.toMatch(/^\s*import\s/m);
    expect(single).toContain('export interface PartnerCreate {');
    for (const source of [index, single]) {
      expect(source).toContain(`Typed client of the xrm-platform server at ${url}`);
      expect(source).toContain("    lookups: { manager: 'employee' };");
      expect(source).toContain("    relations: { reports: 'employee'; assets: 'asset' };");
      expect(source).toContain("    relations: { iot_devices: 'iot_device'; supplier_assets: 'supplier' };");
      expect(source).toContain("    manyToMany: 'supplier_assets';");
      expect(source).toContain("    keys: 'partner_email';");
      expect(source).toContain(
        "    fields: { full_name: 'text'; email: 'email'; hired_on: 'date'; salary: 'decimal'; " +
          "badge_id: 'uuid'; manager: 'lookup' };",
      );
      expect(source).toContain('export interface XrmRegister {\n  schema: XrmSchema;\n}');
      for (const module of RUNTIME_MODULES) expect(source).toContain(`// ─── sdk/${module} `);
    }
    // without --out, the single file goes to standard output
    const stdout = await xrm('codegen', '--url', url);
    expect(stdout.code).toBe(0);
    expect(stdout.stdout).toBe(single.replace('./xrm-single.js', './xrm.js'));
  });

  it('creates, reads, updates and deletes records, with optimistic concurrency', async () => {
    const partners = client.entity('partner');
    const created = await partners.create({
      name: 'Contoso',
      email: 'info@contoso.example',
      tier: 'gold',
      region: 'emea',
      annual_revenue: 1200.5,
      partner_since: '2020-01-01',
    });
    expect(created).toMatchObject({ name: 'Contoso', tier: 'gold', version: 1, website: null });
    expect(await partners.get(created.id)).toEqual(created);
    const picked = await partners.get(created.id, { select: ['name', 'annual_revenue'] });
    expect(picked).toEqual({ id: created.id, name: 'Contoso', annual_revenue: 1200.5 });

    const updated = await partners.update(
      created.id,
      { website: 'https://contoso.example', tier: null },
      { ifMatch: created.version },
    );
    expect(updated).toMatchObject({ website: 'https://contoso.example', tier: null, version: 2 });
    const stale = await partners
      .update(created.id, { name: 'Contoso Ltd' }, { ifMatch: created.version })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(XrmApiError);
    expect(stale).toMatchObject({ status: 412, code: 'XRM_ERR_RECORD_VERSION_MISMATCH' });
    const refused = await partners.delete(created.id, { ifMatch: '"1"' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 412, code: 'XRM_ERR_RECORD_VERSION_MISMATCH' });

    await expect(partners.delete(created.id, { ifMatch: `"${updated.version}"` })).resolves.toBeUndefined();
    const gone = await partners.get(created.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(XrmApiError);
    expect(gone).toMatchObject({ status: 404, code: 'XRM_ERR_RECORD_NOT_FOUND' });
  });

  it('lists with typed filters, sort, select, search, count and cursor paging, and iterates every page', async () => {
    const suppliers = client.entity('supplier');
    const made = await suppliers.bulk('create', [
      { name: 'Anvil Works', rating: 5, categories: ['hardware'] },
      { name: 'Bits & Bytes', rating: 4, categories: ['software', 'services'] },
      { name: 'Cogs Ltd', rating: 2, categories: ['hardware', 'services'] },
      { name: 'Dynamo', rating: 4 },
      { name: 'Echo Services', categories: ['services'] },
    ]);
    expect(made.map((s) => s.code)).toEqual(['SUP-00001', 'SUP-00002', 'SUP-00003', 'SUP-00004', 'SUP-00005']);

    const first = await suppliers.list({
      select: ['name', 'rating'],
      filter: {
        or: [{ rating: { gte: 4 } }, { categories: { containsAny: ['services'] } }],
        not: { name: { istartsWith: 'echo' } },
      },
      sort: ['-rating', 'name'],
      limit: 2,
      count: true,
    });
    expect(first.totalCount).toBe(4);
    expect(first.data).toEqual([
      { id: made[0]!.id, name: 'Anvil Works', rating: 5 },
      { id: made[1]!.id, name: 'Bits & Bytes', rating: 4 },
    ]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await suppliers.list({
      select: ['name'],
      filter: {
        or: [{ rating: { gte: 4 } }, { categories: { containsAny: ['services'] } }],
        not: { name: { istartsWith: 'echo' } },
      },
      sort: ['-rating', 'name'],
      limit: 2,
      cursor: first.nextCursor!,
    });
    expect(second.data.map((s) => s.name)).toEqual(['Dynamo', 'Cogs Ltd']);
    expect(second.nextCursor).toBeUndefined();

    const byOffset = await suppliers.list({ sort: 'name', offset: 3, limit: 10 });
    expect(byOffset.data.map((s) => s.name)).toEqual(['Dynamo', 'Echo Services']);
    expect(
      (
        await suppliers.list({
          filter: { categories: { containsAll: ['hardware', 'services'] }, rating: { between: [1, 3] } },
        })
      ).data.map((s) => s.name),
    ).toEqual(['Cogs Ltd']);
    expect((await suppliers.list({ filter: { rating: { isNull: true } } })).data.map((s) => s.name)).toEqual([
      'Echo Services',
    ]);
    expect(
      (await suppliers.list({ filter: { code: { in: ['SUP-00002', 'SUP-00004'] } }, sort: ['code'] })).data.map(
        (s) => s.name,
      ),
    ).toEqual(['Bits & Bytes', 'Dynamo']);

    const partners = client.entity('partner');
    await partners.create({ name: 'Fabrikam Trading', email: 'hi@fabrikam.example', region: 'amer' });
    expect((await partners.list({ search: 'fabri trad', select: ['name'] })).data.map((p) => p.name)).toEqual([
      'Fabrikam Trading',
    ]);

    const names: string[] = [];
    for await (const supplier of suppliers.iterate({ select: ['name'], sort: ['name'], limit: 2 }))
      names.push(supplier.name);
    expect(names).toEqual(['Anvil Works', 'Bits & Bytes', 'Cogs Ltd', 'Dynamo', 'Echo Services']);
  });

  it(
    'expands lookups and to-many relations, nested, filtered and sorted ' +
      '(quotes and parentheses in filter strings too)',
    async () => {
      const employees = client.entity('employee');
      const ada = await employees.create({
        full_name: 'Ada Lovelace',
        email: 'ada@sdk.example',
        hired_on: '2020-01-01',
      });
      const charles = await employees.create({
        full_name: 'Charles Babbage',
        email: 'charles@sdk.example',
        hired_on: '2024-03-01',
        manager: ada.id,
        salary: 5000,
      });
      const pat = await employees.create({
        full_name: "Pat O'Brien (jr); x, y",
        email: 'pat@sdk.example',
        hired_on: '2025-02-01',
        manager: ada.id,
      });
      const asset = await client
        .entity('asset')
        .create({ name: 'Analytical Engine', serial_number: 'AE-1', assigned_to: charles.id, units: 2 });
      await client.entity('iot_device').create({
        name: 'Engine sensor',
        asset: asset.id,
        status: 'online',
        telemetry: { temperature: 21.5, rpm: [120, 118] },
      });

      const boss = await employees.get(ada.id, {
        select: ['full_name'],
        expand: {
          manager: true,
          reports: {
            select: ['full_name', 'hired_on'],
            filter: { hired_on: { gte: '2024-01-01' } },
            sort: ['-hired_on'],
            limit: 5,
            expand: { manager: { select: ['email'] }, assets: { select: ['name'] } },
          },
        },
      });
      expect(boss).toEqual({
        id: ada.id,
        full_name: 'Ada Lovelace',
        manager: null,
        reports: [
          {
            id: pat.id,
            full_name: "Pat O'Brien (jr); x, y",
            hired_on: '2025-02-01',
            manager: { id: ada.id, email: 'ada@sdk.example' },
            assets: [],
          },
          {
            id: charles.id,
            full_name: 'Charles Babbage',
            hired_on: '2024-03-01',
            manager: { id: ada.id, email: 'ada@sdk.example' },
            assets: [{ id: asset.id, name: 'Analytical Engine' }],
          },
        ],
      });
      const reportName: string | undefined = boss.reports[0]?.manager?.email;
      expect(reportName).toBe('ada@sdk.example');

      // a JSON filter inside an expansion, with every character the expansion syntax splits on
      const tricky = await employees.get(ada.id, {
        select: ['full_name'],
        expand: { reports: { select: ['full_name'], filter: { full_name: { contains: "O'Brien (jr); x, y" } } } },
      });
      expect(tricky.reports.map((r) => r.full_name)).toEqual(["Pat O'Brien (jr); x, y"]);

      const devices = await client.entity('iot_device').list({
        select: ['name'],
        filter: {
          telemetry: { temperature: { eq: 21.5 } },
          asset: { assigned_to: { full_name: { startsWith: 'Charles' } } },
          status: { ne: 'offline' },
        },
        expand: { asset: { select: ['serial_number'], expand: { assigned_to: { select: ['full_name'] } } } },
      });
      expect(devices.data).toEqual([
        {
          id: expect.any(String),
          name: 'Engine sensor',
          asset: { id: asset.id, serial_number: 'AE-1', assigned_to: { id: charles.id, full_name: 'Charles Babbage' } },
        },
      ]);
      const holder: string | undefined = devices.data[0]?.asset?.assigned_to?.full_name;
      expect(holder).toBe('Charles Babbage');

      const withReports = await employees.list({
        select: ['full_name'],
        filter: { reports: { some: { salary: { gte: 5000 } } } },
        sort: ['manager.full_name', 'full_name'],
      });
      expect(withReports.data.map((e) => e.full_name)).toEqual(['Ada Lovelace']);
      const managed = await employees.list({
        select: ['full_name'],
        filter: { manager: { email: { eq: 'ada@sdk.example' } } },
        sort: ['-hired_on'],
      });
      expect(managed.data.map((e) => e.full_name)).toEqual(["Pat O'Brien (jr); x, y", 'Charles Babbage']);
    },
  );

  it('aggregates with groups by field, lookup field and date part', async () => {
    const partners = client.entity('partner');
    await partners.bulk('create', [
      { name: 'Agg One', region: 'apac', annual_revenue: 100, partner_since: '2021-05-01' },
      { name: 'Agg Two', region: 'apac', annual_revenue: 300, partner_since: '2021-09-01' },
      { name: 'Agg Three', region: 'apac', annual_revenue: 50, partner_since: '2023-01-01' },
    ]);
    const rows = await partners.aggregate({
      aggregate: ['count', 'sum(annual_revenue)', 'max(annual_revenue)', 'min(partner_since)'],
      groupBy: ['year(partner_since)'],
      filter: { region: { eq: 'apac' }, name: { startsWith: 'Agg' } },
    });
    const sorted = [...rows].sort((a, b) => (a.year_partner_since ?? 0) - (b.year_partner_since ?? 0));
    expect(sorted).toEqual([
      {
        year_partner_since: 2021,
        count: 2,
        sum_annual_revenue: 400,
        max_annual_revenue: 300,
        min_partner_since: '2021-05-01',
      },
      {
        year_partner_since: 2023,
        count: 1,
        sum_annual_revenue: 50,
        max_annual_revenue: 50,
        min_partner_since: '2023-01-01',
      },
    ]);
    const total = await partners.aggregate({ filter: { region: { eq: 'apac' } } });
    expect(total).toEqual([{ count: 3 }]);
    const byManager = await client.entity('employee').aggregate({
      aggregate: ['count'],
      groupBy: ['manager.full_name'],
      filter: { email: { endsWith: '@sdk.example' } },
    });
    expect([...byManager].sort((a, b) => a.count - b.count)).toEqual([
      { manager_full_name: null, count: 1 },
      { manager_full_name: 'Ada Lovelace', count: 2 },
    ]);
  });

  it('lists related records and links and unlinks many-to-many', async () => {
    const supplier = await client.entity('supplier').create({ name: 'Linker' });
    const asset = await client.entity('asset').create({ name: 'Lathe', serial_number: 'L-1' });
    await client.entity('supplier').associate(supplier.id, 'supplier_assets', asset.id);
    const linked = await client
      .entity('supplier')
      .related(supplier.id, 'supplier_assets', { select: ['name', 'serial_number'] });
    expect(linked.data).toEqual([{ id: asset.id, name: 'Lathe', serial_number: 'L-1' }]);
    const back = await client.entity('asset').related(asset.id, 'supplier_assets', { select: ['name'], count: true });
    expect(back).toEqual({ data: [{ id: supplier.id, name: 'Linker' }], totalCount: 1 });
    await client.entity('asset').disassociate(asset.id, 'supplier_assets', supplier.id);
    expect((await client.entity('supplier').related(supplier.id, 'supplier_assets')).data).toEqual([]);

    const [ada] = (await client.entity('employee').list({ filter: { email: { eq: 'ada@sdk.example' } } })).data;
    const reports = await client.entity('employee').related(ada!.id, 'reports', {
      select: ['full_name'],
      sort: ['full_name'],
      filter: { hired_on: { gte: '2024-01-01' } },
    });
    expect(reports.data.map((r) => r.full_name)).toEqual(['Charles Babbage', "Pat O'Brien (jr); x, y"]);
  });

  it('upserts by alternate key and writes in bulk, all or nothing, with item paths', async () => {
    const partners = client.entity('partner');
    const first = await partners.upsert('partner_email', { name: 'Upsert Co', email: 'upsert@sdk.example' });
    expect(first.created).toBe(true);
    expect(first.record).toMatchObject({ name: 'Upsert Co', version: 1 });
    const second = await partners.upsert('partner_email', {
      name: 'Upsert Corporation',
      email: 'upsert@sdk.example',
      tier: 'gold',
    });
    expect(second).toMatchObject({
      created: false,
      record: { id: first.record.id, name: 'Upsert Corporation', tier: 'gold', version: 2 },
    });

    const suppliers = client.entity('supplier');
    const before = (await suppliers.list({ count: true, limit: 1 })).totalCount;
    const refused = await suppliers
      .bulk('create', [
        { name: 'Fine', rating: 3 },
        { name: 'Broken', rating: 9 },
      ])
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(XrmApiError);
    expect(refused).toMatchObject({
      status: 400,
      code: 'XRM_ERR_RECORD_INVALID',
      errors: [{ path: '/records/1/rating', message: expect.any(String) }],
    });
    expect((await suppliers.list({ count: true, limit: 1 })).totalCount).toBe(before);

    const made = await suppliers.bulk('create', [{ name: 'Bulk A', rating: 1 }, { name: 'Bulk B' }]);
    const changed = await suppliers.bulk(
      'update',
      made.map((s) => ({ id: s.id, version: s.version, notes: `noted ${s.name}` })),
    );
    expect(changed.map((s) => [s.notes, s.version])).toEqual([
      ['noted Bulk A', 2],
      ['noted Bulk B', 2],
    ]);
    const upserted = await partners.bulk(
      'upsert',
      [
        { name: 'Upsert Again', email: 'upsert@sdk.example' },
        { name: 'Upsert New', email: 'new@sdk.example' },
      ],
      { key: 'partner_email' },
    );
    expect(upserted.map((p) => p.name)).toEqual(['Upsert Again', 'Upsert New']);
    const deleted = await suppliers.bulk(
      'delete',
      changed.map((s) => ({ id: s.id, version: s.version })),
    );
    expect(deleted).toEqual(changed.map((s) => ({ id: s.id })));
    const stale = await suppliers.bulk('delete', [{ id: made[0]!.id }]).catch((e: unknown) => e);
    expect(stale).toMatchObject({ code: 'XRM_ERR_RECORD_NOT_FOUND', errors: [{ path: '/records/0' }] });
  });

  it("reads a record's audit history and runs custom messages (an unknown one throws its 404)", async () => {
    const partners = client.entity('partner');
    const created = await partners.create({ name: 'Historic', email: 'history@example.com' });
    await partners.update(created.id, { name: 'Historic Ltd' });
    const page = await partners.history(created.id, { limit: 1 });
    expect(page.data.map((e) => e.message)).toEqual(['update']);
    expect(page.data[0]!.changes).toEqual([{ field: 'name', old: 'Historic', new: 'Historic Ltd' }]);
    const rest = await partners.history(created.id, { cursor: page.nextCursor! });
    expect(rest.data.map((e) => e.message)).toEqual(['create']);
    const failure = await client.execute('no_such_message', {}).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(XrmApiError);
    expect(failure).toMatchObject({ status: 404, code: 'XRM_ERR_MESSAGE_NOT_FOUND' });
  });

  it('runs GraphQL queries and mutations, and throws GraphQL errors as XrmApiError', async () => {
    const data = await client.graphql<{
      employees: { totalCount: number; nodes: { fullName: string; manager: { fullName: string } | null }[] };
    }>(
      'query ($filter: EmployeeFilter, $first: Int) { employees(filter: $filter, first: $first, ' +
        'orderBy: [{ fullName: ASC }]) { totalCount nodes { fullName manager { fullName } } } }',
      { filter: { manager: { fullName: { eq: 'Ada Lovelace' } } }, first: 10 },
    );
    expect(data.employees).toEqual({
      totalCount: 2,
      nodes: [
        { fullName: 'Charles Babbage', manager: { fullName: 'Ada Lovelace' } },
        { fullName: "Pat O'Brien (jr); x, y", manager: { fullName: 'Ada Lovelace' } },
      ],
    });
    const created = await client.graphql<{ createPartner: { id: string; name: string; tier: string } }>(
      'mutation ($input: PartnerCreateInput!) { createPartner(input: $input) { id name tier } }',
      {
        input: { name: 'GraphQL Partner' },
      },
    );
    expect(created.createPartner).toMatchObject({ name: 'GraphQL Partner', tier: 'silver' });

    const invalid = await client
      .graphql('mutation { createPartner(input: { name: "Nope", email: "not-an-email" }) { id } }')
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(XrmApiError);
    const error = invalid as XrmApiError;
    expect(error).toMatchObject({
      status: 400,
      code: 'XRM_ERR_RECORD_INVALID',
      errors: [{ path: '/email', message: 'must match format "email"' }],
    });
    expect(error.graphqlErrors).toHaveLength(1);
    expect(error.graphqlErrors![0]!.path).toEqual(['createPartner']);

    const unknownField = await client.graphql('{ employees { nodes { shoeSize } } }').catch((e: unknown) => e);
    expect(unknownField).toMatchObject({ status: 400, code: 'XRM_ERR_GRAPHQL' });
    expect((unknownField as Error).message).toContain('Cannot query field "shoeSize" on type "Employee"');
  });

  it("throws XrmApiError carrying the problem document's status, code and field paths", async () => {
    const partners = client.entity('partner');
    const invalid = await partners
      .create({ name: 'Nope', email: 'not-an-email', colour: 'red' } as never)
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(XrmApiError);
    const error = invalid as XrmApiError;
    expect(error.name).toBe('XrmApiError');
    expect(error.message).toMatch(/^Invalid record: The partner record is invalid/);
    expect(error).toMatchObject({ status: 400, code: 'XRM_ERR_RECORD_INVALID' });
    expect(error.errors.map((e) => e.path).sort()).toEqual(['/colour', '/email']);
    expect(error.problem).toMatchObject({
      type: 'urn:xrm:problem:record-invalid',
      title: 'Invalid record',
      instance: '/api/data/partner',
    });

    await partners.create({ name: 'Unique', email: 'unique@sdk.example' });
    const duplicate = await partners
      .create({ name: 'Unique again', email: 'unique@sdk.example' })
      .catch((e: unknown) => e);
    expect(duplicate).toMatchObject({ status: 409, code: 'XRM_ERR_RECORD_DUPLICATE', errors: [{ path: '/email' }] });

    const badQuery = await client
      .entity('supplier')
      .list({ filter: { rating: { eq: 'high' } } as never })
      .catch((e: unknown) => e);
    expect(badQuery).toMatchObject({
      status: 400,
      code: 'XRM_ERR_QUERY_INVALID',
      errors: [{ path: '/filter/rating/eq', message: expect.any(String) }],
    });
    const badSort = await client
      .entity('supplier')
      .list({ sort: ['-shoe_size'] as never })
      .catch((e: unknown) => e);
    expect(badSort).toMatchObject({ status: 400, code: 'XRM_ERR_QUERY_INVALID', errors: [{ path: '/sort/0' }] });

    const loose = createClient({ baseUrl: `${url}/`, headers: auth() });
    const unknownEntity = await loose
      .entity('gadget')
      .list()
      .catch((e: unknown) => e);
    expect(unknownEntity).toMatchObject({ status: 404, code: 'XRM_ERR_METADATA_ENTITY_NOT_FOUND' });
    expect(
      (await loose.entity('partner').list({ filter: { name: { eq: 'Unique' } } })).data.map((p) => p.name),
    ).toEqual(['Unique']);
    const route = await loose.request({ method: 'GET', path: '/api/nowhere' }).catch((e: unknown) => e);
    expect(route).toMatchObject({ status: 404, code: 'XRM_ERR_ROUTE_NOT_FOUND' });
    expect(
      (await loose.request<{ data: { name: string }[] }>({ method: 'GET', path: '/api/metadata/entities' })).body.data,
    ).toHaveLength(fixtureEntities.length + 1); // and the built-in activity
    const text = await loose.request<string>({
      method: 'GET',
      path: '/api/metadata/typescript',
      headers: { accept: 'text/plain' },
    });
    expect(text.body).toContain('export interface XrmEntities {');

    // an answer that is not a problem document (a proxy's error page)
    const proxy: FetchLike = async () => ({
      ok: false,
      status: 502,
      statusText: 'Bad Gateway',
      headers: { get: () => 'text/html' },
      text: async () => '<h1>Bad Gateway</h1>',
    });
    const behindProxy = await createClient<Fixture>({ baseUrl: url, fetch: proxy })
      .entity('partner')
      .list()
      .catch((e: unknown) => e);
    expect(behindProxy).toBeInstanceOf(XrmApiError);
    expect(behindProxy).toMatchObject({
      status: 502,
      code: 'XRM_ERR_UNEXPECTED_RESPONSE',
      message: 'Bad Gateway: <h1>Bad Gateway</h1>',
      errors: [],
    });
  });

  it('sends the configured headers through a custom fetch, with If-Match and the query string encoded', async () => {
    const seen: { url: string; method: string; headers: Record<string, string>; body?: string }[] = [];
    const recording: FetchLike = (target, init) => {
      seen.push({ url: target, ...init });
      return fetch(target, init);
    };
    let calls = 0;
    const traced = createClient<Fixture>({
      baseUrl: url,
      fetch: recording,
      headers: async () => ({ 'x-trace': `t${++calls}`, ...auth() }),
    });
    const partner = await traced.entity('partner').create({ name: 'Traced & Co', region: 'emea' });
    await traced.entity('partner').update(partner.id, { phone: '+44 20 7946 0000' }, { ifMatch: partner.version });
    await traced
      .entity('partner')
      .list({ select: ['name'], filter: { name: { eq: 'Traced & Co' } }, sort: ['-name'], expand: {}, count: true });
    await traced.entity('partner').upsert('partner_email', { name: 'Traced', email: 'traced@sdk.example' });
    expect(seen.map((s) => [s.method, s.url.slice(url.length)])).toEqual([
      ['POST', '/api/data/partner'],
      ['PATCH', `/api/data/partner/${partner.id}`],
      [
        'GET',
        `/api/data/partner?select=name&filter=${encodeURIComponent('{"name":{"eq":"Traced & Co"}}')}` +
          '&sort=-name&count=true',
      ],
      ['POST', '/api/data/partner/upsert?key=partner_email'],
    ]);
    expect(seen.map((s) => s.headers['x-trace'])).toEqual(['t1', 't2', 't3', 't4']);
    expect(seen.map((s) => s.headers.authorization)).toEqual(Array(4).fill(auth().authorization));
    expect(seen[0]!.headers).toMatchObject({ accept: 'application/json', 'content-type': 'application/json' });
    expect(JSON.parse(seen[0]!.body!)).toEqual({ name: 'Traced & Co', region: 'emea' });
    expect(seen[1]!.headers['if-match']).toBe('"1"');
    expect(seen[2]!.headers['content-type']).toBeUndefined();
  });

  it('runs the generated client, as a directory and as one file', async () => {
    for (const entry of [join(dir, 'xrm', 'index.ts'), join(dir, 'xrm-single.ts')]) {
      const generated = (await import(pathToFileURL(entry).href)) as typeof import('../sdk/index.ts');
      const generatedClient = generated.createClient<Fixture>({ baseUrl: url, headers: auth() });
      const page = await generatedClient.entity('employee').list({
        select: ['full_name'],
        filter: { email: { eq: 'charles@sdk.example' } },
        expand: { manager: { select: ['full_name'] } },
      });
      expect(page.data).toEqual([
        {
          id: expect.any(String),
          full_name: 'Charles Babbage',
          manager: { id: expect.any(String), full_name: 'Ada Lovelace' },
        },
      ]);
      const missing = await generatedClient
        .entity('employee')
        .get('7c9e6679-7425-40de-944b-e07fc1f90ae7')
        .catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(generated.XrmApiError);
      expect(missing).toMatchObject({ code: 'XRM_ERR_RECORD_NOT_FOUND', status: 404 });
    }
  });

  it('type-checks correct usage, the JSDoc examples and the README example, and rejects every wrong line', async () => {
    const examples = jsdocExamples();
    expect(examples.length).toBeGreaterThanOrEqual(10);
    const prelude =
      "import { createClient, XrmApiError } from './xrm/index.ts';\n\n" +
      "const client = createClient({ baseUrl: 'http://127.0.0.1:3000' });\n";
    writeFileSync(
      join(dir, 'examples.ts'),
      prelude +
        examples
          .map((e, i) => `\n// sdk/${e.module}\nexport async function example${i}(): Promise<void> {\n${e.code}\n}\n`)
          .join(''),
    );
    writeFileSync(join(dir, 'readme.ts'), readmeExample());
    writeFileSync(join(dir, 'good.ts'), GOOD);
    writeFileSync(join(dir, 'good-single.ts'), GOOD.replace("from './xrm/index.ts'", "from './xrm-single.ts'"));
    writeFileSync(join(dir, 'bad.ts'), BAD);

    const { code, errors, output } = await typecheck(
      dir,
      [
        'xrm/index.ts',
        'xrm/xrm-types.ts',
        'xrm-single.ts',
        'examples.ts',
        'readme.ts',
        'good.ts',
        'good-single.ts',
        'bad.ts',
      ],
      SDK_FLAGS,
    );
    expect(code).not.toBe(0);
    expect(
      errors.filter((e) => e.file !== 'bad.ts'),
      `the client, the examples and the correct usage compile:\n${output}`,
    ).toEqual([]);
    const expectedLines = BAD.split('\n').flatMap((line, i) => (line.endsWith('// error') ? [i + 1] : []));
    expect(expectedLines.length).toBe(34);
    expect(
      [...new Set(errors.map((e) => e.line))].sort((a, b) => a - b),
      output,
    ).toEqual(expectedLines);
    const messages = errors.map((e) => e.message).join('\n');
    expect(messages).toMatch(/'nmae' does not exist in type/);
    expect(messages).toMatch(/Type '"websit"' is not assignable to type 'FieldOf<XrmSchema, "partner">'/);
    expect(messages).toMatch(/Type 'string' is not assignable to type 'number'/);
  });

  it('runs the README example against the server', async () => {
    const file = join(dir, 'readme-run.ts');
    writeFileSync(file, readmeExample().replace("'http://localhost:3000'", JSON.stringify(url)));
    // the example reads its credentials from XRM_TOKEN, as a reader's program would
    const before = process.env.XRM_TOKEN;
    process.env.XRM_TOKEN = token;
    try {
      await import(pathToFileURL(file).href);
    } finally {
      if (before === undefined) delete process.env.XRM_TOKEN;
      else process.env.XRM_TOKEN = before;
    }
    const acme = (await client.entity('partner').list({ filter: { email: { eq: 'hello@acme.example' } } })).data[0];
    expect(acme).toMatchObject({ name: 'Acme Corp', region: 'emea', annual_revenue: 1300000, version: 2 });
  });
});

describe('xrm codegen without a server', () => {
  const entity = (name: string): EntityInfo => ({ name, fields: [{ name: 'name', type: 'text' }], navigations: [] });
  const types = (...names: string[]) =>
    '/* eslint-disable */\n' +
    '/** Generated by xrm-platform from schema version 3. Do not edit: regenerate with `xrm types`. */\n\n' +
    'export interface XrmEntities {\n' +
    `${names.map((n) => `  ${n}: {\n    read: ${n[0]!.toUpperCase()}${n.slice(1)};\n  };`).join('\n')}\n}\n` +
    `${names.map((n) => `export interface ${n[0]!.toUpperCase()}${n.slice(1)} {\n  id: string;\n}`).join('\n')}\n`;

  it('inlines the SDK runtime without imports', () => {
    const runtime = inlineRuntime();
    expect(runtime).not.toMatch(/^\s*import\s/m);
    expect(runtime).not.toMatch(/\bfrom\s+'/);
    for (const name of ['createClient', 'XrmApiError', 'XrmRegister', 'Filter', 'EntityClient'])
      expect(declaredNames(runtime).has(name), name).toBe(true);
    expect(() => inlineRuntime((module) => (module === 'http.ts' ? "import { x } from 'somewhere';\n" : ''))).toThrow(
      /http\.ts imports something/,
    );
  });

  it('refuses a single file whose entity types clash with SDK names, and writes a directory instead', () => {
    const input = {
      types: types('filter', 'gadget'),
      entities: [entity('filter'), entity('gadget')],
      url: 'http://127.0.0.1:3000',
    };
    expect(() => generateClient(input, 'file')).toThrow(
      /the entity types Filter clash with names of the SDK in one file; write a directory instead/,
    );
    const files = generateClient(input, 'directory');
    expect(files.map((f) => f.name)).toEqual(['xrm-types.ts', 'index.ts']);
    expect(files[1]!.content).toContain("  filter: {\n    read: XrmEntities['filter']['read'];");
  });

  it('lists codegen in the overview and explains its options', async () => {
    const out: string[] = [];
    const io = { stdout: (text: string) => void out.push(text), stderr: (text: string) => void out.push(text) };
    expect(await main(['--help'], io)).toBe(0);
    expect(out.join('')).toMatch(/^ {2}codegen\s+Generate a typed TypeScript client of a running server$/m);
    out.length = 0;
    expect(await main(['codegen', '--help'], io)).toBe(0);
    expect(out.join('')).toContain('Usage: xrm codegen [--url <server>] [--out <dir> | <file.ts>]');
    out.length = 0;
    expect(await main(['codegen', 'extra'], io)).toBe(1);
    expect(out.join('')).toBe('xrm codegen: unexpected argument "extra" (see xrm codegen --help)\n');
  });
});
