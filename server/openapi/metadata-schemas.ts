/**
 * Component schemas of the metadata API's bodies: entity, field, relationship and choice-set
 * definitions as sent and as returned, the schema-change ledger, field types and the catalog
 * summary. Documentation only: the metadata service validates requests itself.
 */
import { CAPABILITIES } from '../../metadata/field-type.ts';
import { FIELD_TYPE_NAMES } from '../../metadata/field-types/index.ts';
import { OPTION_SCHEMAS } from '../../metadata/definitions.ts';
import type { FieldOptionName } from '../../metadata/field-type.ts';
import { schemaRef, type JsonSchema } from './types.ts';

const name = (what: string): JsonSchema => ({
  type: 'string',
  pattern: '^[a-z][a-z0-9]*(_[a-z0-9]+)*$',
  maxLength: 63,
  description: `Logical ${what} name (lower snake_case); the stable API and table/column name`,
});
const label: JsonSchema = { type: 'string', minLength: 1, maxLength: 255 };
const description: JsonSchema = { type: 'string', maxLength: 4000 };
const listOf = (item: string): JsonSchema => ({
  type: 'object',
  properties: { data: { type: 'array', items: schemaRef(item) } },
  required: ['data'],
});

/** Every option a field definition may carry (the validation's own schemas); which ones a type takes is listed by GET /api/metadata/field-types. */
const FIELD_OPTIONS: Record<FieldOptionName, JsonSchema> = {
  ...structuredClone(OPTION_SCHEMAS) as Record<FieldOptionName, JsonSchema>,
  options: { ...structuredClone(OPTION_SCHEMAS.options), items: schemaRef('ChoiceOption') },
};

const fieldProperties = (): Record<string, JsonSchema> => ({
  name: name('field'),
  type: { type: 'string', enum: [...FIELD_TYPE_NAMES] },
  displayName: label,
  description,
  required: { type: 'boolean' },
  ...FIELD_OPTIONS,
});

const navigation: JsonSchema = {
  oneOf: [
    {
      type: 'object',
      description: 'One-to-many: records of `source` whose lookup `field` points here',
      properties: { kind: { const: 'inverse' }, name: { type: 'string' }, source: { type: 'string' }, field: { type: 'string' } },
      required: ['kind', 'name', 'source', 'field'],
    },
    {
      type: 'object',
      description: 'Many-to-many through the junction table of `relationship`',
      properties: {
        kind: { const: 'manyToMany' },
        name: { type: 'string' },
        relationship: { type: 'string' },
        other: { type: 'string' },
        selfColumn: { type: 'string', enum: ['from_id', 'to_id'] },
        otherColumn: { type: 'string', enum: ['from_id', 'to_id'] },
      },
      required: ['kind', 'name', 'relationship', 'other', 'selfColumn', 'otherColumn'],
    },
  ],
};

const entityInputProperties = (): Record<string, JsonSchema> => ({
  name: name('entity'),
  displayName: label,
  pluralName: { ...name('entity'), description: 'Plural logical name (default: the English plural of name)' },
  pluralDisplayName: label,
  description,
  primaryField: { type: 'string', description: 'The field naming a record (text-like); created as text when absent' },
});

const choiceOption: JsonSchema = {
  type: 'object',
  properties: { value: { type: 'string', minLength: 1, maxLength: 100 }, label },
  required: ['value', 'label'],
  additionalProperties: false,
};

const relationshipProperties = (): Record<string, JsonSchema> => ({
  name: name('relationship'),
  type: { const: 'manyToMany' },
  from: { type: 'string', description: 'Entity on the "from" side' },
  to: { type: 'string', description: 'Entity on the "to" side' },
  displayName: label,
  description,
});

const choiceSetProperties = (): Record<string, JsonSchema> => ({
  name: name('choice set'),
  displayName: label,
  description,
  options: { type: 'array', items: schemaRef('ChoiceOption'), minItems: 1 },
});

