/**
 * JSON Schemas (draft 2020-12) of an entity's records: `create` (what a client may send to
 * create), `update` (a partial change) and `read` (what the API returns).
 */
import type { Catalog } from './catalog.ts';
import { UUID_PATTERN, nullable, type JsonSchema } from './field-type.ts';
import { FIELD_TYPES } from './field-types/index.ts';
import type { EntityDef, FieldDef } from './types.ts';

export type SchemaVariant = 'create' | 'update' | 'read';
export const SCHEMA_VARIANTS: readonly SchemaVariant[] = ['create', 'update', 'read'];

export const SCHEMA_BASE_URI = 'https://xrm-platform.dev/schemas/';

function fieldSchema(field: FieldDef, catalog: Catalog, variant: SchemaVariant): JsonSchema {
  const type = FIELD_TYPES[field.type];
  const value = type.valueSchema(field, catalog);
  const annotated: JsonSchema = { ...value, title: field.displayName };
  if (field.description) annotated.description = field.description;
  if (field.type === 'lookup') annotated['x-xrm-target'] = field.target;
  if (field.type === 'choice' || field.type === 'multiChoice') {
    annotated['x-xrm-options'] = catalog.choiceOptions(field);
  }
  annotated['x-xrm-type'] = field.type;
  if (variant === 'create' && field.default !== undefined) annotated.default = field.default;
  // an optional field may be null, in reads and writes alike
  return field.required ? annotated : nullable(annotated);
}

const SYSTEM_PROPERTIES: Record<string, JsonSchema> = {
  id: { type: 'string', format: 'uuid', readOnly: true, title: 'Id' },
  created_at: { type: 'string', format: 'date-time', readOnly: true, title: 'Created at' },
  updated_at: { type: 'string', format: 'date-time', readOnly: true, title: 'Updated at' },
  created_by: { type: ['string', 'null'], format: 'uuid', readOnly: true, title: 'Created by' },
  owner_id: { type: ['string', 'null'], format: 'uuid', readOnly: true, title: 'Owner' },
  version: { type: 'integer', readOnly: true, title: 'Row version' },
};

/** The schema `$id` of an entity variant (unique per catalog version so caches never mix). */
export function schemaId(entity: string, variant: SchemaVariant): string {
  return `${SCHEMA_BASE_URI}${entity}/${variant}`;
}

export function entitySchema(entity: EntityDef, catalog: Catalog, variant: SchemaVariant): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  if (variant === 'read') {
    Object.assign(properties, SYSTEM_PROPERTIES);
    required.push(...Object.keys(SYSTEM_PROPERTIES));
  } else if (variant === 'create') {
    properties.id = { type: 'string', format: 'uuid', pattern: UUID_PATTERN, title: 'Id', description: 'Optional client-chosen id' };
  }
  for (const field of entity.fields) {
    const readOnly = FIELD_TYPES[field.type].readOnly;
    if (readOnly && variant !== 'read') continue;
    properties[field.name] = fieldSchema(field, catalog, variant);
    if (variant === 'read') required.push(field.name);
    if (variant === 'create' && field.required && field.default === undefined) required.push(field.name);
  }
  const schema: JsonSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: schemaId(entity.name, variant),
    title: variant === 'read' ? entity.displayName : `${entity.displayName} (${variant})`,
    type: 'object',
    properties,
    additionalProperties: false,
  };
  if (entity.description) schema.description = entity.description;
  if (required.length) schema.required = required;
  return schema;
}
