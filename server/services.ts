import type { MetadataService } from '../metadata/service.ts';
import type { Database, Db } from '../metadata/database.ts';
import type { QueryService } from './query/query-service.ts';
import type { WritePipeline } from './records/pipeline.ts';
import type { RecordsService } from './records/service.ts';
import type { PluginHost } from '../plugins/host.ts';
import type { Runtime } from './runtime.ts';
import type { AuditTrail } from './audit/audit-trail.ts';
import type { Retention } from './retention.ts';
import type { JobQueue } from './jobs/queue.ts';
import type { JobWorker } from './jobs/worker.ts';
import type { IndexBuilder } from './jobs/index-builds.ts';
import type { WebhookService } from './webhooks/service.ts';
import type { IdentityService } from './security/identity.ts';
import type { AccessService } from './security/access.ts';
import type { Directory } from './security/directory.ts';
import type { Automation } from './automation/automation.ts';
import type { Relationships } from './relationships/relationships.ts';

/** The domain services the HTTP layers call. */
export interface Services {
  readonly database: Database;
  readonly db: Db;
  readonly runtime: Runtime;
  readonly metadata: MetadataService;
  /** The SQL of each write message; called by the pipeline only. */
  readonly records: RecordsService;
  /** The one door for writes: `execute(ctx, messages)`. */
  readonly pipeline: WritePipeline;
  readonly plugins: PluginHost;
  readonly query: QueryService;
  readonly audit: AuditTrail;
  readonly jobs: JobQueue;
  /** What is kept of jobs, logs and the audit trail, and for how long; pruned by the worker hourly. */
  readonly retention: Retention;
  /** This instance's job worker (absent when XRM_JOB_CONCURRENCY is 0). */
  readonly worker?: JobWorker;
  readonly webhooks: WebhookService;
  /** Users, sign-in sessions, API keys; resolves each request's principal. */
  readonly identity: IdentityService;
  /** Resolves what a request may do (roles, teams, attributes → policy). */
  readonly access: AccessService;
  /** Roles and teams. */
  readonly directory: Directory;
  /** Automation rules, their runs, the scheduler, suggestions and notifications. */
  readonly automation: Automation;
  /** Activities' timelines, relationship signals, alerts and the today list. */
  readonly relationships: Relationships;
  /** Builds of declared indexes over large tables by jobs (PostgreSQL only). */
  readonly indexBuilds?: IndexBuilder;
}
