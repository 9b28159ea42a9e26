/**
 * GET /openapi.json: a valid OpenAPI 3.1 document (checked by @seriousme/openapi-schema-validator
 * against the official 3.1 schema) of the metadata API and of every entity's data API, whose
 * schemas describe what the API really answers, rebuilt as soon as the metadata changes.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { beforeAll, expect, it } from 'vitest';
import { createAjv } from '../metadata/ajv.ts';
import {
  DEFINITION_SCHEMAS,
  fieldInputName,
  MAX_CHOICE_OPTIONS,
  MAX_ENTITY_FIELDS,
} from '../metadata/definition-schemas.ts';
import { ERROR_CODES } from '../metadata/errors.ts';
import { FIELD_TYPES, FIELD_TYPE_NAMES } from '../metadata/field-types/index.ts';
import { isGenericDataPath } from '../server/openapi/data-paths.ts';
import { createFixtureModel, entities as fixtureEntities } from './fixtures/model.ts';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectProblem } from './support/problems.ts';

type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

function operations(doc: Json): { path: string; method: string; op: Json }[] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ path, method, op: op as Json })),
  );
}

function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, found);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') found.push(v);
      else refs(v, found);
    }
  }
  return found;
}

const pascal = (name: string) => name.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());

async function validate(doc: Json) {
  return new Validator().validate(structuredClone(doc));
}

/** A JSON Schema validator over the document's component schemas. */
function componentValidator(doc: Json) {
  const ajv = createAjv();
  ajv.addSchema({ $id: 'https://xrm.test/openapi.json', components: doc.components });
  return (name: string) => ajv.getSchema(`https://xrm.test/openapi.json#/components/schemas/${name}`)!;
}

