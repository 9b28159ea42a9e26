/**
 * Golden files of everything the fixture model derives: the DDL the metadata service ran, each
 * entity's JSON Schemas, the OpenAPI document and the generated TypeScript. Both database legs
 * must produce byte-identical artifacts (asserted below), so one set of files serves both.
 * Regenerate after an intended change with `npx vitest run tests/golden.test.ts -u`.
 */
import { describe, expect, it } from 'vitest';
import { choiceSets, createFixtureModel, entities as fixtureEntities, relationships } from './fixtures/model.ts';
import { api } from './support/http.ts';
import { DATABASES, describeEachDatabase, type DatabaseKind } from './support/platform.ts';

const VARIANTS = ['read', 'create', 'update'] as const;

/** Artifact name (a path under tests/golden/) -> content, per database leg. */
const produced = new Map<DatabaseKind, Map<string, string>>();

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

interface Change {
  version: number;
  operation: string;
  target: string;
  statements: string[];
}

function ddlScript(changes: Change[]): string {
  const blocks = changes.map((c) => {
    const header = `-- schema version ${c.version}: ${c.operation} ${c.target}`;
    return c.statements.length
      ? `${header}\n${c.statements.map((s) => `${s};`).join('\n\n')}`
      : `${header}\n-- (no DDL)`;
  });
  return `${blocks.join('\n\n')}\n`;
}

describeEachDatabase('golden files', (get, kind) => {
  const artifacts = new Map<string, string>();
  produced.set(kind, artifacts);

  const golden = async (name: string, content: string) => {
    artifacts.set(name, content);
    await expect(content).toMatchFileSnapshot(`./golden/${name}`);
  };

  it('creates the fixture model', async () => {
    await createFixtureModel(api(get().app).post);
  });

  it('DDL of the fixture model, oldest change first', async () => {
    const res = await api(get().app).get('/api/metadata/changes?limit=1000');
    expect(res.status).toBe(200);
    const changes = [...(res.body.data as Change[])].reverse();
    // the first change is the built-in activity entity (migration 0007)
    expect(changes[0]).toMatchObject({ operation: 'entity.create', target: 'activity', actor: 'system' });
    expect(changes.length).toBe(1 + choiceSets.length + fixtureEntities.length + relationships.length);
    expect(changes.map((c) => c.version)).toEqual(changes.map((_, i) => i + 1));
    await golden('ddl.sql', ddlScript(changes));
  });

  it('JSON Schemas of every fixture entity', async () => {
    const files = new Map<string, string>();
    for (const entity of fixtureEntities) {
      const schemas: Record<string, unknown> = {};
      for (const variant of VARIANTS) {
        const res = await api(get().app).get(`/api/metadata/entities/${entity.name}/schema?variant=${variant}`);
        expect(res.status).toBe(200);
        schemas[variant] = res.body;
      }
      files.set(`json-schema/${entity.name}.json`, json(schemas));
    }
    for (const [name, content] of files) artifacts.set(name, content);
    for (const [name, content] of files) await golden(name, content);
  });

  it('OpenAPI document', async () => {
    const res = await api(get().app).get('/openapi.json');
    expect(res.status).toBe(200);
    await golden('openapi.json', json(res.body));
  });

  it('TypeScript declarations', async () => {
    const res = await api(get().app).get('/api/metadata/typescript');
    expect(res.status).toBe(200);
    await golden('xrm-types.ts', res.text);
  });
});

describe('golden files across databases', () => {
  it('PostgreSQL and PGlite produce identical artifacts', () => {
    expect([...produced.keys()].sort()).toEqual([...DATABASES].sort());
    const [first, ...others] = [...produced.values()];
    expect(first!.size).toBe(3 + fixtureEntities.length);
    for (const other of others) {
      expect([...other.keys()]).toEqual([...first!.keys()]);
      for (const [name, content] of first!) expect(other.get(name), name).toBe(content);
    }
  });
});
