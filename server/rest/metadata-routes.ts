/**
 * The metadata API under /api/metadata: entities, fields, relationships, choice sets, the
 * schema-change ledger, JSON Schemas and TypeScript types. Routes are thin: they call the
 * metadata service and read the live catalog.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { XrmError } from '../../metadata/errors.ts';
import { FIELD_TYPES, FIELD_TYPE_NAMES } from '../../metadata/field-types/index.ts';
import { entitySchema, SCHEMA_VARIANTS, type SchemaVariant } from '../../metadata/json-schema.ts';
import { listChanges } from '../../metadata/store.ts';
import { entityTypescript } from '../../metadata/typescript.ts';
import { type EntityDef } from '../../metadata/types.ts';
import type { Services } from '../services.ts';
import { bodySchema, nameParams, pageQuery } from './route-schemas.ts';

const tags = ['metadata'];

export async function metadataRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { metadata, runtime } = services;
  const catalog = () => runtime.state.catalog;

  const entityView = (entity: EntityDef) => ({ ...entity, navigations: catalog().navigations(entity.name) });
  const requireEntity = (name: string) => {
    const entity = catalog().entity(name);
    if (!entity) throw new XrmError('XRM_ERR_METADATA_ENTITY_NOT_FOUND', `Entity "${name}" does not exist`);
    return entity;
  };
  const created = (reply: FastifyReply, location: string, body: unknown) => reply.code(201).header('location', location).send(body);

  app.get('/', { schema: { tags, summary: 'Catalog summary: schema version and counts' } }, async () => {
    const c = catalog();
    return { version: c.version, entities: c.entities.size, relationships: c.relationships.size, choiceSets: c.choiceSets.size };
  });

  app.get('/field-types', { schema: { tags, summary: 'Field types and the options each takes' } }, async () => ({
    data: FIELD_TYPE_NAMES.map((name) => ({
      name,
      description: FIELD_TYPES[name].description,
      options: FIELD_TYPES[name].options,
      readOnly: FIELD_TYPES[name].readOnly === true,
      filterOperators: FIELD_TYPES[name].filterOperators,
      capabilities: FIELD_TYPES[name].capabilities,
    })),
  }));

  app.get('/entities', { schema: { tags, summary: 'List entities' } }, async () => ({
    data: [...catalog().entities.values()].map(entityView),
  }));

  app.post('/entities', { schema: { tags, summary: 'Create an entity with its fields', body: bodySchema } }, async (req, reply) => {
    const entity = await metadata.createEntity(req.body);
    return created(reply, `/api/metadata/entities/${entity.name}`, entityView(entity));
  });

  app.get<{ Params: { name: string } }>('/entities/:name', { schema: { tags, summary: 'Get an entity', params: nameParams('name') } }, async (req) =>
    entityView(requireEntity(req.params.name)),
  );

  app.patch<{ Params: { name: string } }>('/entities/:name', { schema: { tags, summary: 'Update labels, description or primary field', params: nameParams('name'), body: bodySchema } }, async (req) =>
    entityView(await metadata.updateEntity(req.params.name, req.body)),
  );

  app.delete<{ Params: { name: string } }>('/entities/:name', { schema: { tags, summary: 'Delete an entity and its table (refused while referenced)', params: nameParams('name') } }, async (req, reply) => {
    await metadata.deleteEntity(req.params.name);
    return reply.code(204).send();
  });

  app.get<{ Params: { name: string }; Querystring: { variant?: SchemaVariant } }>(
    '/entities/:name/schema',
    {
      schema: {
        tags,
        summary: 'JSON Schema (draft 2020-12) of the entity\'s records',
        params: nameParams('name'),
        querystring: { type: 'object', properties: { variant: { type: 'string', enum: [...SCHEMA_VARIANTS], default: 'read' } } },
      },
    },
    async (req, reply) => {
      const entity = requireEntity(req.params.name);
      return reply.type('application/schema+json').send(entitySchema(entity, catalog(), req.query.variant ?? 'read'));
    },
  );

  app.get<{ Params: { name: string } }>('/entities/:name/fields', { schema: { tags, summary: 'List fields', params: nameParams('name') } }, async (req) => ({
    data: requireEntity(req.params.name).fields,
  }));

  app.post<{ Params: { name: string } }>('/entities/:name/fields', { schema: { tags, summary: 'Add a field', params: nameParams('name'), body: bodySchema } }, async (req, reply) => {
    const field = await metadata.addField(req.params.name, req.body);
    return created(reply, `/api/metadata/entities/${req.params.name}/fields/${field.name}`, field);
  });

  app.get<{ Params: { name: string; field: string } }>('/entities/:name/fields/:field', { schema: { tags, summary: 'Get a field', params: nameParams('name', 'field') } }, async (req) => {
    const field = requireEntity(req.params.name).fields.find((f) => f.name === req.params.field);
    if (!field) throw new XrmError('XRM_ERR_METADATA_FIELD_NOT_FOUND', `Entity "${req.params.name}" has no field "${req.params.field}"`);
    return field;
  });

  app.patch<{ Params: { name: string; field: string } }>(
    '/entities/:name/fields/:field',
    { schema: { tags, summary: 'Change a field (labels, safe options, lossless type changes); null removes an option', params: nameParams('name', 'field'), body: bodySchema } },
    async (req) => metadata.updateField(req.params.name, req.params.field, req.body),
  );

  app.delete<{ Params: { name: string; field: string } }>('/entities/:name/fields/:field', { schema: { tags, summary: 'Drop a field and its data', params: nameParams('name', 'field') } }, async (req, reply) => {
    await metadata.dropField(req.params.name, req.params.field);
    return reply.code(204).send();
  });

  app.post<{ Params: { name: string } }>(
    '/entities/:name/keys',
    { schema: { tags, summary: 'Declare an alternate key: fields whose values identify a record (used by upserts)', params: nameParams('name'), body: bodySchema } },
    async (req, reply) => {
      const key = await metadata.addAlternateKey(req.params.name, req.body);
      return created(reply, `/api/metadata/entities/${req.params.name}/keys/${key.name}`, key);
    },
  );

  app.delete<{ Params: { name: string; key: string } }>(
    '/entities/:name/keys/:key',
    { schema: { tags, summary: 'Drop an alternate key', params: nameParams('name', 'key') } },
    async (req, reply) => {
      await metadata.dropAlternateKey(req.params.name, req.params.key);
      return reply.code(204).send();
    },
  );

  app.get('/relationships', { schema: { tags, summary: 'List many-to-many relationships' } }, async () => ({ data: [...catalog().relationships.values()] }));

  app.post('/relationships', { schema: { tags, summary: 'Create a many-to-many relationship (junction table)', body: bodySchema } }, async (req, reply) => {
    const rel = await metadata.createRelationship(req.body);
    return created(reply, `/api/metadata/relationships/${rel.name}`, rel);
  });

  app.get<{ Params: { name: string } }>('/relationships/:name', { schema: { tags, summary: 'Get a relationship', params: nameParams('name') } }, async (req) => {
    const rel = catalog().relationships.get(req.params.name);
    if (!rel) throw new XrmError('XRM_ERR_METADATA_RELATIONSHIP_NOT_FOUND', `Relationship "${req.params.name}" does not exist`);
    return rel;
  });

  app.delete<{ Params: { name: string } }>('/relationships/:name', { schema: { tags, summary: 'Delete a relationship and its links', params: nameParams('name') } }, async (req, reply) => {
    await metadata.deleteRelationship(req.params.name);
    return reply.code(204).send();
  });

  app.get('/choice-sets', { schema: { tags, summary: 'List shared choice sets' } }, async () => ({ data: [...catalog().choiceSets.values()] }));

  app.post('/choice-sets', { schema: { tags, summary: 'Create a shared choice set', body: bodySchema } }, async (req, reply) => {
    const set = await metadata.createChoiceSet(req.body);
    return created(reply, `/api/metadata/choice-sets/${set.name}`, set);
  });

  app.get<{ Params: { name: string } }>('/choice-sets/:name', { schema: { tags, summary: 'Get a choice set', params: nameParams('name') } }, async (req) => {
    const set = catalog().choiceSets.get(req.params.name);
    if (!set) throw new XrmError('XRM_ERR_METADATA_CHOICE_SET_NOT_FOUND', `Choice set "${req.params.name}" does not exist`);
    return set;
  });

  app.patch<{ Params: { name: string } }>('/choice-sets/:name', { schema: { tags, summary: 'Relabel, add or remove options', params: nameParams('name'), body: bodySchema } }, async (req) =>
    metadata.updateChoiceSet(req.params.name, req.body),
  );

  app.delete<{ Params: { name: string } }>('/choice-sets/:name', { schema: { tags, summary: 'Delete an unused choice set', params: nameParams('name') } }, async (req, reply) => {
    await metadata.deleteChoiceSet(req.params.name);
    return reply.code(204).send();
  });

  app.get<{ Querystring: { limit?: number; offset?: number; target?: string } }>(
    '/changes',
    { schema: { tags, summary: 'The schema-change ledger, newest first', querystring: pageQuery({ target: { type: 'string' } }) } },
    async (req) => listChanges(services.db, { limit: req.query.limit ?? 50, offset: req.query.offset ?? 0, target: req.query.target }),
  );

  app.get('/typescript', { schema: { tags, summary: 'TypeScript types of every entity (json-schema-to-typescript)' } }, async (_req, reply) => {
    const state = runtime.state;
    const source = await state.derived('typescript', (c) => entityTypescript(c));
    return reply.type('text/plain; charset=utf-8').send(source);
  });
}
