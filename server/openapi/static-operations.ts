/**
 * What @fastify/swagger cannot know about the fixed routes (metadata API, health, this document):
 * an operation id, the request body schema, the success responses and the problems each can
 * answer with. Keyed by `METHOD path` as the document spells them.
 */
import type { ErrorCode } from '../../metadata/errors.ts';
import { ALWAYS, INVALID_REQUEST, JSON_BODY } from './problems.ts';
import { createdResponse, jsonResponse, noContent } from './responses.ts';
import type { ResponseObject } from './types.ts';

export interface StaticOperation {
  readonly operationId: string;
  /** Tags for a route registered without any (e.g. by mercurius). */
  readonly tags?: readonly string[];
  /** Component schema of the JSON request body. */
  readonly body?: string;
  readonly responses: Record<string, ResponseObject>;
  readonly errors: readonly ErrorCode[];
}

const M = '/api/metadata';
const ENTITY_404: ErrorCode[] = [...INVALID_REQUEST, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND'];
const FIELD_404: ErrorCode[] = [...ENTITY_404, 'XRM_ERR_METADATA_FIELD_NOT_FOUND'];
const RELATIONSHIP_404: ErrorCode[] = [...INVALID_REQUEST, 'XRM_ERR_METADATA_RELATIONSHIP_NOT_FOUND'];
const CHOICE_SET_404: ErrorCode[] = [...INVALID_REQUEST, 'XRM_ERR_METADATA_CHOICE_SET_NOT_FOUND'];
const DEFINITION: ErrorCode[] = [...JSON_BODY, 'XRM_ERR_METADATA_INVALID'];
const ok = (description: string, schema: string) => ({ '200': jsonResponse(description, schema) });

export const STATIC_OPERATIONS: Readonly<Record<string, StaticOperation>> = {
  'GET /health': {
    operationId: 'getHealth',
    responses: {
      '200': jsonResponse('Ready: the database answers and migrations are applied', 'Health'),
      '503': jsonResponse('Starting, or the database is unreachable', 'Health'),
    },
    errors: ['XRM_ERR_INTERNAL'],
  },
  'GET /openapi.json': {
    operationId: 'getOpenApiDocument',
    responses: { '200': jsonResponse('This OpenAPI 3.1 document, for the current schema version', { type: 'object' }) },
    errors: ALWAYS,
  },
  'GET /graphql': {
    operationId: 'graphqlGet',
    tags: ['data'],
    responses: {
      '200': jsonResponse('The GraphQL result (a query; mutations need POST)', 'GraphqlResponse'),
      '400': jsonResponse('The query does not parse or validate, or its variables are wrong', 'GraphqlResponse'),
    },
    errors: ALWAYS,
  },
  'POST /graphql': {
    operationId: 'graphqlPost',
    tags: ['data'],
    responses: {
      '200': jsonResponse('The GraphQL result; errors of resolvers carry `extensions.code` (an XRM_ERR_ code)', 'GraphqlResponse'),
      '400': jsonResponse('The query does not parse or validate, or the body is malformed', 'GraphqlResponse'),
    },
    errors: ALWAYS,
  },
  [`GET ${M}/`]: { operationId: 'getCatalogSummary', responses: ok('Schema version and counts', 'CatalogSummary'), errors: ALWAYS },
  [`GET ${M}/field-types`]: { operationId: 'listFieldTypes', responses: ok('Every field type', 'FieldTypeList'), errors: ALWAYS },
  [`GET ${M}/entities`]: { operationId: 'listEntities', responses: ok('Every entity with its fields and navigations', 'EntityList'), errors: ALWAYS },
  [`POST ${M}/entities`]: {
    operationId: 'createEntity',
    body: 'EntityInput',
    responses: { '201': createdResponse('The entity, created with its table', 'Entity') },
    errors: [...DEFINITION, 'XRM_ERR_METADATA_NAME_TAKEN', ...ALWAYS],
  },
  [`GET ${M}/entities/{name}`]: { operationId: 'getEntity', responses: ok('The entity', 'Entity'), errors: [...ENTITY_404, ...ALWAYS] },
  [`PATCH ${M}/entities/{name}`]: {
    operationId: 'updateEntity',
    body: 'EntityChange',
    responses: ok('The changed entity', 'Entity'),
    errors: [...DEFINITION, ...ENTITY_404, ...ALWAYS],
  },
  [`DELETE ${M}/entities/{name}`]: {
    operationId: 'deleteEntity',
    responses: { '204': noContent('Deleted, with its table and records') },
    errors: [...ENTITY_404, 'XRM_ERR_METADATA_IN_USE', ...ALWAYS],
  },
  [`GET ${M}/entities/{name}/schema`]: {
    operationId: 'getEntitySchema',
    responses: {
      '200': jsonResponse('JSON Schema (draft 2020-12) of the variant asked', { type: 'object', description: 'A JSON Schema document' }, 'application/schema+json'),
    },
    errors: [...ENTITY_404, ...ALWAYS],
  },
  [`GET ${M}/entities/{name}/fields`]: { operationId: 'listFields', responses: ok('The entity\'s fields', 'FieldList'), errors: [...ENTITY_404, ...ALWAYS] },
  [`POST ${M}/entities/{name}/fields`]: {
    operationId: 'addField',
    body: 'FieldInput',
    responses: { '201': createdResponse('The field, added with its column', 'Field') },
    errors: [...DEFINITION, ...ENTITY_404, 'XRM_ERR_METADATA_NAME_TAKEN', 'XRM_ERR_METADATA_DATA_CONFLICT', ...ALWAYS],
  },
  [`GET ${M}/entities/{name}/fields/{field}`]: { operationId: 'getField', responses: ok('The field', 'Field'), errors: [...FIELD_404, ...ALWAYS] },
  [`PATCH ${M}/entities/{name}/fields/{field}`]: {
    operationId: 'updateField',
    body: 'FieldChange',
    responses: ok('The changed field', 'Field'),
    errors: [...DEFINITION, ...FIELD_404, 'XRM_ERR_METADATA_CHANGE_REFUSED', 'XRM_ERR_METADATA_DATA_CONFLICT', ...ALWAYS],
  },
  [`DELETE ${M}/entities/{name}/fields/{field}`]: {
    operationId: 'deleteField',
    responses: { '204': noContent('Dropped, with its column and data') },
    errors: [...FIELD_404, 'XRM_ERR_METADATA_CHANGE_REFUSED', ...ALWAYS],
  },
  [`POST ${M}/entities/{name}/keys`]: {
    operationId: 'createAlternateKey',
    body: 'AlternateKeyInput',
    responses: { '201': createdResponse('The alternate key, created with its unique index', 'AlternateKey') },
    errors: [...DEFINITION, ...ENTITY_404, 'XRM_ERR_METADATA_NAME_TAKEN', 'XRM_ERR_METADATA_DATA_CONFLICT', ...ALWAYS],
  },
  [`DELETE ${M}/entities/{name}/keys/{key}`]: {
    operationId: 'deleteAlternateKey',
    responses: { '204': noContent('Dropped, with its unique index') },
    errors: [...ENTITY_404, 'XRM_ERR_METADATA_KEY_NOT_FOUND', ...ALWAYS],
  },
  [`GET ${M}/relationships`]: { operationId: 'listRelationships', responses: ok('Every many-to-many relationship', 'RelationshipList'), errors: ALWAYS },
  [`POST ${M}/relationships`]: {
    operationId: 'createRelationship',
    body: 'RelationshipInput',
    responses: { '201': createdResponse('The relationship, created with its junction table', 'Relationship') },
    errors: [...DEFINITION, 'XRM_ERR_METADATA_NAME_TAKEN', ...ALWAYS],
  },
  [`GET ${M}/relationships/{name}`]: { operationId: 'getRelationship', responses: ok('The relationship', 'Relationship'), errors: [...RELATIONSHIP_404, ...ALWAYS] },
  [`DELETE ${M}/relationships/{name}`]: {
    operationId: 'deleteRelationship',
    responses: { '204': noContent('Deleted, with its links') },
    errors: [...RELATIONSHIP_404, ...ALWAYS],
  },
  [`GET ${M}/choice-sets`]: { operationId: 'listChoiceSets', responses: ok('Every shared choice set', 'ChoiceSetList'), errors: ALWAYS },
  [`POST ${M}/choice-sets`]: {
    operationId: 'createChoiceSet',
    body: 'ChoiceSetInput',
    responses: { '201': createdResponse('The choice set', 'ChoiceSet') },
    errors: [...DEFINITION, 'XRM_ERR_METADATA_NAME_TAKEN', ...ALWAYS],
  },
  [`GET ${M}/choice-sets/{name}`]: { operationId: 'getChoiceSet', responses: ok('The choice set', 'ChoiceSet'), errors: [...CHOICE_SET_404, ...ALWAYS] },
  [`PATCH ${M}/choice-sets/{name}`]: {
    operationId: 'updateChoiceSet',
    body: 'ChoiceSetChange',
    responses: ok('The changed choice set', 'ChoiceSet'),
    errors: [...DEFINITION, ...CHOICE_SET_404, 'XRM_ERR_METADATA_DATA_CONFLICT', ...ALWAYS],
  },
  [`DELETE ${M}/choice-sets/{name}`]: {
    operationId: 'deleteChoiceSet',
    responses: { '204': noContent('Deleted') },
    errors: [...CHOICE_SET_404, 'XRM_ERR_METADATA_IN_USE', ...ALWAYS],
  },
  [`GET ${M}/changes`]: {
    operationId: 'listSchemaChanges',
    responses: ok('Ledger entries, newest first', 'SchemaChangePage'),
    errors: [...INVALID_REQUEST, ...ALWAYS],
  },
  [`GET ${M}/typescript`]: {
    operationId: 'getTypescript',
    responses: { '200': jsonResponse('TypeScript declarations of every entity', { type: 'string' }, 'text/plain') },
    errors: ALWAYS,
  },
};

/** An operation missing from the table (a route added without documenting it) still documents its problems. */
export function fallbackOperation(method: string, path: string, hasInput: boolean): StaticOperation {
  const words = `${method} ${path}`.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  return {
    operationId: words.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join(''),
    responses: { '200': { description: 'Success' } },
    errors: [...(hasInput ? INVALID_REQUEST : []), ...ALWAYS],
  };
}
