/**
 * The platform compiles its schemas without Ajv's meta-schema check (metadata/ajv.ts,
 * `validateSchema: false`: it cost every new Ajv instance 116–156 ms). This checks them against
 * the JSON Schema 2020-12 meta-schema instead: the definition document the metadata API validates
 * with, every field type's value schema with every bound it takes, and the entity schemas the
 * fixture model's entities get (its golden JSON Schemas, every variant).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { createAjv } from '../metadata/ajv.ts';
import { DEFINITION_DOCUMENT } from '../metadata/definition-schemas.ts';
import { FIELD_TYPE_NAMES, FIELD_TYPES } from '../metadata/field-types/index.ts';
import type { FieldDef } from '../metadata/types.ts';

const GOLDEN = new URL('./golden/json-schema/', import.meta.url);

/** The platform's own Ajv setup, with the meta-schema check it leaves out turned back on. */
function metaChecker() {
  const ajv = createAjv();
  ajv.opts.validateSchema = true;
  return (schema: unknown) => {
    const valid = ajv.validateSchema(schema as object) as boolean;
    return valid ? [] : (ajv.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

it('the platform compiles without the check; this checker refuses a wrongly typed keyword', () => {
  // what validateSchema: false leaves out: a title that is no string, which only the meta-schema refuses
  expect(() => createAjv().compile({ type: 'string', title: 5 })).not.toThrow();
  const problems = metaChecker();
  expect(problems({ type: 'string', maxLength: '5' })).not.toEqual([]);
  expect(problems({ type: 'strong' })).not.toEqual([]);
  expect(problems({ type: 'string', title: 5 })).not.toEqual([]);
  expect(problems({ type: 'string', maxLength: 5 })).toEqual([]);
});

it('the definition document is valid JSON Schema 2020-12', () => {
  expect(metaChecker()(DEFINITION_DOCUMENT)).toEqual([]);
});

it("every field type's value schema, with every bound set, is valid JSON Schema 2020-12", () => {
  const problems = metaChecker();
  const choices = { choiceOptions: () => [{ value: 'a', label: 'A' }] };
  for (const name of FIELD_TYPE_NAMES) {
    const field = {
      name: 'f',
      type: name,
      displayName: 'F',
      required: false,
      min: 1,
      max: 5,
      minLength: 1,
      maxLength: 10,
      precision: 10,
      scale: 2,
      pattern: '^a',
    } as unknown as FieldDef;
    expect(problems(FIELD_TYPES[name].valueSchema(field, choices as never)), name).toEqual([]);
  }
});

it("every entity variant's schema is valid JSON Schema 2020-12", () => {
  const problems = metaChecker();
  const types = new Set<string>();
  const files = readdirSync(GOLDEN).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    const variants = JSON.parse(readFileSync(new URL(file, GOLDEN), 'utf8')) as Record<string, unknown>;
    for (const [variant, schema] of Object.entries(variants)) {
      expect(problems(schema), `${file} ${variant}`).toEqual([]);
      for (const m of JSON.stringify(schema).matchAll(/"x-xrm-type":"(\w+)"/g)) types.add(m[1]!);
    }
  }
  // the fixture model's entities use most types (the value schemas above cover each)
  expect(types.size).toBeGreaterThanOrEqual(18);
});
