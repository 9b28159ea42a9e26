/**
 * Assembles the platform: database, migrations, live catalog, services, and the HTTP surface
 * (metadata API, data API, GraphQL, OpenAPI, health) as encapsulated Fastify plugins.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { DestinationStream } from 'pino';
import { MetadataService } from '../metadata/service.ts';
import type { Config } from './config.ts';
import { loggingOptions } from './logging.ts';
import { migrateToLatest, openDatabase, type Database } from '../metadata/database.ts';
import { adminPlugin } from './admin/plugin.ts';
import { explorerPlugin } from './explorer/plugin.ts';
import {
  clientErrorHandler,
  frameworkErrors,
  installBodyParsers,
  installErrorHandling,
  sendProblem,
} from './error-handler.ts';
import { LIMITS } from './limits.ts';
import { graphqlPlugin } from './graphql/plugin.ts';
import { jsonResponse } from './openapi/responses.ts';
import { openapiRoutes } from './openapi/routes.ts';
import { QueryService } from './query/query-service.ts';
import { RecordsService } from './records/service.ts';
import { dataRoutes } from './rest/data-routes.ts';
import { metadataRoutes } from './rest/metadata-routes.ts';
import { Runtime } from './runtime.ts';
import type { Services } from './services.ts';
import { Retention } from './retention.ts';
import type { Plugin } from '../plugins/api.ts';
import { PluginHost } from '../plugins/host.ts';
import { WritePipeline } from './records/pipeline.ts';
import { loadPlugins } from './plugin-loader.ts';
import { pluginRoutes } from './rest/plugin-routes.ts';
import { XrmError } from '../metadata/errors.ts';
import { AuditTrail } from './audit/audit-trail.ts';
import { AsyncSteps } from './jobs/async-steps.ts';
import { type Job, JobQueue } from './jobs/queue.ts';
import { JobWorker } from './jobs/worker.ts';
import { IndexBuilder } from './jobs/index-builds.ts';
import { WebhookService } from './webhooks/service.ts';
import { parseAllowList } from './webhooks/ssrf.ts';
import { jobRoutes } from './rest/job-routes.ts';
import { webhookRoutes } from './rest/webhook-routes.ts';
import { automationRoutes } from './rest/automation-routes.ts';
import { Automation } from './automation/automation.ts';
import { AUTOMATION_PLUGIN, EventRules } from './automation/event-rules.ts';
import { Inbox } from './automation/inbox.ts';
import { Mailer } from './automation/mailer.ts';
import { RuleService } from './automation/rules.ts';
import { AutomationRunner } from './automation/runner.ts';
import { Scheduler } from './automation/scheduler.ts';
import { type Clock, SYSTEM_CLOCK } from './automation/time.ts';
import { ActivityLinks, ActivityPreparer } from './relationships/activities.ts';
import { Relationships } from './relationships/relationships.ts';
import { ActivityImporter } from './relationships/importer.ts';
import { relationshipRoutes } from './rest/relationship-routes.ts';
import { messageRoutes } from './rest/message-routes.ts';
import { definePlugin } from '../plugins/api.ts';
import { IdentityService } from './security/identity.ts';
import { AccessService, forgetAfter } from './security/access.ts';
import { Directory } from './security/directory.ts';
import { roleRoutes, teamRoutes } from './security/directory-routes.ts';
import { Sharing } from './security/sharing.ts';
import { sharingRoutes } from './security/sharing-routes.ts';
import { installPrincipalResolution } from './security/principal-hook.ts';
import { installHardening } from './hardening.ts';
import { apiKeyRoutes, authRoutes } from './security/auth-routes.ts';
import { userRoutes } from './security/user-routes.ts';
import { lazyValidators } from './lazy-validators.ts';

export interface Platform {
  readonly app: FastifyInstance;
  readonly services: Services;
  /** Users, sessions and API keys (issue 8, slice 1). */
  /** Connects, migrates and loads the catalog; /health answers 503 until this resolves. */
  start(): Promise<void>;
  /** Stops accepting requests, lets in-flight ones finish, then closes the database. */
  close(): Promise<void>;
}

