/**
 * Concrete paths of the data API, per entity: the generic routes (`/api/data/{entity}...`)
 * resolve the entity at request time, so the document spells them out for every entity of the
 * catalog, with its own schemas, its one-to-many and many-to-many navigations, and the problems
 * each operation can answer with. Query parameters, tags and problems come from the generic
 * routes (server/rest/data-routes.ts), so the two never drift apart.
 */
import type { Catalog, Navigation } from '../../metadata/catalog.ts';
import { pascalCase } from '../../metadata/inflection.ts';
import type { EntityDef } from '../../metadata/types.ts';
import { sortedEntities, type EntitySchemaNames } from './entity-schemas.ts';
import { operationDoc } from './operation-doc.ts';
import { API_ALWAYS, problemResponses } from './problems.ts';
import { createdResponse, jsonResponse, noContent } from './responses.ts';
import {
  schemaRef,
  type OperationObject,
  type ParameterObject,
  type PathItemObject,
  type ResponseObject,
} from './types.ts';

export const DATA_PREFIX = '/api/data';

/** The generic routes as @fastify/swagger documents them. */
export const GENERIC_DATA_PATHS = {
  collection: `${DATA_PREFIX}/{entity}`,
  aggregate: `${DATA_PREFIX}/{entity}/aggregate`,
  upsert: `${DATA_PREFIX}/{entity}/upsert`,
  bulk: `${DATA_PREFIX}/{entity}/bulk`,
  record: `${DATA_PREFIX}/{entity}/{id}`,
  history: `${DATA_PREFIX}/{entity}/{id}/history`,
  timeline: `${DATA_PREFIX}/{entity}/{id}/timeline`,
  signals: `${DATA_PREFIX}/{entity}/{id}/signals`,
  share: `${DATA_PREFIX}/{entity}/{id}/share`,
  shares: `${DATA_PREFIX}/{entity}/{id}/shares`,
  relation: `${DATA_PREFIX}/{entity}/{id}/{relation}`,
  link: `${DATA_PREFIX}/{entity}/{id}/{relation}/{otherId}`,
} as const;

const GENERIC = new Set<string>(Object.values(GENERIC_DATA_PATHS));

export function isGenericDataPath(path: string): boolean {
  return GENERIC.has(path);
}

interface Templates {
  list: OperationObject;
  aggregate: OperationObject;
  upsert: OperationObject;
  bulk: OperationObject;
  create: OperationObject;
  get: OperationObject;
  update: OperationObject;
  remove: OperationObject;
  history: OperationObject;
  timeline: OperationObject;
  signals: OperationObject;
  share: OperationObject;
  shares: OperationObject;
  related: OperationObject;
  associate: OperationObject;
  disassociate: OperationObject;
}

/** The generic operations, whose query parameters, tags and problems the concrete ones reuse. */
export function dataTemplates(paths: Record<string, PathItemObject>): Templates {
  const op = (path: string, method: 'get' | 'post' | 'patch' | 'delete'): OperationObject => {
    const operation = paths[path]?.[method];
    if (!operation)
      throw new Error(
        `OpenAPI: the generic data route ${method.toUpperCase()} ${path} is not documented; was it renamed?`,
      );
    if (!operationDoc(operation))
      throw new Error(
        `OpenAPI: the generic data route ${method.toUpperCase()} ${path} declares no x-xrm-operation (its problems)`,
      );
    return operation;
  };
  const { collection, aggregate, upsert, bulk, record, history, timeline, signals, share, shares, relation, link } =
    GENERIC_DATA_PATHS;
  return {
    list: op(collection, 'get'),
    aggregate: op(aggregate, 'get'),
    upsert: op(upsert, 'post'),
    bulk: op(bulk, 'post'),
    create: op(collection, 'post'),
    get: op(record, 'get'),
    update: op(record, 'patch'),
    remove: op(record, 'delete'),
    history: op(history, 'get'),
    timeline: op(timeline, 'get'),
    signals: op(signals, 'get'),
    share: op(share, 'post'),
    shares: op(shares, 'get'),
    related: op(relation, 'get'),
    associate: op(relation, 'post'),
    disassociate: op(link, 'delete'),
  };
}

