/**
 * The relationship layer's routes: a tracked record's timeline and signals (under /api/data, beside
 * its history), the today list, alert templates, and activity ingestion for connectors.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ErrorCode, XrmError } from '../../metadata/errors.ts';
import { INVALID_REQUEST, JSON_BODY } from '../openapi/problems.ts';
import { createdResponse, jsonResponse } from '../openapi/responses.ts';
import { ALERT_TEMPLATES } from '../relationships/relationships.ts';
import { accessOf, principalOf, writeContext } from '../request-context.ts';
import type { Services } from '../services.ts';
import { bodySchema, nameParams } from './route-schemas.ts';
import { Transform, type Readable } from 'node:stream';
import { type ActivityImporter, importJobView, uploadedBy } from '../relationships/importer.ts';
import { formatOf, IMPORT_FORMATS, type ImportFormat } from '../relationships/import/index.ts';

/** What an import's body may be sent as. */
const IMPORT_MEDIA_TYPES = ['application/mbox', 'text/calendar', 'text/csv', 'text/plain', 'application/octet-stream'];

const tooLarge = (max: number) =>
  new XrmError('XRM_ERR_REQUEST_TOO_LARGE', `An import file is at most ${max} bytes (XRM_IMPORT_MAX_BYTES)`);

/** Passes the stream through, failing it once more than `max` bytes went by. */
function limitBytes(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > max) callback(tooLarge(max));
      else callback(null, chunk);
    },
  });
}

const tags = ['relationships'];
const RECORD_404: ErrorCode[] = [
  ...INVALID_REQUEST,
  'XRM_ERR_METADATA_ENTITY_NOT_FOUND',
  'XRM_ERR_ROUTE_NOT_FOUND',
  'XRM_ERR_RECORD_NOT_FOUND',
];

const metadataOnly = (req: FastifyRequest) => {
  if (!accessOf(req).policy.allows('metadata'))
    throw new XrmError('XRM_ERR_FORBIDDEN', 'Your roles do not grant the metadata privilege');
};