/** The platform's own component schemas, by name. */
export function metadataComponents(): Record<string, JsonSchema> {
  return {
    CatalogSummary: {
      type: 'object',
      properties: {
        version: { type: 'integer', description: 'Schema version: bumped by every metadata change' },
        entities: { type: 'integer' },
        relationships: { type: 'integer' },
        choiceSets: { type: 'integer' },
      },
      required: ['version', 'entities', 'relationships', 'choiceSets'],
    },
    FieldType: {
      type: 'object',
      properties: {
        name: { type: 'string', enum: [...FIELD_TYPE_NAMES] },
        description: { type: 'string' },
        options: { type: 'array', items: { type: 'string' }, description: 'Options a field of this type takes' },
        readOnly: { type: 'boolean', description: 'Values are generated; never accepted in input' },
        filterOperators: { type: 'array', items: { type: 'string' } },
        capabilities: {
          type: 'object',
          description: 'What the platform does with values of this type (the same flags its module declares)',
          properties: Object.fromEntries(CAPABILITIES.map((c) => [c, { type: 'boolean' }])),
          required: [...CAPABILITIES],
          additionalProperties: false,
        },
      },
      required: ['name', 'description', 'options', 'readOnly', 'filterOperators', 'capabilities'],
    },
    FieldTypeList: listOf('FieldType'),
    ChoiceOption: choiceOption,
    FieldInput: {
      type: 'object',
      description: 'A field definition. Each type takes only its own options (GET /api/metadata/field-types)',
      properties: fieldProperties(),
      required: ['name', 'type'],
      additionalProperties: false,
    },
    FieldChange: {
      type: 'object',
      description: 'A partial field change: labels, safe options, lossless type changes; null removes an option. The name cannot change',
      properties: Object.fromEntries(Object.entries(fieldProperties()).map(([k, v]) => [k, k === 'name' ? v : { anyOf: [v, { type: 'null' }] }])),
      additionalProperties: false,
    },
    Field: {
      type: 'object',
      description: 'A field as defined, with defaults filled in',
      properties: fieldProperties(),
      required: ['name', 'type', 'displayName', 'required', 'unique', 'searchable'],
    },
    FieldList: listOf('Field'),
    Navigation: navigation,
    EntityInput: {
      type: 'object',
      properties: { ...entityInputProperties(), fields: { type: 'array', items: schemaRef('FieldInput'), maxItems: 1000 } },
      required: ['name'],
      additionalProperties: false,
    },
    EntityChange: {
      type: 'object',
      properties: { displayName: label, pluralDisplayName: label, description, primaryField: { type: 'string' } },
      additionalProperties: false,
    },
    Entity: {
      type: 'object',
      properties: {
        ...entityInputProperties(),
        fields: { type: 'array', items: schemaRef('Field') },
        navigations: { type: 'array', items: schemaRef('Navigation') },
        alternateKeys: { type: 'array', items: schemaRef('AlternateKey') },
      },
      required: ['name', 'displayName', 'pluralName', 'pluralDisplayName', 'primaryField', 'fields', 'navigations'],
    },
    EntityList: listOf('Entity'),
    AlternateKeyInput: {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Logical name (lower snake_case)' },
        displayName: { type: 'string' },
        fields: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 16, uniqueItems: true, description: 'Fields whose values are unique together' },
      },
      required: ['name', 'fields'],
      additionalProperties: false,
    },
    AlternateKey: {
      type: 'object',
      properties: { name: { type: 'string' }, displayName: { type: 'string' }, fields: { type: 'array', items: { type: 'string' } } },
      required: ['name', 'displayName', 'fields'],
    },
    RelationshipInput: {
      type: 'object',
      properties: relationshipProperties(),
      required: ['name', 'type', 'from', 'to'],
      additionalProperties: false,
    },
    Relationship: {
      type: 'object',
      properties: relationshipProperties(),
      required: ['name', 'type', 'from', 'to', 'displayName'],
    },
    RelationshipList: listOf('Relationship'),
    ChoiceSetInput: {
      type: 'object',
      properties: choiceSetProperties(),
      required: ['name', 'options'],
      additionalProperties: false,
    },
    ChoiceSetChange: {
      type: 'object',
      description: 'Relabel, add or (when unused) remove options; fields using the set follow',
      properties: { displayName: label, description, options: choiceSetProperties().options },
      additionalProperties: false,
    },
    ChoiceSet: {
      type: 'object',
      properties: choiceSetProperties(),
      required: ['name', 'displayName', 'options'],
    },
    ChoiceSetList: listOf('ChoiceSet'),
    SchemaChange: {
      type: 'object',
      description: 'One entry of the schema-change ledger',
      properties: {
        id: { type: 'integer' },
        version: { type: 'integer', description: 'Schema version this change produced' },
        actor: { type: 'string' },
        operation: { type: 'string', examples: ['entity.create', 'field.update'] },
        target: { type: 'string' },
        before: { description: 'The definition before the change (null on create)' },
        after: { description: 'The definition after the change (null on delete)' },
        statements: { type: 'array', items: { type: 'string' }, description: 'DDL statements executed' },
        createdAt: { type: 'string', format: 'date-time' },
      },
      required: ['id', 'version', 'actor', 'operation', 'target', 'statements', 'createdAt'],
    },
    SchemaChangePage: {
      type: 'object',
      properties: { data: { type: 'array', items: schemaRef('SchemaChange') }, totalCount: { type: 'integer', minimum: 0 } },
      required: ['data', 'totalCount'],
    },
    BulkRequest: {
      type: 'object',
      properties: {
        operation: { type: 'string', enum: ['create', 'update', 'upsert', 'delete'] },
        key: { type: 'string', description: 'Alternate key name (upsert)' },
        records: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'object', additionalProperties: true } },
      },
      required: ['operation', 'records'],
      additionalProperties: false,
    },
    BulkResult: {
      type: 'object',
      properties: { data: { type: 'array', items: { type: 'object', additionalProperties: true } } },
      required: ['data'],
    },
    AggregateResult: {
      type: 'object',
      description: 'One row per group: group keys and aggregate values, named as requested',
      properties: { data: { type: 'array', items: { type: 'object', additionalProperties: true } } },
      required: ['data'],
    },
    RecordReference: {
      type: 'object',
      description: 'The id of the record to link',
      properties: { id: { type: 'string', format: 'uuid' } },
      required: ['id'],
      additionalProperties: false,
    },
    GraphqlResponse: {
      type: 'object',
      description: 'A GraphQL response (GraphQL over HTTP)',
      properties: {
        data: { type: ['object', 'null'] },
        errors: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              message: { type: 'string' },
              locations: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, column: { type: 'integer' } } } },
              path: { type: 'array', items: { type: ['string', 'integer'] } },
              extensions: { type: 'object', description: 'For errors of the platform: code (XRM_ERR_...), status and field errors' },
            },
            required: ['message'],
          },
        },
      },
    },
    Health: {
      type: 'object',
      properties: {
        status: { type: 'string', examples: ['ok', 'starting', 'database unreachable'] },
        database: { type: 'string', enum: ['postgres', 'pglite'] },
        schemaVersion: { type: 'integer' },
      },
      required: ['status'],
    },
  };
}
