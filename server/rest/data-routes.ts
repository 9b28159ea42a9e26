/**
 * REST for every entity under /api/data/{entity}: generic routes resolved against the live
 * catalog on each request, so a metadata change is served at once without re-registering routes.
 */
import type { WriteMessage } from '../records/pipeline.ts';
import { accessOf, writeContext } from '../request-context.ts';
import { hiddenFields, visibleRecord } from '../records/write-access.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { XrmError, type ErrorCode } from '../../metadata/errors.ts';
import type { Services } from '../services.ts';
import { limitParam, type RestAggregateQuery, type RestQuery } from '../query/rest-params.ts';
import { checkLimit } from '../query/read-query.ts';
import { MAX_GROUPS } from '../query/compile-aggregate.ts';
import { MAX_BULK, type BulkRequest } from '../records/service.ts';
import { LIMITS } from '../limits.ts';
import { etag, ifMatchWrite, ifNoneMatch } from './etag.ts';
import { sendWritten, WRITE_QUERY_SELECT, writeAnswer } from './write-answer.ts';
import { BULK_REQUEST, RECORD_REFERENCE, bodySchema, cursorQuery, nameParams } from './route-schemas.ts';
import { INVALID_REQUEST, JSON_BODY } from '../openapi/problems.ts';
import { jsonResponse } from '../openapi/responses.ts';

const tags = ['data'];