export async function relationshipRoutes(
  app: FastifyInstance,
  { services, importer, maxImportBytes }: { services: Services; importer: ActivityImporter; maxImportBytes: number },
): Promise<void> {
  const { relationships } = services;

  // the import takes the file as its body, streamed to disk (never held in memory, never parsed as JSON)
  await app.register(async (child) => {
    // any type: spreadsheets and mail clients label the same file many ways (the format says what it is)
    child.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    child.addContentTypeParser(IMPORT_MEDIA_TYPES, (_req, payload, done) => done(null, payload));
    child.post<{ Querystring: { format?: string; own?: string; regarding?: string } }>(
      '/activities/import',
      {
        schema: {
          tags,
          summary:
            'Import activities from an mbox, iCalendar (.ics) or CSV file sent as the body; answers the job that ' +
            'imports it (GET /api/jobs/{id} reports its progress)',
          operationId: 'importActivities',
          querystring: {
            type: 'object',
            properties: {
              format: {
                type: 'string',
                enum: [...IMPORT_FORMATS],
                description: "Default: from the body's Content-Type",
              },
              own: { type: 'string', maxLength: 4000, description: 'Your addresses, comma-separated (default: yours)' },
              regarding: {
                type: 'string',
                pattern:
                  '^[a-z][a-z0-9_]*:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
                description: 'entity:id of a record every imported activity regards',
              },
            },
            additionalProperties: false,
          },
          'x-xrm-operation': {
            rawBody: { mediaTypes: IMPORT_MEDIA_TYPES, description: 'The file, as is' },
            responses: { '202': jsonResponse('The import job', 'ImportStarted') },
            errors: [
              ...INVALID_REQUEST,
              'XRM_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE',
              'XRM_ERR_REQUEST_TOO_LARGE',
              'XRM_ERR_FORBIDDEN',
              'XRM_ERR_RECORD_INVALID',
              'XRM_ERR_RECORD_REFERENCE_NOT_FOUND',
            ],
          },
        },
      },
      async (req, reply) => {
        const access = accessOf(req);
        if (access.policy.level('activity', 'create') === 'none')
          throw new XrmError('XRM_ERR_FORBIDDEN', 'Your roles do not grant create on activity');
        const upload = req.body as Readable | undefined;
        if (typeof upload?.pipe !== 'function') {
          throw new XrmError('XRM_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE', 'Send the file itself as the body, not JSON');
        }
        const format = (req.query.format as ImportFormat | undefined) ?? formatOf(req.headers['content-type']);
        if (!format) {
          throw new XrmError('XRM_ERR_REQUEST_INVALID', 'Say which format the file is in', {
            errors: [{ path: '/format', message: `must be one of ${IMPORT_FORMATS.join(', ')}` }],
          });
        }
        const declared = Number(req.headers['content-length'] ?? 0);
        if (declared > maxImportBytes) throw tooLarge(maxImportBytes);
        const own = (req.query.own ?? access.subject.email ?? '')
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean);
        let regarding: { entity: string; id: string } | undefined;
        if (req.query.regarding) {
          const [entity, id] = req.query.regarding.split(':') as [string, string];
          regarding = { entity, id: id.toLowerCase() };
          // checked now, not when the job runs: the record must be one the uploader may link activities to
          await relationships.assertLinkable(access, regarding, '/regarding');
        }
        const body = upload.pipe(limitBytes(maxImportBytes));
        const id = await importer.start(services.db, body, { format, own, regarding, principal: principalOf(req) });
        const job = await services.jobs.get(id);
        return reply
          .code(202)
          .header('location', `/api/activities/import/${id}`)
          .send({ job: importJobView(job!) });
      },
    );
  });

  app.get<{ Params: { id: string } }>(
    '/activities/import/:id',
    {
      schema: {
        tags,
        summary: 'An import job: its state and progress (bytes, totalBytes, imported, problems, done)',
        operationId: 'getActivityImport',
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } }, required: ['id'] },
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The import job', 'ImportJob') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_JOB_NOT_FOUND'],
        },
      },
    },
    async (req) => {
      const job = await services.jobs.get(req.params.id);
      // whoever uploaded it follows it; the jobs privilege (plugins) sees every job anyway
      const visible =
        job && (uploadedBy(job, principalOf(req)) || (job.kind === 'import' && accessOf(req).policy.allows('plugins')));
      if (!visible) throw new XrmError('XRM_ERR_JOB_NOT_FOUND', `No import job ${req.params.id}`);
      return importJobView(job);
    },
  );

  app.get<{ Params: { entity: string; id: string }; Querystring: { limit?: number; cursor?: string } }>(
    '/data/:entity/:id/timeline',
    {
      schema: {
        tags,
        summary: 'Activities regarding or involving a tracked record, newest first (keyset paged)',
        operationId: 'getRecordTimeline',
        params: {
          ...nameParams('entity'),
          properties: { ...nameParams('entity').properties, id: { type: 'string', format: 'uuid' } },
          required: ['entity', 'id'],
        },
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50, description: 'Page size' },
            cursor: { type: 'string', maxLength: 200, description: "The previous page's nextCursor" },
          },
          additionalProperties: false,
        },
        'x-xrm-operation': {
          responses: { '200': jsonResponse("A page of the record's timeline", 'TimelinePage') },
          errors: [...RECORD_404, 'XRM_ERR_QUERY_INVALID'],
        },
      },
    },
    async (req, reply) =>
      reply
        .type('application/json; charset=utf-8')
        .send(
          await relationships.timeline(
            accessOf(req),
            req.params.entity,
            req.params.id,
            req.query.limit ?? 50,
            req.query.cursor,
          ),
        ),
  );

  app.get<{ Params: { entity: string; id: string } }>(
    '/data/:entity/:id/signals',
    {
      schema: {
        tags,
        summary: "A tracked record's relationship strength as of now, with the formula, its factors and inputs",
        operationId: 'getRecordSignals',
        params: {
          ...nameParams('entity'),
          properties: { ...nameParams('entity').properties, id: { type: 'string', format: 'uuid' } },
          required: ['entity', 'id'],
        },
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The score, its factors and every signal', 'RelationshipSignals') },
          errors: RECORD_404,
        },
      },
    },
    async (req) => relationships.signals(accessOf(req), req.params.entity, req.params.id),
  );

  app.get<{ Querystring: { owner?: string; limit?: number } }>(
    '/relationships/today',
    {
      schema: {
        tags,
        summary: 'Who to contact today: an owner’s records across tracked entities, ranked, each with its reasons',
        operationId: 'getRelationshipsToday',
        querystring: {
          type: 'object',
          properties: {
            owner: {
              type: 'string',
              description: '`me` (default) or a user or team id',
              anyOf: [{ const: 'me' }, { format: 'uuid' }],
            },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 },
          },
          additionalProperties: false,
        },
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The ranked list', 'TodayList') },
          errors: [...INVALID_REQUEST],
        },
      },
    },
    async (req) => {
      const access = accessOf(req);
      const owner = !req.query.owner || req.query.owner === 'me' ? access.subject.userId : req.query.owner;
      if (!owner) return { data: [] };
      return { data: await relationships.today(access, owner, req.query.limit ?? 20) };
    },
  );

  app.get(
    '/relationships/alert-templates',
    {
      schema: {
        tags,
        summary: 'Alert templates an admin can switch on per tracked entity (each becomes an automation rule)',
        operationId: 'listAlertTemplates',
        'x-xrm-operation': { responses: { '200': jsonResponse('The templates', 'AlertTemplateList') }, errors: [] },
      },
    },
    async () => ({ data: ALERT_TEMPLATES }),
  );

  app.post<{ Body: { entity: string; template: string; drop?: number; cron?: string; timeZone?: string } }>(
    '/relationships/alerts',
    {
      schema: {
        tags,
        summary: 'Switch an alert on for a tracked entity: creates its automation rule (a suggestion per episode)',
        operationId: 'createRelationshipAlert',
        body: bodySchema,
        'x-xrm-operation': {
          body: 'AlertInput',
          responses: { '201': createdResponse('The automation rule', 'AutomationRule') },
          errors: [...JSON_BODY, 'XRM_ERR_FORBIDDEN', 'XRM_ERR_ROUTE_NOT_FOUND', 'XRM_ERR_METADATA_ENTITY_NOT_FOUND'],
        },
      },
    },
    async (req, reply) => {
      metadataOnly(req);
      const body = req.body as Record<string, unknown>;
      if (typeof body.entity !== 'string' || typeof body.template !== 'string') {
        throw new XrmError('XRM_ERR_REQUEST_INVALID', 'An alert names its entity and template', {
          errors: [{ path: typeof body.entity !== 'string' ? '/entity' : '/template', message: 'is required' }],
        });
      }
      const rule = await relationships.enableAlert(body.entity, body.template, req.body, principalOf(req));
      return reply.code(201).header('location', `/api/automation/rules/${rule.id}`).send(rule);
    },
  );

  app.post<{ Body: { activities: Record<string, unknown>[] } }>(
    '/activities/ingest',
    {
      schema: {
        tags,
        summary:
          'Ingest activities from a connector (mail, calendar, telephony): idempotent by message_id, ' +
          'parties resolved to tracked records, in one transaction',
        operationId: 'ingestActivities',
        body: bodySchema,
        'x-xrm-operation': {
          body: 'ActivityIngestInput',
          responses: { '200': jsonResponse('Each activity’s id, and whether it was new', 'ActivityIngestResult') },
          errors: [
            ...JSON_BODY,
            'XRM_ERR_RECORD_INVALID',
            'XRM_ERR_RECORD_REFERENCE_NOT_FOUND',
            'XRM_ERR_FORBIDDEN',
            'XRM_ERR_RECORD_DUPLICATE',
          ],
        },
      },
    },
    async (req) => {
      const activities = (req.body as Record<string, unknown>).activities;
      if (!Array.isArray(activities) || activities.length < 1 || activities.length > 1000) {
        throw new XrmError('XRM_ERR_REQUEST_INVALID', 'Send 1 to 1,000 activities', {
          errors: [{ path: '/activities', message: 'must be an array of 1 to 1000 activities' }],
        });
      }
      return { data: await relationships.ingest(writeContext(req), activities) };
    },
  );
}
