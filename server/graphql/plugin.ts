/**
 * GraphQL at /graphql (mercurius). The schema is built per catalog version and set of custom
 * messages (cached on the ApiState) and swapped in by an onRequest hook on the first GraphQL
 * request after either moved, so a metadata change is served at once without a restart.
 * mercurius' replaceSchema clears its query and validation caches itself (mercurius 16 index.js,
 * `replaceSchema`).
 */
import { writeContext } from '../request-context.ts';
import type { FastifyInstance } from 'fastify';
import { validateSchema, type GraphQLSchema } from 'graphql';
import mercurius from 'mercurius';
import type { ApiState } from '../runtime.ts';
import type { Services } from '../services.ts';
import { createContext, type GraphqlContext } from './context.ts';
import { formatGraphqlErrors } from './errors.ts';
import { operationProblem, requestProblem } from './limits.ts';
import { LIMITS } from '../limits.ts';
import { XrmError } from '../../metadata/errors.ts';
import { buildGraphqlSchema } from './schema-builder.ts';
import { serveMasked } from './masked.ts';
import { answerDirectly } from './direct.ts';
import type { WriteMessage } from '../records/pipeline.ts';
import { type Access, NO_ACCESS } from '../security/access.ts';
import { catalogView, hiddenKey } from '../security/catalog-view.ts';
import { graphqlOperation } from '../openapi/graphql-operations.ts';

export const GRAPHQL_PATH = '/graphql';

export async function graphqlPlugin(
  app: FastifyInstance,
  { services, onGraphql }: { services: Services; onGraphql?: (graphql: FastifyInstance['graphql']) => void },
): Promise<void> {
  const { runtime, pipeline, query, db, plugins, audit, relationships } = services;
  const contexts = new WeakMap<object, GraphqlContext>();

  // Custom messages are part of the schema. Plugins register in start(), after this plugin built
  // its first schema (and possibly after the catalog loaded), so a schema is keyed by the catalog
  // version AND the enabled messages: the first request after start() builds one that has them.
  const messagesKey = () => plugins.messages.map((m) => m.name).join(',');
  const keyOf = (state: ApiState) => `${state.version}:${messagesKey()}`;
  /** The schema of the catalog, or of a caller's view of it (`hidden`: the secured fields it lacks). */
  const schemaOf = (state: ApiState, access?: Access, hidden = ''): GraphQLSchema =>
    state.derived(`graphql:${messagesKey()}:${hidden}`, () => {
      const catalog = hidden ? catalogView(state, access) : state.catalog;
      const schema = buildGraphqlSchema(catalog, {
        warn: (message) => app.log.warn({ schemaVersion: catalog.version }, message),
        messages: plugins.messages,
      });
      const problems = validateSchema(schema);
      if (problems.length)
        throw new AggregateError(problems, `invalid GraphQL schema: ${problems.map((p) => p.message).join('; ')}`);
      return schema;
    });

  let served = '';
  // Built lazily, on the first GraphQL request after a metadata change: a burst of changes (or
  // an instance that never serves GraphQL) builds no schema it does not need.
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.url !== GRAPHQL_PATH) return;
    const state = runtime.state;
    const key = keyOf(state);
    if (key === served) return;
    try {
      app.graphql.replaceSchema(schemaOf(state));
      served = key;
    } catch (err) {
      // a schema that cannot be built must not take GraphQL down: the previous one keeps serving
      app.log.error({ err, schemaVersion: state.version }, 'GraphQL schema not rebuilt; serving the previous version');
    }
  });

  // a caller whose roles hide secured fields gets the schema of their view of the catalog (masked.ts)
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.url !== GRAPHQL_PATH || !request.access || reply.sent) return;
    const state = runtime.state;
    const hidden = hiddenKey(request.access, state.catalog);
    if (!hidden) return;
    return serveMasked(app, request, reply, schemaOf(state, request.access, hidden), () => {
      const context = createContext(db, pipeline, query, writeContext(request), audit, relationships);
      contexts.set(request, context);
      return context;
    });
  });

  // a read of a record's or a page's stored values is answered with its statement's JSON, a
  // create selecting its own fields with the written record (direct.ts)
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.url !== GRAPHQL_PATH || reply.sent) return;
    const write = (messages: readonly WriteMessage[]) => pipeline.execute(writeContext(request), messages);
    if (await answerDirectly(request, reply, app.graphql.schema, query, write)) return reply;
  });

  // a body GraphQL cannot even parse (a number for "query", a megabyte of text) is a 400 in
  // GraphQL's own response shape, before validation coerces it and mercurius looks at it
  app.addHook('preValidation', async (request, reply) => {
    if (request.method !== 'POST') return;
    const problem = requestProblem(request.body);
    if (!problem) return;
    const error = new XrmError('XRM_ERR_REQUEST_INVALID', problem, {
      errors: [{ path: '/body/query', message: problem }],
    });
    return reply
      .code(400)
      .send({ errors: [{ message: problem, extensions: { code: error.code, status: 400, errors: error.errors } }] });
  });
  // whatever ended the request (a thrown error, a closed socket), no transaction stays open
  app.addHook('onResponse', async (request) => {
    await contexts
      .get(request)
      ?.finish('rollback')
      .catch((err: unknown) => request.log.warn({ err }, 'GraphQL rollback failed'));
  });

  // mercurius' routes get their OpenAPI operations as it registers them
  app.addHook('onRoute', (route) => {
    if (route.url === GRAPHQL_PATH) route.schema = { ...route.schema, ...graphqlOperation(route.method) };
  });

  const initial = runtime.state;
  served = keyOf(initial);
  await app.register(mercurius, {
    schema: schemaOf(initial),
    path: GRAPHQL_PATH,
    graphiql: false,
    // No graphql-jit: compiling an operation whose variables use the recursive filter input types
    // took seconds of blocked event loop (every other request, /health included, waited). Reads
    // are one SQL statement either way; graphql-js' interpreter costs little next to it.
    context: (request) => {
      // a request refused before its credentials were checked (a rate limit) still gets a context
      // to format its error with: one that may do nothing
      const writer = request.access
        ? writeContext(request)
        : { principal: NO_ACCESS.principal, access: NO_ACCESS, correlationId: request.id, log: request.log };
      const context = createContext(db, pipeline, query, writer, audit, relationships);
      contexts.set(request, context);
      return context;
    },
    errorFormatter: formatGraphqlErrors,
    graphql: { parseOptions: { maxTokens: LIMITS.graphqlTokens } },
  });
  app.graphql.addHook('preValidation', async (_schema, document) => {
    const problem = operationProblem(document);
    if (problem)
      throw new XrmError('XRM_ERR_QUERY_INVALID', problem, { errors: [{ path: '/body/query', message: problem }] });
  });
  onGraphql?.(app.graphql);
  // a mutation operation commits only when every field succeeded (see context.ts)
  app.graphql.addHook('onResolution', async (execution, context) => {
    await (context as unknown as GraphqlContext).finish(execution.errors?.length ? 'rollback' : 'commit');
  });
}