// the problems each route answers with; the OpenAPI document spells the routes out per entity
// (server/openapi/data-paths.ts)
const LIST_ERRORS: ErrorCode[] = [...INVALID_REQUEST, 'XRM_ERR_QUERY_INVALID', 'XRM_ERR_METADATA_ENTITY_NOT_FOUND'];
const RECORD_404: ErrorCode[] = [...INVALID_REQUEST, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND', 'XRM_ERR_RECORD_NOT_FOUND'];
const RECORD_WRITE: ErrorCode[] = [
  ...JSON_BODY,
  'XRM_ERR_RECORD_INVALID',
  'XRM_ERR_RECORD_DUPLICATE',
  'XRM_ERR_RECORD_REFERENCE_NOT_FOUND',
];

const listQuery = {
  type: 'object',
  properties: {
    select: { type: 'string', description: 'Fields to return, comma-separated (id is always included)' },
    expand: {
      type: 'string',
      description: 'Relations to include: lookup(select=…) or toMany(select=…;filter=…;sort=…;limit=…;expand=…)',
    },
    filter: {
      type: 'string',
      description: "Filter expression (status eq 'online' and asset.name startsWith 'A') or a JSON filter",
    },
    search: { type: 'string', description: 'Full-text search over the searchable text fields (prefix match per word)' },
    sort: { type: 'string', description: 'Sort keys, comma-separated: [-]field[.field][:nullsfirst|:nullslast]' },
    limit: { type: 'integer', minimum: 1, description: 'Page size (default 50)' },
    offset: { type: 'integer', minimum: 0, maximum: LIMITS.offset, description: 'Records to skip (or use cursor)' },
    cursor: {
      type: 'string',
      maxLength: LIMITS.cursorLength,
      description: "Opaque keyset cursor from the previous page's nextCursor",
    },
    count: {
      type: 'string',
      enum: ['true', 'false', 'exact', 'estimated'],
      description: 'Include totalCount (estimated: planner estimate when unfiltered)',
    },
  },
  additionalProperties: false,
} as const;

/** create and update: what to answer with (write-answer.ts; `Prefer: return=minimal` answers nothing). */
const writeQuery = {
  type: 'object',
  properties: { select: WRITE_QUERY_SELECT },
  additionalProperties: false,
} as const;

const getQuery = {
  type: 'object',
  properties: { select: listQuery.properties.select, expand: listQuery.properties.expand },
  additionalProperties: false,
} as const;

const aggregateQuery = {
  type: 'object',
  properties: {
    aggregate: {
      type: 'string',
      description: 'count, countDistinct(f), sum(f), avg(f), min(f), max(f), comma-separated (default count)',
    },
    groupBy: {
      type: 'string',
      description: 'Group keys: field, lookup.field, year|month|day|week(dateField), comma-separated',
    },
    filter: listQuery.properties.filter,
    search: listQuery.properties.search,
    limit: { type: 'integer', minimum: 1, maximum: MAX_GROUPS, description: 'Most groups returned (default 10,000)' },
  },
  additionalProperties: false,
} as const;

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * limit= checked before the querystring schema (which documents it): 0, too large and not a number
 * all answer the query engine's one problem, 400 XRM_ERR_QUERY_INVALID at /limit, like an
 * expansion's limit, instead of the schema's XRM_ERR_REQUEST_INVALID at /querystring/limit.
 */
const limitFirst = (max: number) => async (req: FastifyRequest) => {
  checkLimit(limitParam((req.query as { limit?: unknown }).limit), max, '/limit');
};

export async function dataRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { runtime, query, pipeline, audit } = services;
  /** One message through the pipeline. */
  const write = async (req: FastifyRequest, message: WriteMessage) => {
    const outcome = (await pipeline.execute(writeContext(req), [message]))[0]!;
    // the answer shows what the writer may read: no secured field their roles hide
    if (!outcome.record || !('entity' in message)) return outcome;
    return { ...outcome, record: visibleRecord(accessOf(req), runtime.state.catalog, message.entity, outcome.record) };
  };
  const pageLimit = limitFirst(query.maxPageSize);
  /** A bulk answer without the secured fields the writer cannot read. */
  const visibleBulk = async (req: FastifyRequest<{ Params: { entity: string } }>, body: string): Promise<string> => {
    const access = accessOf(req);
    const catalog = runtime.state.catalog;
    if (!hiddenFields(access, catalog, req.params.entity).length) return body;
    const parsed = JSON.parse(body) as { data: Record<string, unknown>[] };
    return JSON.stringify({ data: parsed.data.map((r) => visibleRecord(access, catalog, req.params.entity, r)) });
  };

  app.get<{ Params: { entity: string }; Querystring: RestQuery }>(
    '/:entity',
    {
      schema: {
        tags,
        summary: 'List records: filter, search, sort, select, expand, keyset or offset paging',
        params: nameParams('entity'),
        querystring: listQuery,
        'x-xrm-operation': { errors: LIST_ERRORS },
      },
      preValidation: pageLimit,
    },
    async (req, reply) =>
      reply
        .type(JSON_TYPE)
        .send(
          await query.read({ access: accessOf(req) }, { kind: 'list', entity: req.params.entity, query: req.query }),
        ),
  );

  app.get<{ Params: { entity: string }; Querystring: RestAggregateQuery }>(
    '/:entity/aggregate',
    {
      schema: {
        tags,
        summary:
          'Aggregate records: count, countDistinct, sum, avg, min, max, grouped by fields, lookup fields or date parts',
        params: nameParams('entity'),
        querystring: aggregateQuery,
        'x-xrm-operation': { errors: LIST_ERRORS },
      },
      preValidation: limitFirst(MAX_GROUPS),
    },
    async (req, reply) =>
      reply
        .type(JSON_TYPE)
        .send(
          await query.read(
            { access: accessOf(req) },
            { kind: 'aggregate', entity: req.params.entity, query: req.query },
          ),
        ),
  );

  app.post<{ Params: { entity: string }; Querystring: { select?: string } }>(
    '/:entity',
    {
      schema: {
        tags,
        summary: 'Create a record',
        params: nameParams('entity'),
        querystring: writeQuery,
        body: bodySchema,
        'x-xrm-operation': { errors: [...RECORD_WRITE, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND', 'XRM_ERR_QUERY_INVALID'] },
      },
    },
    async (req, reply) => {
      const answer = writeAnswer(req, runtime.state.catalog, req.params.entity);
      const record = (await write(req, { message: 'create', entity: req.params.entity, input: req.body })).record!;
      return sendWritten(reply, answer, record, 201, `/api/data/${req.params.entity}/${record.id}`);
    },
  );

  app.post<{ Params: { entity: string }; Querystring: { key?: string; select?: string } }>(
    '/:entity/upsert',
    {
      schema: {
        tags,
        summary: 'Create the record, or update the one with the same alternate-key values (201 created, 200 updated)',
        params: nameParams('entity'),
        querystring: {
          type: 'object',
          properties: {
            key: { type: 'string', description: 'Alternate key name (optional when the entity has exactly one)' },
            select: WRITE_QUERY_SELECT,
          },
          additionalProperties: false,
        },
        body: bodySchema,
        'x-xrm-operation': { errors: [...RECORD_WRITE, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND', 'XRM_ERR_QUERY_INVALID'] },
      },
    },
    async (req, reply) => {
      const answer = writeAnswer(req, runtime.state.catalog, req.params.entity);
      const outcome = await write(req, {
        message: 'upsert',
        entity: req.params.entity,
        key: req.query.key,
        input: req.body,
      });
      const record = outcome.record!;
      const created = outcome.created === true;
      return sendWritten(reply, answer, record, created ? 201 : 200, `/api/data/${req.params.entity}/${record.id}`);
    },
  );

  app.post<{ Params: { entity: string }; Body: BulkRequest }>(
    '/:entity/bulk',
    {
      schema: {
        tags,
        summary: `Create, update, upsert or delete up to ${MAX_BULK} records in one all-or-nothing transaction`,
        params: nameParams('entity'),
        body: BULK_REQUEST,
        'x-xrm-operation': {
          errors: [
            ...RECORD_WRITE,
            'XRM_ERR_RECORD_NOT_FOUND',
            'XRM_ERR_RECORD_VERSION_MISMATCH',
            'XRM_ERR_RECORD_DELETE_RESTRICTED',
            'XRM_ERR_METADATA_ENTITY_NOT_FOUND',
          ],
        },
      },
    },
    async (req, reply) =>
      reply
        .type(JSON_TYPE)
        .send(await visibleBulk(req, await pipeline.bulk(writeContext(req), req.params.entity, req.body))),
  );

  app.get<{ Params: { entity: string; id: string }; Querystring: { select?: string; expand?: string } }>(
    '/:entity/:id',
    {
      schema: {
        tags,
        summary: 'Get a record (select and expand apply); ETag carries its version',
        params: nameParams('entity', 'id'),
        querystring: getQuery,
        'x-xrm-operation': { errors: [...RECORD_404, 'XRM_ERR_QUERY_INVALID'] },
      },
    },
    async (req, reply) => {
      const { select, expand } = req.query;
      const found = await query.read(
        { access: accessOf(req) },
        { kind: 'get', entity: req.params.entity, id: req.params.id, query: { select, expand } },
      );
      if (found === undefined)
        throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${req.params.entity} record has id ${req.params.id}`);
      const tag = etag(found.version);
      // a tracked record's signals change without a new version (activities keep them current, and
      // a user's If-Match must not fail because a call was logged): it is never answered 304
      const tracked = runtime.state.catalog.entity(req.params.entity)?.trackActivities === true;
      if (!tracked && ifNoneMatch(req.headers['if-none-match'], tag)) return reply.code(304).header('etag', tag).send();
      return reply.type(JSON_TYPE).header('etag', tag).send(found.body);
    },
  );

  app.patch<{ Params: { entity: string; id: string }; Querystring: { select?: string } }>(
    '/:entity/:id',
    {
      schema: {
        tags,
        summary: 'Update a record (partial); If-Match makes it conditional on the version read',
        params: nameParams('entity', 'id'),
        querystring: writeQuery,
        body: bodySchema,
        'x-xrm-operation': {
          errors: [...RECORD_404, ...RECORD_WRITE, 'XRM_ERR_RECORD_VERSION_MISMATCH', 'XRM_ERR_QUERY_INVALID'],
        },
      },
    },
    async (req, reply) => {
      const answer = writeAnswer(req, runtime.state.catalog, req.params.entity);
      const record = await ifMatchWrite(req.headers['if-match'], (expectedVersion) =>
        write(req, {
          message: 'update',
          entity: req.params.entity,
          id: req.params.id,
          input: req.body,
          expectedVersion,
        }).then((o) => o.record!),
      );
      return sendWritten(reply, answer, record, 200);
    },
  );

  app.delete<{ Params: { entity: string; id: string } }>(
    '/:entity/:id',
    {
      schema: {
        tags,
        summary: 'Delete a record; If-Match makes it conditional on the version read',
        params: nameParams('entity', 'id'),
        'x-xrm-operation': {
          errors: [...RECORD_404, 'XRM_ERR_RECORD_DELETE_RESTRICTED', 'XRM_ERR_RECORD_VERSION_MISMATCH'],
        },
      },
    },
    async (req, reply) => {
      await ifMatchWrite(req.headers['if-match'], (expectedVersion) =>
        write(req, { message: 'delete', entity: req.params.entity, id: req.params.id, expectedVersion }),
      );
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { entity: string; id: string }; Querystring: { limit?: number; cursor?: string } }>(
    '/:entity/:id/history',
    {
      schema: {
        tags,
        summary: "A record's audit history, newest first (kept after the record is deleted)",
        operationId: 'getRecordHistory',
        params: nameParams('entity', 'id'),
        querystring: cursorQuery(),
        'x-xrm-operation': {
          responses: { '200': jsonResponse("A page of the record's history", 'HistoryPage') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND'],
        },
      },
    },
    async (req) => {
      runtime.state.catalog.require(req.params.entity);
      return audit.history(req.params.entity, req.params.id, {
        access: accessOf(req),
        catalog: runtime.state.catalog,
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
      });
    },
  );

  const navigation = (entity: string, name: string) => {
    const catalog = runtime.state.catalog;
    catalog.require(entity);
    const nav = catalog.navigations(entity).find((n) => n.name === name);
    if (!nav) throw new XrmError('XRM_ERR_ROUTE_NOT_FOUND', `Entity "${entity}" has no relationship "${name}"`);
    return nav;
  };

  app.get<{ Params: { entity: string; id: string; relation: string }; Querystring: RestQuery }>(
    '/:entity/:id/:relation',
    {
      schema: {
        tags,
        summary: 'List the records related through a one-to-many or many-to-many relationship (all list options apply)',
        params: nameParams('entity', 'id', 'relation'),
        querystring: listQuery,
        'x-xrm-operation': { errors: [...RECORD_404, 'XRM_ERR_QUERY_INVALID'] },
      },
      preValidation: pageLimit,
    },
    async (req, reply) => {
      const { entity, id, relation } = req.params;
      const body = await query.read(
        { access: accessOf(req) },
        { kind: 'related', entity, id, navigation: navigation(entity, relation), query: req.query },
      );
      if (body === null) throw new XrmError('XRM_ERR_RECORD_NOT_FOUND', `No ${entity} record has id ${id}`);
      return reply.type(JSON_TYPE).send(body);
    },
  );

  const sides = (entity: string, relation: string, id: string, otherId: string): [string, string] => {
    const nav = navigation(entity, relation);
    if (nav.kind !== 'manyToMany')
      throw new XrmError('XRM_ERR_REQUEST_INVALID', `"${relation}" is not a many-to-many relationship`);
    return nav.selfColumn === 'from_id' ? [id, otherId] : [otherId, id];
  };

  app.post<{ Params: { entity: string; id: string; relation: string }; Body: { id: string } }>(
    '/:entity/:id/:relation',
    {
      schema: {
        tags,
        summary: 'Associate a record through a many-to-many relationship',
        params: nameParams('entity', 'id', 'relation'),
        body: RECORD_REFERENCE,
        'x-xrm-operation': {
          errors: [
            ...JSON_BODY,
            'XRM_ERR_METADATA_ENTITY_NOT_FOUND',
            'XRM_ERR_METADATA_RELATIONSHIP_NOT_FOUND',
            'XRM_ERR_RECORD_REFERENCE_NOT_FOUND',
          ],
        },
      },
    },
    async (req, reply) => {
      const [from, to] = sides(req.params.entity, req.params.relation, req.params.id, req.body.id);
      await write(req, { message: 'associate', relationship: req.params.relation, fromId: from, toId: to });
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { entity: string; id: string; relation: string; otherId: string } }>(
    '/:entity/:id/:relation/:otherId',
    {
      schema: {
        tags,
        summary: 'Disassociate two records of a many-to-many relationship',
        params: nameParams('entity', 'id', 'relation', 'otherId'),
        'x-xrm-operation': {
          errors: [...INVALID_REQUEST, 'XRM_ERR_METADATA_ENTITY_NOT_FOUND', 'XRM_ERR_METADATA_RELATIONSHIP_NOT_FOUND'],
        },
      },
    },
    async (req, reply) => {
      const [from, to] = sides(req.params.entity, req.params.relation, req.params.id, req.params.otherId);
      await write(req, { message: 'disassociate', relationship: req.params.relation, fromId: from, toId: to });
      return reply.code(204).send();
    },
  );
}
