import { dirname, join, resolve } from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** `json`: one pino object a line (log collectors); `pretty`: human-readable lines (pino-pretty). */
export type LogFormat = 'pretty' | 'json';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** PostgreSQL connection string; unset means embedded PGlite in `dataDir`. */
  readonly databaseUrl?: string;
  /** PGlite data folder; `memory://` keeps it in memory (tests). */
  readonly dataDir: string;
  /** XRM_PGLITE_COMPILER: how PGlite's WebAssembly is compiled (database.ts). */
  readonly pgliteCompiler: 'baseline' | 'optimizing';
  readonly logLevel: LogLevel;
  /** XRM_LOG_FORMAT; by default `pretty` when stdout is a terminal and `json` otherwise. */
  readonly logFormat: LogFormat;
  /** Largest page a list request may ask for. */
  readonly maxPageSize: number;
  /**
   * Concurrent single creates of one shape that may share a statement (XRM_CREATE_BATCH_ROWS, default
   * 64; 1 sends every create alone). See server/records/create-batches.ts.
   */
  readonly createBatchRows: number;
  /** Safety-net interval for the schema version check across instances (PostgreSQL only). */
  readonly schemaPollMs: number;
  /** Budget of one plugin step; a step that takes longer aborts its operation. */
  readonly pluginTimeoutMs: number;
  /** A folder whose modules (.js, .mjs) are plugins, loaded at start; missing is fine. */
  readonly pluginsDir: string;
  /** npm packages that are plugins, loaded at start. */
  readonly pluginPackages: readonly string[];
  /** The durable job queue (async steps, webhook deliveries). */
  readonly jobs: {
    /** Attempts before a job is dead-lettered (XRM_JOB_MAX_ATTEMPTS). */
    readonly maxAttempts: number;
    /** A claim's lease, renewed while the job runs; a killed worker's job runs again after it (XRM_JOB_LEASE_MS). */
    readonly leaseMs: number;
    /** First retry delay, doubled per attempt with jitter (XRM_JOB_BACKOFF_MS), capped at one hour. */
    readonly backoffMs: number;
    /** Poll of the queue while notices are not heard (XRM_JOB_POLL_MS); workers also wake on commits and notices. */
    readonly pollMs: number;
    /** Jobs one instance runs at once (XRM_JOB_CONCURRENCY); 0 runs no worker here. */
    readonly concurrency: number;
    /** Days a succeeded job is kept (XRM_JOB_RETENTION_DAYS; 0: none); failed and dead ones stay until retried. */
    readonly retentionDays: number;
  };
  /** Hosts, addresses or CIDR ranges webhooks may target although internal (XRM_WEBHOOK_ALLOW_HOSTS). */
  readonly webhookAllowHosts?: string;
  /** One delivery attempt's budget (XRM_WEBHOOK_TIMEOUT_MS). */
  readonly webhookTimeoutMs: number;
  /** The SMTP transport of rules' email actions (XRM_SMTP_URL, e.g. smtp://user:pass@host:587); unset: no email. */
  readonly smtpUrl?: string;
  /** The From of those emails (XRM_SMTP_FROM). */
  readonly smtpFrom: string;
  /** How often the scheduler looks for schedule rules that came due (XRM_AUTOMATION_TICK_MS; 0: never). */
  readonly automationTickMs: number;
  /** Whether activities keep their bodies (XRM_ACTIVITY_BODIES=off: metadata only, no body is ever stored). */
  readonly activityBodies: boolean;
  /** The largest activity import file (XRM_IMPORT_MAX_BYTES, default 2 GiB). */
  readonly importMaxBytes: number;
  /** First run: the administrator created when no user exists (XRM_ADMIN_EMAIL, XRM_ADMIN_PASSWORD). */
  readonly adminEmail?: string;
  readonly adminPassword?: string;
  /** How long a sign-in session lasts (XRM_SESSION_TTL_MINUTES). */
  readonly sessionTtlMinutes: number;
  /** Exact origins (`https://app.example.com`) a browser may call the API from, with credentials (XRM_CORS_ORIGINS). */
  readonly corsOrigins: readonly string[];
  /**
   * Which proxies in front of the server to believe (XRM_TRUST_PROXY, Fastify's `trustProxy`): the
   * client's address comes from their X-Forwarded-For (rate limits, logs) and the scheme from their
   * X-Forwarded-Proto (the session cookie's Secure). `false` (default): none, the peer's address is
   * the client's; `true`: any; a number: that many hops; otherwise addresses or CIDR ranges.
   */
  readonly trustProxy: boolean | number | string;
  /** Requests one client address may send a minute (XRM_RATE_LIMIT_PER_MINUTE); 0 turns the limit off. */
  readonly rateLimitPerMinute: number;
  /** Sign-in and setup attempts a minute per address and email (XRM_LOGIN_RATE_LIMIT_PER_MINUTE); 0 turns it off. */
  readonly loginRateLimitPerMinute: number;
  /** PostgreSQL cancels a request's statement running longer (XRM_STATEMENT_TIMEOUT_MS); 0 = no limit. */
  readonly statementTimeoutMs: number;
  /**
   * From this many estimated rows, a declared index is built CONCURRENTLY by a job instead of in its
   * change (XRM_INDEX_CONCURRENT_ROWS; PostgreSQL only: PGlite builds every index in the change).
   */
  readonly indexConcurrentRows: number;
  /**
   * How long a schema change waits for a lock on a table that another transaction or an index
   * build holds (XRM_DDL_LOCK_TIMEOUT_MS) before it is refused with 409 XRM_ERR_METADATA_BUSY; while
   * it waits, every read and write of that table queues behind it. 0: wait as long as it takes.
   */
  readonly ddlLockTimeoutMs: number;
  /** Connections of the PostgreSQL pool that serves requests (XRM_DATABASE_POOL_SIZE). */
  readonly databasePoolSize: number;
  /** Days audit entries are kept (XRM_AUDIT_RETENTION_DAYS); 0, the default: for ever. See server/retention.ts. */
  readonly auditRetentionDays: number;
  /** Days webhook deliveries, automation runs and ended sessions are kept (XRM_LOG_RETENTION_DAYS); 0: for ever. */
  readonly logRetentionDays: number;
}

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const FORMATS: readonly LogFormat[] = ['pretty', 'json'];

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

