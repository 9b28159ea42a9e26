/**
 * Component schemas of every entity, derived from the same JSON Schemas the data API validates
 * with (metadata/json-schema.ts): `<Entity>` (a record as read), `<Entity>Create`,
 * `<Entity>Update` and `<Entity>Page` (a list response). OpenAPI 3.1 schema objects are JSON
 * Schema 2020-12, so the schemas are kept as they are, less the keywords that only make sense
 * for a standalone schema resource (`$schema`, `$id`).
 */
import type { Catalog } from '../../metadata/catalog.ts';
import { pascalCase } from '../../metadata/inflection.ts';
import { entitySchema, type SchemaVariant } from '../../metadata/json-schema.ts';
import type { EntityDef } from '../../metadata/types.ts';
import { schemaRef, type JsonSchema } from './types.ts';

export interface EntitySchemaNames {
  readonly read: string;
  readonly create: string;
  readonly update: string;
  readonly page: string;
}

function namesFrom(type: string): EntitySchemaNames {
  return { read: type, create: `${type}Create`, update: `${type}Update`, page: `${type}Page` };
}

/**
 * Component names of every entity: `Partner`, `PartnerCreate`, ... A name already taken (by a
 * platform schema such as `Problem`, or by another entity: `partner_page` vs `partner`'s page)
 * moves the later entity, in name order, to `<Type>Record`, `<Type>Record2`, ...
 */
export function entitySchemaNames(
  catalog: Catalog,
  reserved: Iterable<string>,
): ReadonlyMap<string, EntitySchemaNames> {
  const taken = new Set(reserved);
  const result = new Map<string, EntitySchemaNames>();
  for (const entity of sortedEntities(catalog)) {
    const base = pascalCase(entity.name);
    let names = namesFrom(base);
    for (let n = 1; Object.values(names).some((name) => taken.has(name)); n++) {
      names = namesFrom(`${base}Record${n > 1 ? n : ''}`);
    }
    for (const name of Object.values(names)) taken.add(name);
    result.set(entity.name, names);
  }
  return result;
}

/** An entity's JSON Schema as an OpenAPI schema object. */
export function componentSchema(entity: EntityDef, catalog: Catalog, variant: SchemaVariant): JsonSchema {
  const { $schema: _schema, $id: _id, ...schema } = entitySchema(entity, catalog, variant);
  return schema;
}

/** A page of records as the list and navigation routes return it. */
export function pageSchema(entity: EntityDef, itemSchema: string): JsonSchema {
  return {
    type: 'object',
    title: `${entity.pluralDisplayName} (page)`,
    properties: {
      data: { type: 'array', items: schemaRef(itemSchema) },
      totalCount: {
        type: 'integer',
        minimum: 0,
        description: 'Number of matching records; present when `count=true` was asked',
      },
      nextCursor: { type: 'string', description: 'Opaque cursor of the next page; absent on the last page' },
    },
    required: ['data'],
    additionalProperties: false,
  };
}

/** The component schemas of every entity, ordered by entity name. */
export function entityComponents(
  catalog: Catalog,
  allNames: ReadonlyMap<string, EntitySchemaNames>,
): Record<string, JsonSchema> {
  const schemas: Record<string, JsonSchema> = {};
  for (const entity of sortedEntities(catalog)) {
    const names = allNames.get(entity.name)!;
    schemas[names.read] = componentSchema(entity, catalog, 'read');
    schemas[names.create] = componentSchema(entity, catalog, 'create');
    schemas[names.update] = componentSchema(entity, catalog, 'update');
    schemas[names.page] = pageSchema(entity, names.read);
  }
  return schemas;
}

export function sortedEntities(catalog: Catalog): EntityDef[] {
  return [...catalog.entities.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
