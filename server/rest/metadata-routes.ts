/**
 * The metadata API under /api/metadata: entities, fields, relationships, choice sets, the
 * schema-change ledger, JSON Schemas and TypeScript types. Routes are thin: they call the
 * metadata service and read the live catalog.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Catalog } from '../../metadata/catalog.ts';
import { XrmError, type ErrorCode } from '../../metadata/errors.ts';
import { FIELD_TYPES, FIELD_TYPE_NAMES } from '../../metadata/field-types/index.ts';
import { entitySchema, SCHEMA_VARIANTS, type SchemaVariant } from '../../metadata/json-schema.ts';
import type { ChangeContext, ChangeWarning } from '../../metadata/service.ts';
import { listChanges } from '../../metadata/store.ts';
import { entityTypescript } from '../../metadata/typescript.ts';
import type { EntityDef } from '../../metadata/types.ts';
import { INVALID_REQUEST, JSON_BODY } from '../openapi/problems.ts';
import { createdResponse, jsonResponse, noContent } from '../openapi/responses.ts';
import { accessOf, actorOf } from '../request-context.ts';
import { catalogView, hiddenKey } from '../security/catalog-view.ts';
import type { Services } from '../services.ts';
import { bodySchema, nameParams, pageQuery } from './route-schemas.ts';

const tags = ['metadata'];

// what the routes answer besides their success (the OpenAPI operation of each route: server/openapi/operation-doc.ts)
const ENTITY_404: ErrorCode[] = [...INVALID_REQUEST, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND'];
const FIELD_404: ErrorCode[] = [...ENTITY_404, 'XRM_ERR_METADATA_FIELD_NOT_FOUND'];
const RELATIONSHIP_404: ErrorCode[] = [...INVALID_REQUEST, 'XRM_ERR_METADATA_RELATIONSHIP_NOT_FOUND'];
const CHOICE_SET_404: ErrorCode[] = [...INVALID_REQUEST, 'XRM_ERR_METADATA_CHOICE_SET_NOT_FOUND'];
/** A definition in the body, validated by the metadata service against metadata/definition-schemas.ts. */
const DEFINITION: ErrorCode[] = [...JSON_BODY, 'XRM_ERR_METADATA_INVALID'];
/** A change that alters a table another transaction or an index build holds (XRM_DDL_LOCK_TIMEOUT_MS). */
const BUSY: ErrorCode = 'XRM_ERR_METADATA_BUSY';
const ok = (description: string, schema: string) => ({ '200': jsonResponse(description, schema) });
/** A delete that broke automation rules answers 200 with the warnings instead of 204. */
const WARNED = jsonResponse('Done; automation rules the change made invalid are listed', 'ChangeWarnings');

const changeContext = (req: FastifyRequest): ChangeContext & { warnings: ChangeWarning[] } => ({
  actor: actorOf(req),
  warnings: [],
});

/** A changed definition, with `warnings` when the change broke automation rules. */
const withWarnings = <T extends object>(body: T, ctx: { warnings: ChangeWarning[] }) =>
  ctx.warnings.length ? { ...body, warnings: ctx.warnings } : body;

const answerDeleted = (reply: FastifyReply, ctx: { warnings: ChangeWarning[] }) =>
  ctx.warnings.length ? reply.code(200).send({ warnings: ctx.warnings }) : reply.code(204).send();