/** XRM_TRUST_PROXY as Fastify's `trustProxy`: a boolean, a hop count, or addresses and CIDR ranges. */
function trustProxyFrom(raw: string | undefined): boolean | number | string {
  const value = (raw ?? '').trim();
  if (value === '' || value.toLowerCase() === 'false') return false;
  if (value.toLowerCase() === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // proxy-addr's forms: an address, a CIDR range, or one of its names (loopback, linklocal, uniquelocal)
  const valid = /^(loopback|linklocal|uniquelocal|[0-9a-fA-F:.]+(\/\d{1,3})?)$/;
  const bad = entries.find((e) => !valid.test(e));
  if (bad !== undefined)
    throw new Error(`XRM_TRUST_PROXY must be true, false, a hop count or addresses and CIDR ranges, got "${bad}"`);
  return entries.join(',');
}

/**
 * Reads the configuration from environment variables (see the README's table). `stdoutIsTTY`
 * picks the default log format: pretty for a person at a terminal, JSON for a pipe or a file.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, stdoutIsTTY = process.stdout.isTTY === true): Config {
  const logLevel = (env.LOG_LEVEL ?? 'info') as LogLevel;
  if (!LEVELS.includes(logLevel))
    throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  const logFormat = (env.XRM_LOG_FORMAT || (stdoutIsTTY ? 'pretty' : 'json')) as LogFormat;
  if (!FORMATS.includes(logFormat))
    throw new Error(`XRM_LOG_FORMAT must be one of ${FORMATS.join(', ')}, got "${env.XRM_LOG_FORMAT}"`);
  const dataDir = env.XRM_DATA_DIR || './data';
  const pgliteCompiler = (env.XRM_PGLITE_COMPILER || 'baseline') as Config['pgliteCompiler'];
  if (!['baseline', 'optimizing'].includes(pgliteCompiler))
    throw new Error(`XRM_PGLITE_COMPILER must be baseline or optimizing, got "${env.XRM_PGLITE_COMPILER}"`);
  return {
    port: intFrom(env, 'PORT', 3000),
    host: env.HOST || '127.0.0.1',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: dataDir.startsWith('memory://') ? dataDir : resolve(dataDir),
    pgliteCompiler,
    logLevel,
    logFormat,
    maxPageSize: intFrom(env, 'XRM_MAX_PAGE_SIZE', 1000),
    createBatchRows: Math.min(1000, Math.max(1, intFrom(env, 'XRM_CREATE_BATCH_ROWS', 64))),
    schemaPollMs: intFrom(env, 'XRM_SCHEMA_POLL_MS', 1000),
    pluginTimeoutMs: intFrom(env, 'XRM_PLUGIN_TIMEOUT_MS', 10_000),
    // beside the data folder by default: ./plugins.d next to ./data
    pluginsDir: resolve(env.XRM_PLUGINS_DIR || join(dirname(resolve(env.XRM_DATA_DIR || './data')), 'plugins.d')),
    pluginPackages: (env.XRM_PLUGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    jobs: {
      maxAttempts: Math.max(1, intFrom(env, 'XRM_JOB_MAX_ATTEMPTS', 8)),
      // renewed by the running worker's heartbeat, so it can be short: how soon a killed worker's job runs again
      leaseMs: Math.max(300, intFrom(env, 'XRM_JOB_LEASE_MS', 30_000)),
      backoffMs: intFrom(env, 'XRM_JOB_BACKOFF_MS', 5_000),
      pollMs: Math.max(10, intFrom(env, 'XRM_JOB_POLL_MS', 1_000)),
      concurrency: intFrom(env, 'XRM_JOB_CONCURRENCY', 4),
      retentionDays: intFrom(env, 'XRM_JOB_RETENTION_DAYS', 7),
    },
    webhookAllowHosts: env.XRM_WEBHOOK_ALLOW_HOSTS || undefined,
    webhookTimeoutMs: intFrom(env, 'XRM_WEBHOOK_TIMEOUT_MS', 15_000),
    smtpUrl: env.XRM_SMTP_URL || undefined,
    smtpFrom: env.XRM_SMTP_FROM || 'xrm-platform <no-reply@xrm-platform.invalid>',
    automationTickMs: intFrom(env, 'XRM_AUTOMATION_TICK_MS', 30_000),
    importMaxBytes: intFrom(env, 'XRM_IMPORT_MAX_BYTES', 2 * 1024 ** 3),
    activityBodies: !['off', 'false', '0', 'no'].includes((env.XRM_ACTIVITY_BODIES ?? '').trim().toLowerCase()),
    adminEmail: env.XRM_ADMIN_EMAIL || undefined,
    adminPassword: env.XRM_ADMIN_PASSWORD || undefined,
    sessionTtlMinutes: Math.max(1, intFrom(env, 'XRM_SESSION_TTL_MINUTES', 720)),
    corsOrigins: (env.XRM_CORS_ORIGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    trustProxy: trustProxyFrom(env.XRM_TRUST_PROXY),
    rateLimitPerMinute: intFrom(env, 'XRM_RATE_LIMIT_PER_MINUTE', 1200),
    loginRateLimitPerMinute: intFrom(env, 'XRM_LOGIN_RATE_LIMIT_PER_MINUTE', 10),
    statementTimeoutMs: intFrom(env, 'XRM_STATEMENT_TIMEOUT_MS', 30_000),
    indexConcurrentRows: intFrom(env, 'XRM_INDEX_CONCURRENT_ROWS', 100_000),
    ddlLockTimeoutMs: intFrom(env, 'XRM_DDL_LOCK_TIMEOUT_MS', 5_000),
    databasePoolSize: Math.max(1, intFrom(env, 'XRM_DATABASE_POOL_SIZE', 10)),
    auditRetentionDays: intFrom(env, 'XRM_AUDIT_RETENTION_DAYS', 0),
    logRetentionDays: intFrom(env, 'XRM_LOG_RETENTION_DAYS', 30),
  };
}
