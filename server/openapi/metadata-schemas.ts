/**
 * Component schemas of the metadata API: definitions as sent (the very schemas the metadata
 * service validates with, metadata/definition-schemas.ts) and as returned, the schema-change
 * ledger, field types and the catalog summary; and the few shared bodies of the other routes.
 */
import { BULK_REQUEST, RECORD_REFERENCE } from '../rest/route-schemas.ts';
import { CAPABILITIES, FILTER_OPERATORS } from '../../metadata/field-type.ts';
import { FIELD_TYPE_NAMES } from '../../metadata/field-types/index.ts';
import {
  DEFINITION_PROPERTIES,
  DEFINITION_SCHEMAS,
  FIELD_OPTION_NAMES,
  FIELD_PROPERTIES,
} from '../../metadata/definition-schemas.ts';
import { INDEX_STATUSES } from '../../metadata/types.ts';
import { schemaRef, type JsonSchema } from './types.ts';

/** In the answer of a change that broke automation rules (they turned invalid), else absent. */
export const WARNINGS: JsonSchema = {
  type: 'array',
  items: schemaRef('ChangeWarning'),
  description: 'Only in the answer of a change that made automation rules invalid',
};

const listOf = (item: string): JsonSchema => ({
  type: 'object',
  properties: { data: { type: 'array', items: schemaRef(item) } },
  required: ['data'],
});

/** Every operator some field type supports, in registry order. */

