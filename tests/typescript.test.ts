/**
 * `xrm types` end to end: the platform listens on a real socket, the CLI (bin/xrm.js, in a child
 * process) fetches the fixture model's declarations, and `tsc --strict` accepts correct usage of
 * them and rejects wrong field names and value types.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../metadata/catalog.ts';
import { entityTypescript } from '../metadata/typescript.ts';
import type { EntityDef } from '../metadata/types.ts';
import { createFixtureModel, entities as fixtureEntities } from './fixtures/model.ts';
import { adminToken, api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { listen, typecheck, xrm as xrmAnonymous, xrmWith } from './support/tools.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

const GOOD = `import type {
  Employee,
  IotDevice,
  IotDeviceCreate,
  Partner,
  PartnerCreate,
  PartnerUpdate,
  SupplierCreate,
  XrmEntities,
  XrmEntityName,
} from './xrm-types.ts';

export const create: PartnerCreate = {
  name: 'Contoso',
  tier: 'gold',
  region: 'emea',
  annual_revenue: 1200.5,
  partner_since: '2020-01-01',
  email: null,
};
export const minimal: PartnerCreate = { name: 'Fabrikam' };
export const update: PartnerUpdate = { website: 'https://contoso.example', tier: null };
export function describe(p: Partner): string {
  const tier: 'gold' | 'silver' | null = p.tier;
  return \`\${p.name} \${p.id} v\${p.version + 1} \${tier ?? '-'} \${p.created_at}\`;
}
export const device: IotDeviceCreate = { name: 'D1', status: 'online', telemetry: { t: [1, 2], ok: true } };
export const anyTelemetry: IotDevice['telemetry'] = ['any', 'json', 42];
export const supplier: SupplierCreate = { name: 'S', categories: ['hardware', 'services'], rating: 5 };
export const manager: XrmEntities['employee']['read']['manager'] = null;
export const boss = (e: Employee): string | null => e.manager;
export const names: XrmEntityName[] = ['partner', 'iot_device', 'asset', 'employee', 'supplier'];
export function createOf<N extends XrmEntityName>(_name: N, body: XrmEntities[N]['create']): XrmEntities[N]['create'] {
  return body;
}
createOf('asset', { name: 'Laptop', in_service: true, units: 3 });
`;

/** Each line marked `// error` must fail to type-check; no other line may. */
const BAD = `import type {
  IotDeviceCreate,
  Partner,
  PartnerCreate,
  PartnerUpdate,
  XrmEntities,
  XrmEntityName,
} from './xrm-types.ts';

export const typo: PartnerCreate = { name: 'Contoso', webiste: 'https://x.example' }; // error
export const wrongType: PartnerCreate = { name: 42 }; // error
export const missingRequired: PartnerCreate = { tier: 'gold' }; // error
export const notAnOption: IotDeviceCreate = { name: 'D1', status: 'broken' }; // error
export const idInUpdate: PartnerUpdate = { id: '7c9e6679-7425-40de-944b-e07fc1f90ae7' }; // error
export const requiredNull: PartnerUpdate = { name: null }; // error
export const unknownEntity: XrmEntityName = 'gadget'; // error
export const readField = (p: Partner): number => p.name; // error
export const mapped: XrmEntities['supplier']['create'] = { name: 'S', categories: ['food'] }; // error
`;

