/**
 * TypeScript declarations of every entity, generated from the same JSON Schemas the API
 * validates with (json-schema-to-typescript): `<Entity>`, `<Entity>Create`, `<Entity>Update`,
 * and the `XrmEntities` map from logical names to the three.
 *
 * json-schema-to-typescript turns every titled schema into a named declaration, so the property
 * titles (`Name`, `Id`, ...) would become aliases colliding across entities. The titles move
 * into each property's description (its JSDoc) instead, leaving one interface per entity variant
 * with inline property types. Everything is compiled in one pass, from a root schema whose
 * properties reference each entity variant, so names are resolved (and formatted) once.
 */
import type { Catalog } from './catalog.ts';
import type { JsonSchema } from './field-type.ts';
import { pascalCase } from './inflection.ts';
import { entitySchema, type SchemaVariant } from './json-schema.ts';
import type { ChoiceOption, EntityDef } from './types.ts';

const VARIANTS: readonly SchemaVariant[] = ['read', 'create', 'update'];
const SUFFIX: Record<SchemaVariant, string> = { read: '', create: 'Create', update: 'Update' };
const ROLE: Record<SchemaVariant, string> = {
  read: 'a record as the API returns it',
  create: 'what to send to create a record',
  update: 'what to send to change a record (only the fields sent change)',
};
const MAP_NAME = 'XrmEntities';
const RESERVED = new Set([MAP_NAME, 'XrmEntityName']);

/** Keywords that make a schema describe some value; a schema with none of them accepts any JSON. */
const TYPING_KEYWORDS = [
  'type',
  'enum',
  'const',
  '$ref',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  'items',
  'properties',
  'tsType',
];

type TypeNames = Record<SchemaVariant, string>;

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Type names of every entity, in name order: `Partner`, `PartnerCreate`, `PartnerUpdate`. A name
 * already taken (`partner_create` vs `partner`'s create type) moves the later entity to
 * `<Type>Record`, `<Type>Record2`, ...
 */
export function entityTypeNames(catalog: Catalog): ReadonlyMap<string, TypeNames> {
  const taken = new Set(RESERVED);
  const result = new Map<string, TypeNames>();
  for (const entity of [...catalog.entities.values()].sort(byName)) {
    const base = pascalCase(entity.name);
    const namesFor = (type: string) => Object.fromEntries(VARIANTS.map((v) => [v, type + SUFFIX[v]])) as TypeNames;
    let names = namesFor(base);
    for (let n = 1; Object.values(names).some((name) => taken.has(name)); n++)
      names = namesFor(`${base}Record${n > 1 ? n : ''}`);
    for (const name of Object.values(names)) taken.add(name);
    result.set(entity.name, names);
  }
  return result;
}

function paragraphs(...parts: unknown[]): string | undefined {
  const text = parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join('\n\n');
  return text || undefined;
}

/** A property schema for the generator: title into the description, JSON values as `unknown`. */
function propertySchema(schema: JsonSchema): JsonSchema {
  const { title, description, ...rest } = schema;
  const options = schema['x-xrm-options'] as readonly ChoiceOption[] | undefined;
  const optionList = options?.length
    ? `Options: ${options.map((o) => `${JSON.stringify(o.value)} (${o.label})`).join(', ')}`
    : undefined;
  const target = schema['x-xrm-target'] as string | undefined;
  const lookup = target ? `Lookup to \`${target}\`: the id of the record referenced` : undefined;
  const result: JsonSchema = { ...rest };
  const doc = paragraphs(title, description, lookup, optionList);
  if (doc) result.description = doc;
  if (!TYPING_KEYWORDS.some((k) => k in schema)) result.tsType = 'unknown';
  return result;
}

function definition(entity: EntityDef, catalog: Catalog, variant: SchemaVariant, name: string): JsonSchema {
  const {
    $id: _id,
    $schema: _s,
    title: _t,
    description,
    properties,
    ...schema
  } = entitySchema(entity, catalog, variant);
  const props = properties as Record<string, JsonSchema>;
  return {
    ...schema,
    title: name,
    description: paragraphs(`${entity.displayName} (entity \`${entity.name}\`): ${ROLE[variant]}`, description),
    properties: Object.fromEntries(Object.entries(props).map(([key, value]) => [key, propertySchema(value)])),
  };
}

export async function entityTypescript(catalog: Catalog): Promise<string> {
  const entities = [...catalog.entities.values()].sort(byName);
  const names = entityTypeNames(catalog);
  const definitions: Record<string, JsonSchema> = {};
  const map: Record<string, JsonSchema> = {};
  for (const entity of entities) {
    const typeNames = names.get(entity.name)!;
    const refs: Record<string, JsonSchema> = {};
    for (const variant of VARIANTS) {
      definitions[typeNames[variant]] = definition(entity, catalog, variant, typeNames[variant]);
      refs[variant] = { $ref: `#/definitions/${typeNames[variant]}` };
    }
    map[entity.name] = { type: 'object', properties: refs, required: [...VARIANTS], additionalProperties: false };
  }
  const root: JsonSchema = {
    title: MAP_NAME,
    description: 'Entity logical names and their record types: as read, as sent to create, as sent to update.',
    type: 'object',
    properties: map,
    required: entities.map((e) => e.name),
    additionalProperties: false,
    definitions,
  };
  // loaded on first use: most servers never generate types, and it is a large module
  const { compile } = await import('json-schema-to-typescript');
  const source = await compile(root as never, MAP_NAME, {
    bannerComment: '',
    additionalProperties: false,
    strictIndexSignatures: true,
    unreachableDefinitions: false,
    declareExternallyReferenced: true,
    format: true,
  });
  return [
    '/* eslint-disable */',
    `/** Generated by xrm-platform from schema version ${catalog.version}. ` +
      'Do not edit: regenerate with `xrm types`. */',
    '',
    source.trim(),
    '',
    '/** Logical names of the entities. */',
    `export type XrmEntityName = keyof ${MAP_NAME};`,
    '',
  ].join('\n');
}
