/**
 * REST for every entity under /api/data/{entity}: generic routes resolved against the live
 * catalog on each request, so a metadata change is served at once without re-registering routes.
 */
import type { FastifyInstance } from 'fastify';
import { XrmError } from '../../metadata/errors.ts';
import type { Services } from '../services.ts';
import { bodySchema, nameParams, pageQuery } from './route-schemas.ts';

const tags = ['data'];

interface ListQuery {
  limit?: number;
  offset?: number;
  cursor?: string;
  count?: boolean;
}

const listQuery = pageQuery({
  cursor: { type: 'string', description: 'Opaque cursor from a previous page\'s nextCursor' },
  count: { type: 'boolean', description: 'Include totalCount' },
});

export async function dataRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { records, runtime } = services;

  app.get<{ Params: { entity: string }; Querystring: ListQuery }>(
    '/:entity',
    { schema: { tags, summary: 'List records', params: nameParams('entity'), querystring: listQuery } },
    async (req) => records.list(req.params.entity, req.query),
  );

  app.post<{ Params: { entity: string } }>(
    '/:entity',
    { schema: { tags, summary: 'Create a record', params: nameParams('entity'), body: bodySchema } },
    async (req, reply) => {
      const record = await records.create(req.params.entity, req.body);
      return reply.code(201).header('location', `/api/data/${req.params.entity}/${record.id}`).send(record);
    },
  );

  app.get<{ Params: { entity: string; id: string } }>(
    '/:entity/:id',
    { schema: { tags, summary: 'Get a record', params: nameParams('entity', 'id') } },
    async (req) => records.get(req.params.entity, req.params.id),
  );

  app.patch<{ Params: { entity: string; id: string } }>(
    '/:entity/:id',
    { schema: { tags, summary: 'Update a record (partial)', params: nameParams('entity', 'id'), body: bodySchema } },
    async (req) => records.update(req.params.entity, req.params.id, req.body),
  );

  app.delete<{ Params: { entity: string; id: string } }>(
    '/:entity/:id',
    { schema: { tags, summary: 'Delete a record', params: nameParams('entity', 'id') } },
    async (req, reply) => {
      await records.delete(req.params.entity, req.params.id);
      return reply.code(204).send();
    },
  );

  const navigation = (entity: string, name: string) => {
    records.entity(entity);
    const nav = runtime.state.catalog.navigations(entity).find((n) => n.name === name);
    if (!nav) throw new XrmError('XRM_ERR_ROUTE_NOT_FOUND', `Entity "${entity}" has no relationship "${name}"`);
    return nav;
  };

  app.get<{ Params: { entity: string; id: string; relation: string }; Querystring: ListQuery }>(
    '/:entity/:id/:relation',
    { schema: { tags, summary: 'List the records related through a one-to-many or many-to-many relationship', params: nameParams('entity', 'id', 'relation'), querystring: listQuery } },
    async (req) => {
      const nav = navigation(req.params.entity, req.params.relation);
      await records.get(req.params.entity, req.params.id);
      return records.listRelated(req.params.entity, req.params.id, nav, req.query);
    },
  );

  const sides = (entity: string, relation: string, id: string, otherId: string): [string, string] => {
    const nav = navigation(entity, relation);
    if (nav.kind !== 'manyToMany') throw new XrmError('XRM_ERR_REQUEST_INVALID', `"${relation}" is not a many-to-many relationship`);
    return nav.selfColumn === 'from_id' ? [id, otherId] : [otherId, id];
  };

  app.post<{ Params: { entity: string; id: string; relation: string }; Body: { id: string } }>(
    '/:entity/:id/:relation',
    {
      schema: {
        tags,
        summary: 'Associate a record through a many-to-many relationship',
        params: nameParams('entity', 'id', 'relation'),
        body: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false },
      },
    },
    async (req, reply) => {
      const [from, to] = sides(req.params.entity, req.params.relation, req.params.id, req.body.id);
      await records.associate(req.params.relation, from, to);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { entity: string; id: string; relation: string; otherId: string } }>(
    '/:entity/:id/:relation/:otherId',
    { schema: { tags, summary: 'Disassociate two records of a many-to-many relationship', params: nameParams('entity', 'id', 'relation', 'otherId') } },
    async (req, reply) => {
      const [from, to] = sides(req.params.entity, req.params.relation, req.params.id, req.params.otherId);
      await records.disassociate(req.params.relation, from, to);
      return reply.code(204).send();
    },
  );
}