describeEachDatabase('xrm types', (get, kind) => {
  const dir = join(ROOT, 'tests', '.tmp', `typescript-${kind}-${randomBytes(4).toString('hex')}`);
  let url = '';
  /** `xrm` with the test administrator's session token in XRM_TOKEN (the server needs credentials). */
  let token = '';
  const xrm = (...args: string[]) => xrmWith({ XRM_TOKEN: token }, ...args);

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

  it('prints the declarations served by GET /api/metadata/typescript', async () => {
    const served = await api(get().app).get('/api/metadata/typescript');
    const out = await xrm('types', '--url', url);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(served.text);
    // one interface per entity variant plus the map; no title-derived aliases
    const interfaces = [...out.stdout.matchAll(/^export interface (\w+)/gm)].map((m) => m[1]);
    // the fixture's entities and the built-in activity
    const expected = [...fixtureEntities, { name: 'activity' }].flatMap((e) => {
      const type = e.name.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
      return [type, `${type}Create`, `${type}Update`];
    });
    expect(interfaces.sort()).toEqual([...expected, 'XrmEntities'].sort());
    expect([...out.stdout.matchAll(/^export type (\w+)/gm)].map((m) => m[1])).toEqual(['XrmEntityName']);
  });

  it('writes a file that type-checks correct usage and rejects wrong fields and values', async () => {
    const out = await xrm('types', '--url', url, '--out', join(dir, 'xrm-types.ts'));
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain(`Wrote the types of ${fixtureEntities.length + 1} entities`);
    expect(readFileSync(join(dir, 'xrm-types.ts'), 'utf8')).toContain('export interface PartnerCreate {');
    writeFileSync(join(dir, 'good.ts'), GOOD);
    writeFileSync(join(dir, 'bad.ts'), BAD);

    const { code, errors } = await typecheck(dir, ['xrm-types.ts', 'good.ts', 'bad.ts']);
    expect(code).not.toBe(0);
    expect(
      errors.filter((e) => e.file !== 'bad.ts'),
      'the declarations and the correct usage compile',
    ).toEqual([]);
    const expectedLines = BAD.split('\n').flatMap((line, i) => (line.endsWith('// error') ? [i + 1] : []));
    expect(expectedLines.length).toBe(9);
    expect([...new Set(errors.map((e) => e.line))].sort((a, b) => a - b)).toEqual(expectedLines);
    expect(errors.map((e) => e.message).join('\n')).toMatch(/'webiste' does not exist in type 'PartnerCreate'/);
  });

  it('fails with a clear message and exit code 1 when the server is unreachable', async () => {
    const port = await closedPort();
    const out = await xrm('types', '--url', `http://127.0.0.1:${port}`, '--out', join(dir, 'never.ts'));
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(
      new RegExp(
        `^xrm types: cannot reach the xrm-platform server at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`,
      ),
    );
    expect(out.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('says to set XRM_TOKEN when the server refuses it for lack of credentials, or a wrong one', async () => {
    const anonymous = await xrmAnonymous('types', '--url', url);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stdout).toBe('');
    expect(anonymous.stderr).toMatch(/^xrm types: GET \/api\/metadata\/typescript answered 401: /);
    expect(anonymous.stderr).toContain('(set XRM_TOKEN to an API key');
    const wrong = await xrmWith({ XRM_TOKEN: 'xrm_not-a-key' }, 'types', '--url', url);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('(XRM_TOKEN is not a valid API key or session token)');
    expect(wrong.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('reports usage errors and unknown commands with exit code 1', async () => {
    const unknown = await xrm('codegen-nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown command "codegen-nope"');
    expect(unknown.stderr).toContain('types');
    const badOption = await xrm('types', '--bogus');
    expect(badOption.code).toBe(1);
    expect(badOption.stderr).toContain("Unknown option '--bogus'");
    const help = await xrm('types', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: xrm types');
  });
});

describe('TypeScript declarations: names', () => {
  const entity = (name: string, fields: EntityDef['fields'] = []): EntityDef => ({
    name,
    displayName: name,
    pluralName: `${name}s`,
    pluralDisplayName: `${name}s`,
    primaryField: 'name',
    fields: [
      { name: 'name', type: 'text', displayName: 'Name', required: true, unique: false, searchable: false },
      ...fields,
    ],
  });

  it('gives every entity variant its own interface, even when names would collide', async () => {
    const catalog = new Catalog({
      version: 3,
      entities: [
        entity('partner'),
        entity('partner_create'),
        entity('xrm'),
        entity('data_item', [
          { name: 'payload', type: 'json', displayName: 'Payload', required: true, unique: false, searchable: false },
        ]),
      ],
      relationships: [],
      choiceSets: [],
    });
    const source = await entityTypescript(catalog);
    const interfaces = [...source.matchAll(/^export interface (\w+)/gm)].map((m) => m[1]);
    expect(new Set(interfaces).size).toBe(interfaces.length);
    expect(interfaces).toHaveLength(4 * 3 + 1);
    expect(source).toContain(
      'partner: {\n    read: Partner;\n    create: PartnerCreate;\n    update: PartnerUpdate;\n  };',
    );
    expect(source).toContain(
      'partner_create: {\n    read: PartnerCreateRecord;\n' +
        '    create: PartnerCreateRecordCreate;\n    update: PartnerCreateRecordUpdate;\n  };',
    );
    // a JSON field takes any JSON value; no property becomes a named alias
    expect(source).toMatch(/^ {2}payload: unknown;$/m);
    expect(source).not.toMatch(/^export type (?!XrmEntityName\b)/m);
    expect(source).toContain('from schema version 3.');
  });

  it('declares an empty map for an empty catalog', async () => {
    const source = await entityTypescript(Catalog.empty());
    expect(source).toContain('export interface XrmEntities {}');
    expect(source).toContain('export type XrmEntityName = keyof XrmEntities;');
  });
});