export interface BuildOptions {
  /** An already open database (tests share one across instances); otherwise opened from config. */
  database?: Database;
  /** Observes every SQL statement sent (tests count statements per request). */
  onQuery?: (sql: string, parameters: readonly unknown[]) => void;
  /** Where the JSON log lines go instead of stdout (tests read them). */
  logStream?: DestinationStream;
  /** Plugins to register at start (plugin modules from a folder or packages come with plugin loading). */
  plugins?: readonly Plugin[];
  /** The clock automation rules read (`now`, olderThan, schedules); tests move it instead of sleeping. */
  clock?: Clock;
  /** Observes the GraphQL server once registered (tests add mercurius hooks to see what executes). */
  onGraphql?: (graphql: FastifyInstance['graphql']) => void;
}

export async function buildPlatform(config: Config, options: BuildOptions = {}): Promise<Platform> {
  const validators = lazyValidators();
  // a hop count as the function Fastify makes of one (its types leave the number out)
  const trusted = config.trustProxy;
  const trustProxy = typeof trusted === 'number' ? (_address: string, hop: number) => hop < trusted : trusted;
  const app = Fastify({
    ...loggingOptions(config, options.logStream),
    bodyLimit: LIMITS.bodyBytes,
    trustProxy,
    http: { maxHeaderSize: LIMITS.headerBytes },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: true } },
    schemaController: { compilersFactory: { buildValidator: validators.buildValidator } },
    frameworkErrors,
    clientErrorHandler,
  });
  installBodyParsers(app);
  const database =
    options.database ??
    openDatabase(config, {
      onConnectionError: (err) => app.log.warn({ err }, 'database connection lost; the pool replaces it'),
      onQuery: options.onQuery,
    });
  const runtime = new Runtime(database, app.log);
  const jobs = new JobQueue(database.db, { ...config.jobs, backoffCapMs: 3_600_000 });
  // PGlite builds every declared index in its change; PostgreSQL builds a large table's by a job
  const indexBuilds =
    database.kind === 'postgres' ? new IndexBuilder(database.db, jobs, config.indexConcurrentRows, app.log) : undefined;
  const metadata = new MetadataService(database.db, (version) => runtime.reload({ atLeast: version }), {
    indexBuilds,
    lockTimeoutMs: config.ddlLockTimeoutMs,
  });
  indexBuilds?.connect(metadata);
  const records = new RecordsService(database, runtime, { createBatchRows: config.createBatchRows });
  const query = new QueryService(database, runtime, config.maxPageSize);
  const plugins = new PluginHost(() => runtime.state.catalog.disabledPlugins);
  const pipeline = new WritePipeline(database.db, records, plugins, runtime, config.pluginTimeoutMs);
  pipeline.connect(query);
  const budgets = {
    step: config.pluginTimeoutMs,
    webhook: config.webhookTimeoutMs + 1000,
    automation: Math.max(30_000, config.pluginTimeoutMs * 4),
    email: 60_000,
    call: config.webhookTimeoutMs + 1000,
    // an import streams its whole file; its lease is renewed while it runs
    import: 6 * 3_600_000,
    // CREATE INDEX CONCURRENTLY over a large table; cancelled past it
    index: 6 * 3_600_000,
  };
  const retention = new Retention(
    database.db,
    jobs,
    { jobsDays: config.jobs.retentionDays, logDays: config.logRetentionDays, auditDays: config.auditRetentionDays },
    app.log,
  );
  const worker =
    config.jobs.concurrency > 0
      ? new JobWorker(jobs, app.log, {
          concurrency: config.jobs.concurrency,
          pollMs: config.jobs.pollMs,
          noticesHeard: () => runtime.noticesHeard,
          budgets,
          housekeeping: (signal) => retention.prune(signal),
        })
      : undefined;
  const audit = new AuditTrail(database.db);
  const asyncSteps = new AsyncSteps(database.db, plugins, jobs, app.log);
  asyncSteps.connect(pipeline);
  const webhooks = new WebhookService(database.db, runtime, metadata, query, jobs, {
    allow: parseAllowList(config.webhookAllowHosts),
    timeoutMs: config.webhookTimeoutMs,
  });
  for (const consumer of [audit, asyncSteps, webhooks]) pipeline.addConsumer(consumer);
  if (worker) {
    asyncSteps.onQueued = () => worker.wake();
    webhooks.onQueued = () => worker.wake();
    runtime.onJobsQueued(() => worker.wake());
    worker.handle('step', (job, run) => asyncSteps.run(job, run));
    worker.handle('webhook', (job, run) => webhooks.deliverJob(job, run));
    if (indexBuilds)
      worker.handle(
        'index',
        (job, run) => indexBuilds.run(job, run),
        (job) => indexBuilds.dead(job),
      );
  }
  const access = new AccessService(database, runtime, query);
  const directory = new Directory(database.db, runtime, access);
  // a schema change that would break a role's row rule is refused (and roles follow what it removes)
  metadata.addGuard(directory.guardSchemaChange);
  // async steps act as the caller of the write they follow, with the roles they hold when they run
  asyncSteps.resolveAccess = (principal) => access.forPrincipal(principal);
  const identity = new IdentityService(database.db, config.sessionTtlMinutes * 60_000, directory);
  // what changes who may do what, whichever door it comes through (the HTTP routes, a plugin, a test)
  forgetAfter(
    directory,
    ['createRole', 'replaceRole', 'deleteRole', 'createTeam', 'updateTeam', 'deleteTeam', 'assign'],
    access,
  );
  forgetAfter(identity, ['updateUser', 'logout', 'setDisabled', 'changePassword', 'revokeApiKey'], access);
  const clock = options.clock ?? SYSTEM_CLOCK;
  const allow = parseAllowList(config.webhookAllowHosts);
  const rules = new RuleService(runtime, metadata, query, plugins, allow, clock);
  const events = new EventRules(jobs, query, clock, !database.pool);
  const mailer = config.smtpUrl ? new Mailer(config.smtpUrl, config.smtpFrom) : undefined;
  const runner = new AutomationRunner({
    db: database.db,
    runtime,
    pipeline,
    query,
    access,
    rules,
    queue: jobs,
    host: plugins,
    clock,
    log: app.log,
    mailer,
    allow,
    webhookTimeoutMs: config.webhookTimeoutMs,
  });
  const scheduler = new Scheduler(database.db, jobs, clock, app.log);
  // the relationship layer: activities resolve their parties, and every activity write keeps the
  // links and signals of the records it concerns current, in its own transaction
  const relationships = new Relationships(database.db, runtime, query, pipeline, rules, clock);
  pipeline.addPreparer(new ActivityPreparer(runtime, config.activityBodies));
  pipeline.addConsumer(new ActivityLinks(clock));
  metadata.addGuard(relationships.guardSchemaChange);
  scheduler.beforeTick = () => relationships.refreshDue();
  const importer = new ActivityImporter(config.dataDir, jobs, relationships, access, app.log);
  const automation = new Automation(rules, events, runner, scheduler, new Inbox(database.db, runner));
  pipeline.addConsumer(events);
  // a schema change that breaks a rule turns it invalid (and the change's answer says so)
  metadata.addGuard(rules.guardSchemaChange);
  if (worker) {
    for (const source of [events, runner, scheduler]) source.onQueued = () => worker.wake();
    const dead = (job: Job) => runner.deadLettered(job);
    worker.handle('automation', (job, run) => runner.runJob(job, run), dead);
    worker.handle('email', (job) => runner.sendEmail(job), dead);
    worker.handle('call', (job) => runner.call(job), dead);
    worker.handle(
      'import',
      (job, run) => importer.run(job, run),
      (job) => importer.dead(job),
    );
    importer.onQueued = () => worker.wake();
  }
  const services: Services = {
    database,
    db: database.db,
    runtime,
    metadata,
    records,
    query,
    pipeline,
    plugins,
    audit,
    jobs,
    retention,
    worker,
    webhooks,
    identity,
    access,
    directory,
    automation,
    relationships,
    indexBuilds,
  };
  let ready = false;

  installErrorHandling(app);
  app.addHook('onRequest', async (request, reply) => {
    if (!ready && !request.url.startsWith('/health')) {
      return sendProblem(
        reply,
        new XrmError('XRM_ERR_SERVICE_UNAVAILABLE', 'The platform is starting; retry shortly', { retryAfter: 1 }),
        request.url,
      );
    }
  });
  await installHardening(app, config);
  installPrincipalResolution(app, identity, access);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'xrm-platform',
        version: '0.1.0',
        description: 'Metadata API and auto-generated data API of xrm-platform.',
      },
      tags: [
        { name: 'metadata', description: 'Entities, fields, relationships, choice sets, schema-change ledger' },
        { name: 'data', description: 'Records of every entity' },
        { name: 'system', description: 'Health and API documents' },
        { name: 'plugins', description: 'Plugins and the steps they run on the write pipeline' },
        { name: 'messages', description: 'Custom messages plugins define (Dataverse custom APIs)' },
        { name: 'jobs', description: 'The durable job queue: async plugin steps and webhook deliveries' },
        { name: 'webhooks', description: 'Standard Webhooks subscriptions, signing secrets and delivery logs' },
        { name: 'automation', description: 'Automation rules, their runs and health; suggestions and notifications' },
        {
          name: 'relationships',
          description: 'Activities, timelines, relationship signals with their formula, alerts and the today list',
        },
        { name: 'auth', description: 'Users, sign-in sessions (bearer token and admin UI cookie) and API keys' },
      ],
    },
  });

  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Ready when the database is reachable and migrations are applied',
        operationId: 'getHealth',
        'x-xrm-operation': {
          responses: {
            '200': jsonResponse('Ready: the database answers and migrations are applied', 'Health'),
            '503': jsonResponse('Starting, or the database is unreachable', 'Health'),
          },
          errors: [],
        },
      },
    },
    async (_req, reply) => {
      if (!ready) return reply.code(503).send({ status: 'starting' });
      try {
        await database.db.selectNoFrom((eb) => eb.lit(1).as('ok')).execute();
      } catch {
        return reply.code(503).send({ status: 'database unreachable' });
      }
      return { status: 'ok', database: database.kind, schemaVersion: runtime.state.version };
    },
  );

  await app.register(metadataRoutes, { prefix: '/api/metadata', services });
  await app.register(dataRoutes, { prefix: '/api/data', services });
  await app.register(pluginRoutes, { prefix: '/api/plugins', services });
  await app.register(messageRoutes, { prefix: '/api/messages', services });
  await app.register(jobRoutes, { prefix: '/api/jobs', services });
  await app.register(webhookRoutes, { prefix: '/api/webhooks', services });
  await app.register(authRoutes, { prefix: '/api/auth', identity, services });
  await app.register(apiKeyRoutes, { prefix: '/api/api-keys', identity });
  await app.register(userRoutes, { prefix: '/api/users', identity });
  await app.register(roleRoutes, { prefix: '/api/roles', directory });
  await app.register(teamRoutes, { prefix: '/api/teams', directory });
  await app.register(sharingRoutes, { prefix: '/api', sharing: new Sharing(database.db, runtime), access });
  await app.register(automationRoutes, { prefix: '/api', automation });
  await app.register(relationshipRoutes, {
    prefix: '/api',
    services,
    importer,
    maxImportBytes: config.importMaxBytes,
  });
  await app.register(openapiRoutes, { services });
  await app.register(graphqlPlugin, { services, onGraphql: options.onGraphql });
  await app.register(adminPlugin, { prefix: '/admin' });
  await app.register(explorerPlugin);

  let closing: Promise<void> | undefined;
  return {
    app,
    services,
    async start() {
      await migrateToLatest(database.db);
      await identity.ensureFirstAdmin(config.adminEmail, config.adminPassword, app.log);
      const setupToken = await identity.setupToken();
      if (setupToken) {
        const setupUrl = `http://${config.host}:${config.port}/admin/setup?token=${setupToken}`;
        app.log.warn({ setupUrl }, `No user exists yet: open ${setupUrl} to create the first administrator`);
      }
      await runtime.reload({ force: true });
      await runtime.watch(config.schemaPollMs);
      // the built-in consumers of the pipeline's changes, listed beside outside plugins
      const builtIns: Record<string, string> = {
        audit: 'Appends every change of entities with auditEnabled to the append-only audit trail',
        webhooks: 'Queues a signed Standard Webhooks delivery for every change a subscription matches',
        [AUTOMATION_PLUGIN]: 'Runs automation rules: event rules on every matching change, schedules, manual runs',
      };
      for (const [name, description] of Object.entries(builtIns)) {
        await plugins.register(definePlugin({ name, version: '1.0.0', description, setup() {} }), app.log, {
          builtIn: true,
        });
      }
      for (const plugin of options.plugins ?? []) await plugins.register(plugin, app.log);
      for (const plugin of await loadPlugins(config, app.log)) await plugins.register(plugin, app.log);
      worker?.start();
      scheduler.start(config.automationTickMs);
      ready = true;
      // the route schemas no request has needed yet (lazy-validators.ts)
      validators
        .warm(() => closing !== undefined)
        .catch((err: unknown) => app.log.error({ err }, 'a route schema does not compile'));
    },
    close() {
      closing ??= (async () => {
        ready = false;
        await app.close();
        await scheduler.stop();
        await worker?.stop();
        mailer?.close();
        await runtime.close();
        if (!options.database) await database.close();
      })();
      return closing;
    },
  };
}