export async function metadataRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { metadata, runtime } = services;
  const catalog = () => runtime.state.catalog;

  const entityView = (entity: EntityDef, from: Catalog = catalog()) => ({
    ...entity,
    navigations: from.navigations(entity.name),
  });
  /**
   * The catalog a reader of the metadata sees: whoever may change the model sees all of it; others
   * see it without the secured fields hidden from them (security/catalog-view.ts).
   */
  const seenBy = (req: FastifyRequest): Catalog => {
    const access = accessOf(req);
    return access.policy.allows('metadata') ? catalog() : catalogView(runtime.state, access);
  };
  const created = (reply: FastifyReply, location: string, body: unknown) =>
    reply.code(201).header('location', location).send(body);

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'Catalog summary: schema version and counts',
        operationId: 'getCatalogSummary',
        'x-xrm-operation': { responses: ok('Schema version and counts', 'CatalogSummary'), errors: [] },
      },
    },
    async () => {
      const c = catalog();
      return {
        version: c.version,
        entities: c.entities.size,
        relationships: c.relationships.size,
        choiceSets: c.choiceSets.size,
      };
    },
  );

  app.get(
    '/field-types',
    {
      schema: {
        tags,
        summary: 'Field types and the options each takes',
        operationId: 'listFieldTypes',
        'x-xrm-operation': { responses: ok('Every field type', 'FieldTypeList'), errors: [] },
      },
    },
    async () => ({
      data: FIELD_TYPE_NAMES.map((name) => ({
        name,
        description: FIELD_TYPES[name].description,
        options: FIELD_TYPES[name].options,
        readOnly: FIELD_TYPES[name].readOnly === true,
        filterOperators: FIELD_TYPES[name].filterOperators,
        capabilities: FIELD_TYPES[name].capabilities,
        presentation: FIELD_TYPES[name].presentation,
      })),
    }),
  );

  app.get(
    '/entities',
    {
      schema: {
        tags,
        summary: 'List entities',
        operationId: 'listEntities',
        'x-xrm-operation': { responses: ok('Every entity with its fields and navigations', 'EntityList'), errors: [] },
      },
    },
    async (req) => {
      const seen = seenBy(req);
      return { data: [...seen.entities.values()].map((e) => entityView(e, seen)) };
    },
  );

  app.post(
    '/entities',
    {
      schema: {
        tags,
        summary: 'Create an entity with its fields',
        operationId: 'createEntity',
        body: bodySchema,
        'x-xrm-operation': {
          body: 'EntityInput',
          responses: { '201': createdResponse('The entity, created with its table', 'Entity') },
          errors: [...DEFINITION, 'XRM_ERR_METADATA_NAME_TAKEN', BUSY],
        },
      },
    },
    async (req, reply) => {
      const entity = await metadata.createEntity(req.body, { actor: actorOf(req) });
      return created(reply, `/api/metadata/entities/${entity.name}`, entityView(entity));
    },
  );

  app.get<{ Params: { name: string } }>(
    '/entities/:name',
    {
      schema: {
        tags,
        summary: 'Get an entity',
        operationId: 'getEntity',
        params: nameParams('name'),
        'x-xrm-operation': { responses: ok('The entity', 'Entity'), errors: ENTITY_404 },
      },
    },
    async (req) => {
      const seen = seenBy(req);
      return entityView(seen.require(req.params.name), seen);
    },
  );

  app.patch<{ Params: { name: string } }>(
    '/entities/:name',
    {
      schema: {
        tags,
        summary: 'Update labels, description or primary field',
        operationId: 'updateEntity',
        params: nameParams('name'),
        body: bodySchema,
        'x-xrm-operation': {
          body: 'EntityChange',
          responses: ok('The changed entity', 'Entity'),
          errors: [...DEFINITION, ...ENTITY_404, BUSY],
        },
      },
    },
    async (req) => entityView(await metadata.updateEntity(req.params.name, req.body, { actor: actorOf(req) })),
  );

  app.delete<{ Params: { name: string } }>(
    '/entities/:name',
    {
      schema: {
        tags,
        summary: 'Delete an entity and its table (refused while referenced)',
        operationId: 'deleteEntity',
        params: nameParams('name'),
        'x-xrm-operation': {
          responses: { '204': noContent('Deleted, with its table and records'), '200': WARNED },
          errors: [...ENTITY_404, 'XRM_ERR_METADATA_IN_USE', BUSY],
        },
      },
    },
    async (req, reply) => {
      const ctx = changeContext(req);
      await metadata.deleteEntity(req.params.name, ctx);
      return answerDeleted(reply, ctx);
    },
  );

  app.get<{ Params: { name: string }; Querystring: { variant?: SchemaVariant } }>(
    '/entities/:name/schema',
    {
      schema: {
        tags,
        summary: "JSON Schema (draft 2020-12) of the entity's records",
        operationId: 'getEntitySchema',
        params: nameParams('name'),
        querystring: {
          type: 'object',
          properties: { variant: { type: 'string', enum: [...SCHEMA_VARIANTS], default: 'read' } },
        },
        'x-xrm-operation': {
          responses: {
            '200': jsonResponse(
              'JSON Schema (draft 2020-12) of the variant asked',
              { type: 'object', description: 'A JSON Schema document' },
              'application/schema+json',
            ),
          },
          errors: ENTITY_404,
        },
      },
    },
    async (req, reply) => {
      const seen = seenBy(req);
      const entity = seen.require(req.params.name);
      return reply.type('application/schema+json').send(entitySchema(entity, seen, req.query.variant ?? 'read'));
    },
  );

  app.get<{ Params: { name: string } }>(
    '/entities/:name/fields',
    {
      schema: {
        tags,
        summary: 'List fields',
        operationId: 'listFields',
        params: nameParams('name'),
        'x-xrm-operation': { responses: ok("The entity's fields", 'FieldList'), errors: ENTITY_404 },
      },
    },
    async (req) => ({
      data: seenBy(req).require(req.params.name).fields,
    }),
  );

  app.post<{ Params: { name: string } }>(
    '/entities/:name/fields',
    {
      schema: {
        tags,
        summary: 'Add a field',
        operationId: 'addField',
        params: nameParams('name'),
        body: bodySchema,
        'x-xrm-operation': {
          body: 'FieldInput',
          responses: { '201': createdResponse('The field, added with its column', 'Field') },
          errors: [...DEFINITION, ...ENTITY_404, 'XRM_ERR_METADATA_NAME_TAKEN', 'XRM_ERR_METADATA_DATA_CONFLICT', BUSY],
        },
      },
    },
    async (req, reply) => {
      const field = await metadata.addField(req.params.name, req.body, { actor: actorOf(req) });
      return created(reply, `/api/metadata/entities/${req.params.name}/fields/${field.name}`, field);
    },
  );

  app.get<{ Params: { name: string; field: string } }>(
    '/entities/:name/fields/:field',
    {
      schema: {
        tags,
        summary: 'Get a field',
        operationId: 'getField',
        params: nameParams('name', 'field'),
        'x-xrm-operation': { responses: ok('The field', 'Field'), errors: FIELD_404 },
      },
    },
    async (req) => {
      const field = seenBy(req)
        .require(req.params.name)
        .fields.find((f) => f.name === req.params.field);
      if (!field)
        throw new XrmError(
          'XRM_ERR_METADATA_FIELD_NOT_FOUND',
          `Entity "${req.params.name}" has no field "${req.params.field}"`,
        );
      return field;
    },
  );

  app.patch<{ Params: { name: string; field: string } }>(
    '/entities/:name/fields/:field',
    {
      schema: {
        tags,
        summary: 'Change a field (labels, safe options, lossless type changes); null removes an option',
        operationId: 'updateField',
        params: nameParams('name', 'field'),
        body: bodySchema,
        'x-xrm-operation': {
          body: 'FieldChange',
          responses: ok('The changed field', 'Field'),
          errors: [
            ...DEFINITION,
            ...FIELD_404,
            'XRM_ERR_METADATA_CHANGE_REFUSED',
            'XRM_ERR_METADATA_DATA_CONFLICT',
            BUSY,
          ],
        },
      },
    },
    async (req) => {
      const ctx = changeContext(req);
      return withWarnings(await metadata.updateField(req.params.name, req.params.field, req.body, ctx), ctx);
    },
  );

  app.delete<{ Params: { name: string; field: string } }>(
    '/entities/:name/fields/:field',
    {
      schema: {
        tags,
        summary: 'Drop a field and its data',
        operationId: 'deleteField',
        params: nameParams('name', 'field'),
        'x-xrm-operation': {
          responses: { '204': noContent('Dropped, with its column and data'), '200': WARNED },
          errors: [...FIELD_404, 'XRM_ERR_METADATA_CHANGE_REFUSED', BUSY],
        },
      },
    },
    async (req, reply) => {
      const ctx = changeContext(req);
      await metadata.dropField(req.params.name, req.params.field, ctx);
      return answerDeleted(reply, ctx);
    },
  );

  app.post<{ Params: { name: string } }>(
    '/entities/:name/keys',
    {
      schema: {
        tags,
        summary: 'Declare an alternate key: fields whose values identify a record (used by upserts)',
        operationId: 'createAlternateKey',
        params: nameParams('name'),
        body: bodySchema,
        'x-xrm-operation': {
          body: 'AlternateKeyInput',
          responses: { '201': createdResponse('The alternate key, created with its unique index', 'AlternateKey') },
          errors: [...DEFINITION, ...ENTITY_404, 'XRM_ERR_METADATA_NAME_TAKEN', 'XRM_ERR_METADATA_DATA_CONFLICT', BUSY],
        },
      },
    },
    async (req, reply) => {
      const key = await metadata.addAlternateKey(req.params.name, req.body, { actor: actorOf(req) });
      return created(reply, `/api/metadata/entities/${req.params.name}/keys/${key.name}`, key);
    },
  );

  app.delete<{ Params: { name: string; key: string } }>(
    '/entities/:name/keys/:key',
    {
      schema: {
        tags,
        summary: 'Drop an alternate key',
        operationId: 'deleteAlternateKey',
        params: nameParams('name', 'key'),
        'x-xrm-operation': {
          responses: { '204': noContent('Dropped, with its unique index') },
          errors: [...ENTITY_404, 'XRM_ERR_METADATA_KEY_NOT_FOUND', BUSY],
        },
      },
    },
    async (req, reply) => {
      await metadata.dropAlternateKey(req.params.name, req.params.key, { actor: actorOf(req) });
      return reply.code(204).send();
    },
  );

  const indexOf = (entity: EntityDef, name: string) => {
    const index = entity.indexes?.find((i) => i.name === name);
    if (!index)
      throw new XrmError('XRM_ERR_METADATA_INDEX_NOT_FOUND', `Entity "${entity.name}" has no index "${name}"`);
    return index;
  };

  app.get<{ Params: { name: string } }>(
    '/entities/:name/indexes',
    {
      schema: {
        tags,
        summary: 'List the indexes declared on an entity',
        operationId: 'listIndexes',
        params: nameParams('name'),
        'x-xrm-operation': { responses: ok("The entity's declared indexes", 'IndexList'), errors: ENTITY_404 },
      },
    },
    async (req) => ({ data: seenBy(req).require(req.params.name).indexes ?? [] }),
  );

  app.post<{ Params: { name: string } }>(
    '/entities/:name/indexes',
    {
      schema: {
        tags,
        summary: 'Declare a B-tree index over fields (a large table: built CONCURRENTLY by a job)',
        operationId: 'createIndex',
        params: nameParams('name'),
        body: bodySchema,
        'x-xrm-operation': {
          body: 'IndexInput',
          responses: {
            '201': createdResponse('The index, built (status active)', 'Index'),
            '202': {
              ...jsonResponse('The index, building (status building), with the id of the job building it', 'Index'),
              headers: { Location: { description: 'Address of the job building it', schema: { type: 'string' } } },
            },
          },
          errors: [
            ...DEFINITION,
            ...ENTITY_404,
            'XRM_ERR_METADATA_NAME_TAKEN',
            'XRM_ERR_METADATA_CHANGE_REFUSED',
            'XRM_ERR_METADATA_DATA_CONFLICT',
            BUSY,
          ],
        },
      },
    },
    async (req, reply) => {
      const { index, job } = await metadata.addIndex(req.params.name, req.body, { actor: actorOf(req) });
      if (!job) return created(reply, `/api/metadata/entities/${req.params.name}/indexes/${index.name}`, index);
      services.worker?.wake();
      return reply
        .code(202)
        .header('location', `/api/jobs/${job}`)
        .send({ ...index, job });
    },
  );

  app.get<{ Params: { name: string; index: string } }>(
    '/entities/:name/indexes/:index',
    {
      schema: {
        tags,
        summary: 'Get a declared index (while it is building, with its progress)',
        operationId: 'getIndex',
        params: nameParams('name', 'index'),
        'x-xrm-operation': {
          responses: ok('The index', 'Index'),
          errors: [...ENTITY_404, 'XRM_ERR_METADATA_INDEX_NOT_FOUND'],
        },
      },
    },
    async (req) => {
      const index = indexOf(seenBy(req).require(req.params.name), req.params.index);
      if (index.status !== 'building' || !services.indexBuilds) return index;
      return { ...index, progress: await services.indexBuilds.progress(req.params.name, index.name) };
    },
  );

  app.delete<{ Params: { name: string; index: string } }>(
    '/entities/:name/indexes/:index',
    {
      schema: {
        tags,
        summary: 'Drop a declared index (one being built: its build is cancelled)',
        operationId: 'deleteIndex',
        params: nameParams('name', 'index'),
        'x-xrm-operation': {
          responses: { '204': noContent('Dropped, with its physical index') },
          errors: [...ENTITY_404, 'XRM_ERR_METADATA_INDEX_NOT_FOUND', BUSY],
        },
      },
    },
    async (req, reply) => {
      await metadata.dropIndex(req.params.name, req.params.index, { actor: actorOf(req) });
      return reply.code(204).send();
    },
  );

  app.get(
    '/relationships',
    {
      schema: {
        tags,
        summary: 'List many-to-many relationships',
        operationId: 'listRelationships',
        'x-xrm-operation': { responses: ok('Every many-to-many relationship', 'RelationshipList'), errors: [] },
      },
    },
    async () => ({ data: [...catalog().relationships.values()] }),
  );

  app.post(
    '/relationships',
    {
      schema: {
        tags,
        summary: 'Create a many-to-many relationship (junction table)',
        operationId: 'createRelationship',
        body: bodySchema,
        'x-xrm-operation': {
          body: 'RelationshipInput',
          responses: { '201': createdResponse('The relationship, created with its junction table', 'Relationship') },
          errors: [...DEFINITION, 'XRM_ERR_METADATA_NAME_TAKEN', BUSY],
        },
      },
    },
    async (req, reply) => {
      const rel = await metadata.createRelationship(req.body, { actor: actorOf(req) });
      return created(reply, `/api/metadata/relationships/${rel.name}`, rel);
    },
  );

  app.get<{ Params: { name: string } }>(
    '/relationships/:name',
    {
      schema: {
        tags,
        summary: 'Get a relationship',
        operationId: 'getRelationship',
        params: nameParams('name'),
        'x-xrm-operation': { responses: ok('The relationship', 'Relationship'), errors: RELATIONSHIP_404 },
      },
    },
    async (req) => {
      const rel = catalog().relationships.get(req.params.name);
      if (!rel)
        throw new XrmError(
          'XRM_ERR_METADATA_RELATIONSHIP_NOT_FOUND',
          `Relationship "${req.params.name}" does not exist`,
        );
      return rel;
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/relationships/:name',
    {
      schema: {
        tags,
        summary: 'Delete a relationship and its links',
        operationId: 'deleteRelationship',
        params: nameParams('name'),
        'x-xrm-operation': {
          responses: { '204': noContent('Deleted, with its links'), '200': WARNED },
          errors: [...RELATIONSHIP_404, BUSY],
        },
      },
    },
    async (req, reply) => {
      const ctx = changeContext(req);
      await metadata.deleteRelationship(req.params.name, ctx);
      return answerDeleted(reply, ctx);
    },
  );

  app.get(
    '/choice-sets',
    {
      schema: {
        tags,
        summary: 'List shared choice sets',
        operationId: 'listChoiceSets',
        'x-xrm-operation': { responses: ok('Every shared choice set', 'ChoiceSetList'), errors: [] },
      },
    },
    async () => ({ data: [...catalog().choiceSets.values()] }),
  );

  app.post(
    '/choice-sets',
    {
      schema: {
        tags,
        summary: 'Create a shared choice set',
        operationId: 'createChoiceSet',
        body: bodySchema,
        'x-xrm-operation': {
          body: 'ChoiceSetInput',
          responses: { '201': createdResponse('The choice set', 'ChoiceSet') },
          errors: [...DEFINITION, 'XRM_ERR_METADATA_NAME_TAKEN'],
        },
      },
    },
    async (req, reply) => {
      const set = await metadata.createChoiceSet(req.body, { actor: actorOf(req) });
      return created(reply, `/api/metadata/choice-sets/${set.name}`, set);
    },
  );

  app.get<{ Params: { name: string } }>(
    '/choice-sets/:name',
    {
      schema: {
        tags,
        summary: 'Get a choice set',
        operationId: 'getChoiceSet',
        params: nameParams('name'),
        'x-xrm-operation': { responses: ok('The choice set', 'ChoiceSet'), errors: CHOICE_SET_404 },
      },
    },
    async (req) => {
      const set = catalog().choiceSets.get(req.params.name);
      if (!set)
        throw new XrmError('XRM_ERR_METADATA_CHOICE_SET_NOT_FOUND', `Choice set "${req.params.name}" does not exist`);
      return set;
    },
  );

  app.patch<{ Params: { name: string } }>(
    '/choice-sets/:name',
    {
      schema: {
        tags,
        summary: 'Relabel, add or remove options',
        operationId: 'updateChoiceSet',
        params: nameParams('name'),
        body: bodySchema,
        'x-xrm-operation': {
          body: 'ChoiceSetChange',
          responses: ok('The changed choice set', 'ChoiceSet'),
          errors: [...DEFINITION, ...CHOICE_SET_404, 'XRM_ERR_METADATA_DATA_CONFLICT', BUSY],
        },
      },
    },
    async (req) => {
      const ctx = changeContext(req);
      return withWarnings(await metadata.updateChoiceSet(req.params.name, req.body, ctx), ctx);
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/choice-sets/:name',
    {
      schema: {
        tags,
        summary: 'Delete an unused choice set',
        operationId: 'deleteChoiceSet',
        params: nameParams('name'),
        'x-xrm-operation': {
          responses: { '204': noContent('Deleted'), '200': WARNED },
          errors: [...CHOICE_SET_404, 'XRM_ERR_METADATA_IN_USE'],
        },
      },
    },
    async (req, reply) => {
      const ctx = changeContext(req);
      await metadata.deleteChoiceSet(req.params.name, ctx);
      return answerDeleted(reply, ctx);
    },
  );

  app.get<{ Querystring: { limit?: number; offset?: number; target?: string } }>(
    '/changes',
    {
      schema: {
        tags,
        summary: 'The schema-change ledger, newest first (the metadata privilege: it records every definition)',
        operationId: 'listSchemaChanges',
        querystring: pageQuery({ target: { type: 'string' } }),
        'x-xrm-operation': {
          responses: ok('Ledger entries, newest first', 'SchemaChangePage'),
          errors: [...INVALID_REQUEST, 'XRM_ERR_FORBIDDEN'],
        },
      },
    },
    async (req) =>
      listChanges(services.db, {
        limit: req.query.limit ?? 50,
        offset: req.query.offset ?? 0,
        target: req.query.target,
      }),
  );

  app.get(
    '/typescript',
    {
      schema: {
        tags,
        summary: 'TypeScript types of every entity (json-schema-to-typescript)',
        operationId: 'getTypescript',
        'x-xrm-operation': {
          responses: {
            '200': jsonResponse('TypeScript declarations of every entity', { type: 'string' }, 'text/plain'),
          },
          errors: [],
        },
      },
    },
    async (req, reply) => {
      const state = runtime.state;
      const access = accessOf(req);
      const hidden = access.policy.allows('metadata') ? '' : hiddenKey(access, state.catalog);
      const source = await state.derived(`typescript:${hidden}`, () => entityTypescript(seenBy(req)));
      return reply.type('text/plain; charset=utf-8').send(source);
    },
  );
}