describeEachDatabase('OpenAPI document', (get) => {
  const http = () => api(get().app);
  const document = async (): Promise<Json> => {
    const res = await http().get('/openapi.json');
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toContain('application/json');
    return res.body;
  };

  beforeAll(async () => {
    await createFixtureModel(http().post);
  });

  it('is a valid OpenAPI 3.1 document with the JSON Schema 2020-12 based OAS dialect', async () => {
    const doc = await document();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.jsonSchemaDialect).toBe('https://spec.openapis.org/oas/3.1/dialect/base');
    const result = await validate(doc);
    expect(result.errors, JSON.stringify(result.errors, null, 2)).toBeUndefined();
    expect(result.valid).toBe(true);
    // the validator does reject a broken document
    const broken = structuredClone(doc);
    broken.paths['/api/data/partner'].get.responses = 'none';
    expect((await validate(broken)).valid).toBe(false);
    // every $ref points at a component that exists
    for (const ref of new Set(refs(doc))) {
      const name = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
      expect(name && doc.components.schemas[name], ref).toBeTruthy();
    }
  });

  it('documents the metadata API with request bodies and responses', async () => {
    const doc = await document();
    const ops = new Map(operations(doc).map((o) => [`${o.method.toUpperCase()} ${o.path}`, o.op]));
    for (const key of [
      'GET /api/metadata/entities',
      'POST /api/metadata/entities',
      'GET /api/metadata/entities/{name}',
      'PATCH /api/metadata/entities/{name}',
      'DELETE /api/metadata/entities/{name}',
      'GET /api/metadata/entities/{name}/schema',
      'POST /api/metadata/entities/{name}/fields',
      'PATCH /api/metadata/entities/{name}/fields/{field}',
      'POST /api/metadata/relationships',
      'POST /api/metadata/choice-sets',
      'GET /api/metadata/changes',
      'GET /api/metadata/typescript',
      'GET /health',
      'GET /openapi.json',
    ]) {
      expect(ops.has(key), key).toBe(true);
    }
    const create = ops.get('POST /api/metadata/entities')!;
    expect(create.operationId).toBe('createEntity');
    expect(create.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/EntityInput' });
    expect(create.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Entity' });
    expect(create.responses['409'].description).toContain('XRM_ERR_METADATA_NAME_TAKEN');
    expect(ops.get('PATCH /api/metadata/entities/{name}/fields/{field}')!.responses['422'].description).toContain(
      'XRM_ERR_METADATA_CHANGE_REFUSED',
    );
    expect(Object.keys(ops.get('GET /api/metadata/typescript')!.responses['200'].content)).toEqual(['text/plain']);
    // every route is documented: no placeholder responses, and what documented it is not left in the operation
    for (const { path, method, op } of operations(doc)) {
      for (const response of Object.values(op.responses as Json)) {
        expect(
          ['Default Response', 'Success'],
          `${method.toUpperCase()} ${path}: document it on the route (server/openapi/operation-doc.ts)`,
        ).not.toContain(response.description);
      }
      expect(op['x-xrm-operation'], `${method.toUpperCase()} ${path}`).toBeUndefined();
    }
    // ... by the route itself: its schema declares the operation id and the documentation
    const routes = get().app.swagger() as Json;
    for (const { path, method, op } of operations(routes)) {
      expect(
        op.operationId ?? isGenericDataPath(path),
        `${method.toUpperCase()} ${path} declares schema.operationId`,
      ).toBeTruthy();
      expect(
        op['x-xrm-operation']?.errors,
        `${method.toUpperCase()} ${path} declares schema['x-xrm-operation']`,
      ).toBeInstanceOf(Array);
    }
    // the metadata API's real answers match their documented schemas
    const schema = componentValidator(doc);
    for (const [url, name] of [
      ['/api/metadata/entities', 'EntityList'],
      ['/api/metadata/entities/employee', 'Entity'],
      ['/api/metadata/relationships', 'RelationshipList'],
      ['/api/metadata/choice-sets', 'ChoiceSetList'],
      ['/api/metadata/field-types', 'FieldTypeList'],
      ['/api/metadata/changes', 'SchemaChangePage'],
      ['/api/metadata/', 'CatalogSummary'],
      ['/health', 'Health'],
    ] as const) {
      const validateBody = schema(name);
      const res = await http().get(url);
      expect(validateBody(res.body), `${url}: ${JSON.stringify(validateBody.errors)}`).toBe(true);
    }
    const graphql = await http().graphql('{ __typename }');
    expect(graphql.status).toBe(200);
    expect(schema('GraphqlResponse')(graphql.body)).toBe(true);
    expect(ops.get('POST /graphql')!.operationId).toBe('graphqlPost');
  });

  it(
    "publishes the metadata API's request bodies " + 'as the very schemas the metadata service validates with',
    async () => {
      const doc = await document();
      // by construction: the components are metadata/definition-schemas.ts, unchanged
      for (const [name, schema] of Object.entries(DEFINITION_SCHEMAS))
        expect(doc.components.schemas[name], name).toEqual(schema);
      expect(doc.components.schemas.ChoiceSetInput.properties.options).toMatchObject({
        minItems: 1,
        maxItems: MAX_CHOICE_OPTIONS,
      });
      expect(doc.components.schemas.EntityInput.properties.fields).toMatchObject({
        maxItems: MAX_ENTITY_FIELDS,
        items: { $ref: '#/components/schemas/FieldInput' },
      });
      // a field definition: one schema per registered type, with exactly that type's options
      expect(doc.components.schemas.FieldInput.oneOf).toEqual(
        FIELD_TYPE_NAMES.map((t) => ({ $ref: `#/components/schemas/${fieldInputName(t)}` })),
      );
      for (const type of FIELD_TYPE_NAMES) {
        const schema = doc.components.schemas[fieldInputName(type)];
        expect(Object.keys(schema.properties).sort(), type).toEqual(
          ['name', 'type', 'displayName', 'description', 'required', 'secured', ...FIELD_TYPES[type].options].sort(),
        );
        expect(schema.properties.type).toEqual({ const: type });
      }
      // each metadata body route names its schema
      const ops = new Map(operations(doc).map((o) => [`${o.method.toUpperCase()} ${o.path}`, o.op]));
      for (const [key, name] of [
        ['POST /api/metadata/entities', 'EntityInput'],
        ['PATCH /api/metadata/entities/{name}', 'EntityChange'],
        ['POST /api/metadata/entities/{name}/fields', 'FieldInput'],
        ['PATCH /api/metadata/entities/{name}/fields/{field}', 'FieldChange'],
        ['POST /api/metadata/entities/{name}/keys', 'AlternateKeyInput'],
        ['POST /api/metadata/entities/{name}/indexes', 'IndexInput'],
        ['POST /api/metadata/relationships', 'RelationshipInput'],
        ['POST /api/metadata/choice-sets', 'ChoiceSetInput'],
        ['PATCH /api/metadata/choice-sets/{name}', 'ChoiceSetChange'],
      ] as const) {
        expect(ops.get(key)!.requestBody.content['application/json'].schema, key).toEqual({
          $ref: `#/components/schemas/${name}`,
        });
      }

      // what the document refuses, the service refuses, at the same path
      const schema = componentValidator(doc);
      const options = (n: number) => Array.from({ length: n }, (_, i) => ({ value: `v${i}`, label: `V${i}` }));
      const refused: [string, string, Json, string][] = [
        [
          '/api/metadata/choice-sets',
          'ChoiceSetInput',
          { name: 'too_many', options: options(MAX_CHOICE_OPTIONS + 1) },
          '/options',
        ],
        ['/api/metadata/choice-sets', 'ChoiceSetInput', { name: 'no_options', options: [] }, '/options'],
        [
          '/api/metadata/entities/employee/fields',
          'FieldInput',
          { name: 'flag', type: 'boolean', maxLength: 5 },
          '/maxLength',
        ],
        [
          '/api/metadata/entities/employee/fields',
          'DecimalFieldInput',
          { name: 'amount', type: 'decimal', precision: 39 },
          '/precision',
        ],
        ['/api/metadata/entities/employee/keys', 'AlternateKeyInput', { name: 'by_email', fields: [] }, '/fields'],
        ['/api/metadata/entities/employee/indexes', 'IndexInput', { fields: ['email', 'email'] }, '/fields'],
        [
          '/api/metadata/relationships',
          'RelationshipInput',
          { name: 'links', type: 'oneToMany', from: 'employee', to: 'asset' },
          '/type',
        ],
        ['/api/metadata/entities', 'EntityInput', { name: 'gizmo', colour: 'red' }, '/colour'],
      ];
      for (const [url, name, body, path] of refused) {
        expect(schema(name)(body), `${name} ${JSON.stringify(body).slice(0, 80)}`).toBe(false);
        expectProblem(await http().post(url, body), 400, 'XRM_ERR_METADATA_INVALID', path);
      }
      expect(schema('ChoiceSetInput')({ name: 'just_enough', options: options(MAX_CHOICE_OPTIONS) })).toBe(true);
    },
  );

  it('replaces the generic data routes by concrete paths and schemas for every entity', async () => {
    const doc = await document();
    expect(Object.keys(doc.paths).filter((p) => p.includes('{entity}') || p.includes('{relation}'))).toEqual([]);
    for (const entity of fixtureEntities) {
      const type = pascal(entity.name);
      const collection = doc.paths[`/api/data/${entity.name}`];
      const record = doc.paths[`/api/data/${entity.name}/{id}`];
      expect(Object.keys(collection).sort()).toEqual(['get', 'post']);
      expect(Object.keys(record).sort()).toEqual(['delete', 'get', 'patch']);
      expect(collection.get.parameters.map((p: Json) => `${p.in}:${p.name}`)).toEqual(
        ['select', 'expand', 'filter', 'search', 'sort', 'limit', 'offset', 'cursor', 'count'].map((n) => `query:${n}`),
      );
      expect(Object.keys(doc.paths[`/api/data/${entity.name}/aggregate`])).toEqual(['get']);
      expect(collection.get.responses['200'].content['application/json'].schema.$ref).toBe(
        `#/components/schemas/${type}Page`,
      );
      expect(collection.post.requestBody.content['application/json'].schema.$ref).toBe(
        `#/components/schemas/${type}Create`,
      );
      expect(collection.post.responses['201'].headers.Location).toBeDefined();
      expect(record.patch.requestBody.content['application/json'].schema.$ref).toBe(
        `#/components/schemas/${type}Update`,
      );
      expect(record.get.parameters).toEqual([
        expect.objectContaining({ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }),
        expect.objectContaining({ name: 'select', in: 'query' }),
        expect.objectContaining({ name: 'expand', in: 'query' }),
        expect.objectContaining({ name: 'If-None-Match', in: 'header' }),
      ]);
      expect(record.patch.parameters.map((p: Json) => `${p.in}:${p.name}`)).toEqual([
        'path:id',
        'query:select',
        'header:If-Match',
        'header:Prefer',
      ]);
      expect(Object.keys(record.patch.responses)).toEqual(expect.arrayContaining(['200', '204', '412']));
      expect(collection.post.parameters.map((p: Json) => `${p.in}:${p.name}`)).toEqual([
        'query:select',
        'header:Prefer',
      ]);
      expect(doc.paths[`/api/data/${entity.name}/bulk`].post.requestBody.content['application/json'].schema.$ref).toBe(
        '#/components/schemas/BulkRequest',
      );
      expect(Object.keys(record.delete.responses)).toContain('204');

      // the component schemas are the entity's JSON Schemas, less $schema and $id
      for (const [variant, name] of [
        ['read', type],
        ['create', `${type}Create`],
        ['update', `${type}Update`],
      ] as const) {
        const { $schema, $id, ...schema } = (
          await http().get(`/api/metadata/entities/${entity.name}/schema?variant=${variant}`)
        ).body;
        expect($schema).toBe('https://json-schema.org/draft/2020-12/schema');
        expect($id).toBeTruthy();
        expect(doc.components.schemas[name]).toEqual(schema);
      }
      expect(doc.components.schemas[`${type}Page`]).toMatchObject({
        type: 'object',
        properties: {
          data: { type: 'array', items: { $ref: `#/components/schemas/${type}` } },
          totalCount: { type: 'integer' },
          nextCursor: { type: 'string' },
        },
        required: ['data'],
      });
    }
    // navigations: one-to-many inverses (named and default), many-to-many on both sides
    expect(
      doc.paths['/api/data/employee/{id}/reports'].get.responses['200'].content['application/json'].schema.$ref,
    ).toBe('#/components/schemas/EmployeePage');
    expect(
      doc.paths['/api/data/employee/{id}/assets'].get.responses['200'].content['application/json'].schema.$ref,
    ).toBe('#/components/schemas/AssetPage');
    expect(doc.paths['/api/data/asset/{id}/iot_devices'].get.operationId).toBe('listAssetIotDevices');
    expect(doc.paths['/api/data/employee/{id}/reports'].post).toBeUndefined();
    for (const [side, other] of [
      ['supplier', 'Asset'],
      ['asset', 'Supplier'],
    ]) {
      const nav = doc.paths[`/api/data/${side}/{id}/supplier_assets`];
      expect(nav.get.responses['200'].content['application/json'].schema.$ref).toBe(
        `#/components/schemas/${other}Page`,
      );
      expect(nav.post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/RecordReference');
      expect(nav.post.responses['204']).toBeDefined();
      const unlink = doc.paths[`/api/data/${side}/{id}/supplier_assets/{otherId}`].delete;
      expect(unlink.parameters.map((p: Json) => p.name)).toEqual(['id', 'otherId']);
      expect(unlink.responses['204']).toBeDefined();
    }
  });

  it('documents problem responses on every operation, with unique operation ids', async () => {
    const doc = await document();
    expect(doc.components.schemas.Problem).toMatchObject({
      type: 'object',
      required: ['type', 'title', 'status', 'detail', 'code'],
    });
    expect(doc.components.schemas.Problem.properties.code.enum).toEqual(Object.keys(ERROR_CODES));
    const ids = new Set<string>();
    for (const { path, method, op } of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.operationId, where).toMatch(/^[a-zA-Z][a-zA-Z0-9]*$/);
      expect(ids.has(op.operationId), `${where}: duplicate ${op.operationId}`).toBe(false);
      ids.add(op.operationId);
      const statuses = Object.keys(op.responses);
      expect(
        statuses.some((s) => /^2\d\d$/.test(s)),
        `${where} has a success response`,
      ).toBe(true);
      expect(statuses, where).toContain('500');
      for (const status of statuses.filter((s) => Number(s) >= 400)) {
        const content = op.responses[status].content;
        // health and GraphQL answer these in their own JSON formats
        if (['GET /health 503', 'GET /graphql 400', 'POST /graphql 400'].includes(`${where} ${status}`)) continue;
        expect(Object.keys(content), `${where} ${status}`).toEqual(['application/problem+json']);
        expect(content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });
      }
    }
    const data = doc.paths['/api/data/partner'];
    expect(Object.keys(data.post.responses)).toEqual(
      expect.arrayContaining(['201', '400', '404', '409', '422', '500']),
    );
    expect(Object.keys(doc.paths['/api/data/partner/{id}'].get.responses)).toEqual(
      expect.arrayContaining(['200', '400', '404', '500']),
    );
    expect(Object.keys(doc.paths['/api/data/employee/{id}'].delete.responses)).toEqual(
      expect.arrayContaining(['204', '404', '409']),
    );
  });

  it('describes what the data API really answers: records, pages and problems', async () => {
    const doc = await document();
    const schema = componentValidator(doc);
    const a = http();
    const boss = await a.post('/api/data/employee', { full_name: 'Ada', email: 'ada@example.com', salary: 1000.25 });
    const report = await a.post('/api/data/employee', {
      full_name: 'Bob',
      email: 'bob@example.com',
      manager: boss.body.id,
    });
    const partner = await a.post('/api/data/partner', {
      name: 'Contoso',
      region: 'emea',
      annual_revenue: 12.5,
      partner_since: '2020-02-29',
    });
    const device = await a.post('/api/data/iot_device', { name: 'D1', telemetry: [1, { on: true }] });
    for (const [reply, name] of [
      [boss, 'Employee'],
      [report, 'Employee'],
      [partner, 'Partner'],
      [device, 'IotDevice'],
    ] as const) {
      expect(reply.status).toBe(201);
      expect(schema(name)(reply.body), JSON.stringify(schema(name).errors)).toBe(true);
    }
    expect(schema('EmployeeCreate')({ full_name: 'X', email: 'x@example.com', nickname: 'x' })).toBe(false);
    const page = await a.get('/api/data/employee?limit=1&count=true');
    expect(page.body.nextCursor).toBeDefined();
    expect(schema('EmployeePage')(page.body), JSON.stringify(schema('EmployeePage').errors)).toBe(true);
    const reports = await a.get(`/api/data/employee/${boss.body.id}/reports`);
    expect(schema('EmployeePage')(reports.body)).toBe(true);
    const missing = await a.get('/api/data/partner/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(String(missing.headers['content-type'])).toContain('application/problem+json');
    expect(Object.keys(doc.paths['/api/data/partner/{id}'].get.responses)).toContain('404');
    expect(schema('Problem')(missing.body)).toBe(true);
    const invalid = await a.post('/api/data/partner', { name: 42 });
    expect(invalid.status).toBe(400);
    expect(schema('Problem')(invalid.body)).toBe(true);
  });

  it('reflects a metadata change at once, and is built once per schema version', async () => {
    const before = await document();
    const runtime = get().services.runtime;
    // cached for this version (no custom messages, no field hidden from the caller): never built again
    const cached = runtime.state.derived<string>('openapi.json::', () => {
      throw new Error('rebuilt although the schema did not change');
    });
    expect(JSON.parse(cached)).toEqual(before);

    const a = http();
    expect(
      (
        await a.post('/api/metadata/entities', {
          name: 'gadget',
          fields: [
            { name: 'label', type: 'text', required: true },
            { name: 'keeper', type: 'lookup', target: 'employee' },
          ],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await a.post('/api/metadata/entities/partner/fields', {
          name: 'color',
          type: 'choice',
          options: [{ value: 'red', label: 'Red' }],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await a.post('/api/metadata/relationships', {
          name: 'gadget_partners',
          type: 'manyToMany',
          from: 'gadget',
          to: 'partner',
        })
      ).status,
    ).toBe(201);

    const after = await document();
    expect(after.info['x-xrm-schema-version']).toBe(before.info['x-xrm-schema-version'] + 3);
    expect(before.paths['/api/data/gadget']).toBeUndefined();
    expect(Object.keys(after.paths['/api/data/gadget'])).toEqual(['get', 'post']);
    expect(after.components.schemas.GadgetCreate.required).toEqual(['label']);
    expect(after.components.schemas.Partner.properties.color).toMatchObject({
      type: ['string', 'null'],
      enum: ['red', null],
    });
    expect(before.components.schemas.Partner.properties.color).toBeUndefined();
    expect(
      after.paths['/api/data/employee/{id}/gadgets'].get.responses['200'].content['application/json'].schema.$ref,
    ).toBe('#/components/schemas/GadgetPage');
    expect(after.paths['/api/data/partner/{id}/gadget_partners/{otherId}'].delete).toBeDefined();
    expect((await validate(after)).valid).toBe(true);

    // the document @fastify/swagger generated (and caches) is left as it was
    const routes = get().app.swagger() as Json;
    expect(routes.paths['/api/data/{entity}']).toBeDefined();
    expect(routes.jsonSchemaDialect).toBeUndefined();

    expect((await a.delete('/api/metadata/relationships/gadget_partners')).status).toBe(204);
    expect((await a.delete('/api/metadata/entities/gadget')).status).toBe(204);
    const removed = await document();
    expect(removed.paths['/api/data/gadget']).toBeUndefined();
    expect(removed.components.schemas.Gadget).toBeUndefined();
    expect(removed.paths['/api/data/employee/{id}/gadgets']).toBeUndefined();
  });

  it('keeps platform schemas when an entity is named like one of them', async () => {
    const a = http();
    expect(
      (await a.post('/api/metadata/entities', { name: 'problem', fields: [{ name: 'summary', type: 'text' }] })).status,
    ).toBe(201);
    const doc = await document();
    expect(doc.components.schemas.Problem.properties.code).toBeDefined();
    expect(doc.components.schemas.ProblemRecord.properties.summary).toBeDefined();
    expect(doc.paths['/api/data/problem'].post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/ProblemRecordCreate',
    );
    expect((await validate(doc)).valid).toBe(true);
    expect((await a.delete('/api/metadata/entities/problem')).status).toBe(204);
  });
});