function queryParameters(template: OperationObject, except: readonly string[] = []): ParameterObject[] {
  return (template.parameters ?? [])
    .filter((p) => p.in === 'query' && !except.includes(p.name))
    .map((p) => structuredClone(p));
}

const IF_MATCH: ParameterObject = {
  name: 'If-Match',
  in: 'header',
  required: false,
  schema: { type: 'string' },
  description: 'The ETag of the version read ("3"): the write happens only if the record is still at it, else 412',
};
const IF_NONE_MATCH: ParameterObject = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  schema: { type: 'string' },
  description: 'An ETag held: 304 when it is still current',
};

const PREFER: ParameterObject = {
  name: 'Prefer',
  in: 'header',
  required: false,
  schema: { type: 'string', enum: ['return=minimal', 'return=representation'] },
  description:
    '`return=minimal`: no body (201 with Location for a creation, 204 for an update; the ETag either way), ' +
    'answered with `Preference-Applied: return=minimal`',
};

function withEtag(response: ResponseObject): ResponseObject {
  return {
    ...response,
    headers: {
      ...response.headers,
      ETag: { description: 'The record version, for If-Match', schema: { type: 'string' } },
    },
  };
}

function idParameter(name: string, description: string): ParameterObject {
  return { name, in: 'path', required: true, description, schema: { type: 'string', format: 'uuid' } };
}

function operation(
  template: OperationObject,
  fields: { operationId: string; summary: string; description?: string; parameters?: ParameterObject[]; body?: string },
  success: Record<string, ResponseObject>,
): OperationObject {
  return {
    operationId: fields.operationId,
    summary: fields.summary,
    ...(fields.description ? { description: fields.description } : {}),
    ...(template.tags ? { tags: [...template.tags] } : {}),
    ...(fields.parameters?.length ? { parameters: fields.parameters } : {}),
    ...(fields.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: schemaRef(fields.body) } } } }
      : {}),
    responses: { ...success, ...problemResponses(operationDoc(template)!.errors, API_ALWAYS) },
  };
}

/** "a Supplier", "an Employee". */
function a(label: string): string {
  return `${/^[aeiou]/i.test(label) ? 'an' : 'a'} ${label}`;
}