const navigation: JsonSchema = {
  oneOf: [
    {
      type: 'object',
      description: 'One-to-many: records of `source` whose lookup `field` points here',
      properties: {
        kind: { const: 'inverse' },
        name: { type: 'string' },
        source: { type: 'string' },
        field: { type: 'string' },
      },
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

/**
 * The platform's own component schemas, by name. The definition schemas are copies of the
 * validator's own; a component refers to them in the document's order.
 */
export function metadataComponents(): Record<string, JsonSchema> {
  const definitions = structuredClone(DEFINITION_SCHEMAS) as Record<string, JsonSchema>;
  const {
    ChoiceOption,
    FieldInput,
    FieldChange,
    EntityInput,
    EntityChange,
    AlternateKeyInput,
    IndexInput,
    RelationshipInput,
    ChoiceSetInput,
    ChoiceSetChange,
    ...fieldInputs
  } = definitions;
  const properties = structuredClone(DEFINITION_PROPERTIES);
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
        options: {
          type: 'array',
          items: { type: 'string', enum: [...FIELD_OPTION_NAMES] },
          description: 'Options a field of this type takes',
        },
        readOnly: { type: 'boolean', description: 'Values are generated; never accepted in input' },
        filterOperators: { type: 'array', items: { type: 'string', enum: FILTER_OPERATORS } },
        capabilities: {
          type: 'object',
          description: 'What the platform does with values of this type (the same flags its module declares)',
          properties: Object.fromEntries(CAPABILITIES.map((c) => [c, { type: 'boolean' }])),
          required: [...CAPABILITIES],
          additionalProperties: false,
        },
        presentation: {
          type: 'object',
          description:
            'How people see the type: its label, what a badly shaped value is told, grid column width, a suffix',
          properties: {
            label: { type: 'string' },
            shape: { type: 'string' },
            width: {
              oneOf: [
                {
                  type: 'object',
                  properties: { fixed: { type: 'integer' } },
                  required: ['fixed'],
                  additionalProperties: false,
                },
                {
                  type: 'object',
                  properties: { min: { type: 'integer' } },
                  required: ['min'],
                  additionalProperties: false,
                },
              ],
            },
            suffix: { type: 'string' },
          },
          required: ['label', 'width'],
          additionalProperties: false,
        },
      },
      required: ['name', 'description', 'options', 'readOnly', 'filterOperators', 'capabilities', 'presentation'],
    },
    FieldTypeList: listOf('FieldType'),
    ChoiceOption,
    FieldInput,
    ...fieldInputs,
    FieldChange,
    Field: {
      type: 'object',
      description: 'A field as defined, with defaults filled in',
      properties: {
        ...structuredClone(FIELD_PROPERTIES),
        maintainedBy: {
          type: 'string',
          enum: ['relationships'],
          description: 'A signal the platform keeps current: read-only everywhere, there while tracking is on',
        },
        builtIn: { type: 'boolean', description: 'Created by the platform: only its labels can change' },
        warnings: WARNINGS,
      },
      required: ['name', 'type', 'displayName', 'required', 'unique', 'searchable'],
    },
    FieldList: listOf('Field'),
    Navigation: navigation,
    EntityInput,
    EntityChange,
    Entity: {
      type: 'object',
      properties: {
        ...properties.entity,
        builtIn: { type: 'boolean', description: 'Created by the platform (the activity entity): cannot be deleted' },
        fields: { type: 'array', items: schemaRef('Field') },
        navigations: { type: 'array', items: schemaRef('Navigation') },
        alternateKeys: { type: 'array', items: schemaRef('AlternateKey') },
        indexes: { type: 'array', items: schemaRef('Index') },
      },
      required: ['name', 'displayName', 'pluralName', 'pluralDisplayName', 'primaryField', 'fields', 'navigations'],
    },
    EntityList: listOf('Entity'),
    AlternateKeyInput,
    AlternateKey: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        displayName: { type: 'string' },
        fields: { type: 'array', items: { type: 'string' } },
      },
      required: ['name', 'displayName', 'fields'],
    },
    IndexInput,
    Index: {
      type: 'object',
      description: 'A B-tree index declared on an entity',
      properties: {
        name: { type: 'string' },
        displayName: { type: 'string' },
        fields: {
          type: 'array',
          items: { type: 'string' },
          description: 'Its fields in order (the physical index appends id unless it is unique)',
        },
        unique: { type: 'boolean' },
        status: {
          type: 'string',
          enum: [...INDEX_STATUSES],
          description: 'active: in use; building: a job builds it CONCURRENTLY; failed: see error',
        },
        error: { type: 'string', description: 'Why its build failed (status failed)' },
        job: { type: 'string', description: 'The job building it (only in the answer of a create that queued one)' },
        progress: {
          type: ['object', 'null'],
          description:
            "While building (GET only): the build's latest progress from pg_stat_progress_create_index " +
            '(phase, blocksDone, blocksTotal, tuplesDone, tuplesTotal, lockersDone, lockersTotal, percent)',
          additionalProperties: true,
        },
      },
      required: ['name', 'displayName', 'fields', 'unique', 'status'],
    },
    IndexList: listOf('Index'),
    RelationshipInput,
    Relationship: {
      type: 'object',
      properties: properties.relationship,
      required: ['name', 'type', 'from', 'to', 'displayName'],
    },
    RelationshipList: listOf('Relationship'),
    ChoiceSetInput,
    ChoiceSetChange,
    ChoiceSet: {
      type: 'object',
      properties: { ...properties.choiceSet, warnings: WARNINGS },
      required: ['name', 'displayName', 'options'],
    },
    ChoiceSetList: listOf('ChoiceSet'),
    ChangeWarning: {
      type: 'object',
      description: 'Something a committed change broke without being refused',
      properties: {
        code: { type: 'string', description: 'XRM_WARN_RULE_INVALID: an automation rule is now invalid' },
        message: { type: 'string' },
        target: { type: 'string', description: 'What it concerns, e.g. rule:<id>' },
      },
      required: ['code', 'message', 'target'],
    },
    ChangeWarnings: {
      type: 'object',
      properties: { warnings: { type: 'array', items: schemaRef('ChangeWarning') } },
      required: ['warnings'],
    },
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
      properties: {
        data: { type: 'array', items: schemaRef('SchemaChange') },
        totalCount: { type: 'integer', minimum: 0 },
      },
      required: ['data', 'totalCount'],
    },
    BulkRequest: BULK_REQUEST,
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
    RecordReference: RECORD_REFERENCE,
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
              locations: {
                type: 'array',
                items: { type: 'object', properties: { line: { type: 'integer' }, column: { type: 'integer' } } },
              },
              path: { type: 'array', items: { type: ['string', 'integer'] } },
              extensions: {
                type: 'object',
                description: 'For errors of the platform: code (XRM_ERR_...), status and field errors',
              },
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
