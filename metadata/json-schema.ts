/**
 * JSON Schemas (draft 2020-12) of an entity's records: `create` (what a client may send to
 * create), `update` (a partial change) and `read` (what the API returns).
 */
import type { Catalog } from './catalog.ts';
import { nullable, type JsonSchema } from './field-type.ts';
import { FIELD_TYPES, takesChoices } from './field-types/index.ts';
import { isMaintained } from './signal-fields.ts';
import { SYSTEM_COLUMNS, SYSTEM_FIELDS, systemField } from './system-fields.ts';
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
  if (takesChoices(field.type)) {
    annotated['x-xrm-options'] = catalog.choiceOptions(field);
  }
  annotated['x-xrm-type'] = field.type;
  if (variant === 'create' && field.default !== undefined) annotated.default = field.default;
  // an optional field may be null, in reads and writes alike
  return field.required ? annotated : nullable(annotated);
}

/** The schema `$id` of an entity variant (unique per catalog version so caches never mix). */
export function schemaId(entity: string, variant: SchemaVariant): string {
  return `${SCHEMA_BASE_URI}${entity}/${variant}`;
}

export function entitySchema(entity: EntityDef, catalog: Catalog, variant: SchemaVariant): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  if (variant === 'read') {
    // the system fields, as the platform sets them
    for (const field of SYSTEM_FIELDS)
      properties[field.name] = { ...fieldSchema(field, catalog, variant), readOnly: true };
    required.push(...SYSTEM_COLUMNS);
  } else if (variant === 'create') {
    const id = systemField('id')!;
    properties.id = {
      ...fieldSchema({ ...id, required: true }, catalog, variant),
      description: 'Optional client-chosen id',
    };
  }
  if (variant !== 'read') {
    properties.owner_id = {
      type: 'string',
      format: 'uuid',
      title: 'Owner',
      description:
        'Who owns the record, a user or a team (default: whoever creates it); another owner needs the assign privilege',
    };
  }
  for (const field of entity.fields) {
    const readOnly = FIELD_TYPES[field.type].readOnly || isMaintained(field);
    if (readOnly && variant !== 'read') continue;
    properties[field.name] = fieldSchema(field, catalog, variant);
    if (isMaintained(field)) properties[field.name]!.readOnly = true;
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