function entityPaths(
  entity: EntityDef,
  catalog: Catalog,
  allNames: ReadonlyMap<string, EntitySchemaNames>,
  t: Templates,
): Record<string, PathItemObject> {
  const names = allNames.get(entity.name)!;
  const type = pascalCase(entity.name);
  const label = entity.displayName;
  const base = `${DATA_PREFIX}/${entity.name}`;
  const id = idParameter('id', `Id of the ${label} record`);
  const paths: Record<string, PathItemObject> = {};

  paths[base] = {
    get: operation(
      t.list,
      {
        operationId: `list${pascalCase(entity.pluralName)}`,
        summary: `List ${label} records`,
        description:
          'Oldest first unless `sort` says otherwise. ' +
          "`filter` takes an expression (`status eq 'online' and asset.name startsWith 'A'`) or a JSON filter; " +
          '`expand` includes lookups and to-many relations with their own select, filter, sort and limit. ' +
          'Page with `limit` and `offset`, or follow `nextCursor` (keyset paging, stable under inserts).',
        parameters: queryParameters(t.list),
      },
      { '200': jsonResponse(`A page of ${label} records`, names.page) },
    ),
    post: operation(
      t.create,
      {
        operationId: `create${type}`,
        summary: `Create ${a(label)} record`,
        parameters: [...queryParameters(t.create), PREFER],
        body: names.create,
      },
      {
        '201': withEtag(createdResponse(`The created ${label} record (none with Prefer: return=minimal)`, names.read)),
      },
    ),
  };

  if (entity.alternateKeys?.length) {
    paths[`${base}/upsert`] = {
      post: operation(
        t.upsert,
        {
          operationId: `upsert${type}`,
          summary: `Create ${a(label)} record, or update the one with the same alternate-key values`,
          description:
            `Keys: ${entity.alternateKeys.map((k) => `\`${k.name}\` (${k.fields.join(', ')})`).join('; ')}. ` +
            '201 when created, 200 when updated.',
          parameters: [...queryParameters(t.upsert), PREFER],
          body: names.create,
        },
        {
          '201': withEtag(
            createdResponse(`The created ${label} record (none with Prefer: return=minimal)`, names.read),
          ),
          '200': withEtag(jsonResponse(`The updated ${label} record`, names.read)),
          '204': withEtag(noContent('Updated (Prefer: return=minimal)')),
        },
      ),
    };
  }

  paths[`${base}/bulk`] = {
    post: operation(
      t.bulk,
      {
        operationId: `bulk${pascalCase(entity.pluralName)}`,
        summary: `Create, update, upsert or delete up to 1,000 ${label} records in one all-or-nothing transaction`,
        description:
          'Every item is validated first; problems name items as `/records/<i>/<field>`. ' +
          'update/delete items carry `id` (and `version` for optimistic concurrency).',
        body: 'BulkRequest',
      },
      { '200': jsonResponse('The written records (delete: their ids), in request order', 'BulkResult') },
    ),
  };

  paths[`${base}/aggregate`] = {
    get: operation(
      t.aggregate,
      {
        operationId: `aggregate${pascalCase(entity.pluralName)}`,
        summary: `Aggregate ${label} records`,
        description:
          'One row per group: the group keys (named after the field, `lookup_field` or `year_field`) ' +
          'and the aggregates (`count`, `sum_amount`, …).',
        parameters: queryParameters(t.aggregate),
      },
      { '200': jsonResponse(`Aggregates of ${label} records`, 'AggregateResult') },
    ),
  };

  paths[`${base}/{id}`] = {
    get: operation(
      t.get,
      {
        operationId: `get${type}`,
        summary: `Get ${a(label)} record`,
        parameters: [id, ...queryParameters(t.get), IF_NONE_MATCH],
      },
      {
        '200': withEtag(jsonResponse(`The ${label} record`, names.read)),
        '304': noContent('Not modified: the If-None-Match ETag is current'),
      },
    ),
    patch: operation(
      t.update,
      {
        operationId: `update${type}`,
        summary: `Update ${a(label)} record (partial)`,
        description: 'Only the fields sent change; null clears an optional field.',
        parameters: [id, ...queryParameters(t.update), IF_MATCH, PREFER],
        body: names.update,
      },
      {
        '200': withEtag(jsonResponse(`The updated ${label} record`, names.read)),
        '204': withEtag(noContent('Updated (Prefer: return=minimal)')),
      },
    ),
    delete: operation(
      t.remove,
      { operationId: `delete${type}`, summary: `Delete ${a(label)} record`, parameters: [id, IF_MATCH] },
      { '204': noContent('Deleted') },
    ),
  };

  paths[`${base}/{id}/history`] = {
    get: operation(
      t.history,
      {
        operationId: `get${type}History`,
        summary: `The audit history of ${a(label)} record, newest first`,
        description:
          'Who changed what and when (old → new per field), kept after the record is deleted; ' +
          `written while the entity's auditEnabled is on. Page with \`limit\` and \`cursor\`.`,
        parameters: [id, ...queryParameters(t.history)],
      },
      { '200': jsonResponse(`A page of the ${label} record's history`, 'HistoryPage') },
    ),
  };

  if (entity.trackActivities) {
    paths[`${base}/{id}/timeline`] = {
      get: operation(
        t.timeline,
        {
          operationId: `get${type}Timeline`,
          summary: `Activities regarding or involving ${a(label)} record, newest first`,
          parameters: [id, ...queryParameters(t.timeline)],
        },
        { '200': jsonResponse(`A page of the ${label} record's timeline`, 'TimelinePage') },
      ),
    };
    paths[`${base}/{id}/signals`] = {
      get: operation(
        t.signals,
        {
          operationId: `get${type}Signals`,
          summary: `The relationship strength of ${a(label)} record now, with its formula, factors and inputs`,
          parameters: [id],
        },
        { '200': jsonResponse('The score, its factors and every signal', 'RelationshipSignals') },
      ),
    };
  }

  paths[`${base}/{id}/share`] = {
    post: operation(
      t.share,
      {
        operationId: `share${type}`,
        summary: `Share ${a(label)} record with a user or a team (rights: [] withdraws it)`,
        description: 'Needs the share privilege on the record; a record you cannot read is a 404.',
        parameters: [id],
        body: 'ShareInput',
      },
      { '200': jsonResponse(`The ${label} record's shares`, 'ShareList') },
    ),
  };
  paths[`${base}/{id}/shares`] = {
    get: operation(
      t.shares,
      { operationId: `list${type}Shares`, summary: `Who ${a(label)} record is shared with`, parameters: [id] },
      { '200': jsonResponse(`The ${label} record's shares`, 'ShareList') },
    ),
  };

  const navigations = [...catalog.navigations(entity.name)].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const nav of navigations) Object.assign(paths, navigationPaths(entity, nav, catalog, allNames, t));
  return paths;
}

function navigationPaths(
  entity: EntityDef,
  nav: Navigation,
  catalog: Catalog,
  allNames: ReadonlyMap<string, EntitySchemaNames>,
  t: Templates,
): Record<string, PathItemObject> {
  const type = pascalCase(entity.name) + pascalCase(nav.name);
  const label = entity.displayName;
  const otherName = nav.kind === 'inverse' ? nav.source : nav.other;
  const other = catalog.entity(otherName);
  const otherNames = allNames.get(otherName);
  if (!other || !otherNames) return {};
  const path = `${DATA_PREFIX}/${entity.name}/{id}/${nav.name}`;
  const id = idParameter('id', `Id of the ${label} record`);
  const description =
    nav.kind === 'inverse'
      ? `One-to-many: the ${other.displayName} records whose lookup \`${nav.field}\` is this ${label} record.`
      : `Many-to-many (relationship \`${nav.relationship}\`): ` +
        `the ${other.displayName} records linked to this ${label} record.`;
  const paths: Record<string, PathItemObject> = {
    [path]: {
      get: operation(
        t.related,
        {
          operationId: `list${type}`,
          summary: `List the ${other.displayName} records of ${a(label)} record through "${nav.name}"`,
          description,
          parameters: [id, ...queryParameters(t.related)],
        },
        { '200': jsonResponse(`A page of ${other.displayName} records`, otherNames.page) },
      ),
    },
  };
  if (nav.kind === 'manyToMany') {
    paths[path]!.post = operation(
      t.associate,
      {
        operationId: `associate${type}`,
        summary: `Link ${a(other.displayName)} record to ${a(label)} record through "${nav.name}"`,
        description: 'Idempotent: linking an already linked pair changes nothing.',
        parameters: [id],
        body: 'RecordReference',
      },
      { '204': noContent('Linked') },
    );
    paths[`${path}/{otherId}`] = {
      delete: operation(
        t.disassociate,
        {
          operationId: `disassociate${type}`,
          summary: `Unlink ${a(other.displayName)} record from ${a(label)} record through "${nav.name}"`,
          description: 'Idempotent: unlinking a pair that is not linked changes nothing.',
          parameters: [id, idParameter('otherId', `Id of the linked ${other.displayName} record`)],
        },
        { '204': noContent('Unlinked') },
      ),
    };
  }
  return paths;
}

/** Every entity's concrete paths, ordered by entity name. */
export function dataPaths(
  catalog: Catalog,
  allNames: ReadonlyMap<string, EntitySchemaNames>,
  templates: Templates,
): Record<string, PathItemObject> {
  const paths: Record<string, PathItemObject> = {};
  for (const entity of sortedEntities(catalog)) Object.assign(paths, entityPaths(entity, catalog, allNames, templates));
  return paths;
}
