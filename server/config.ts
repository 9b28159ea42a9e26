import { resolve } from 'node:path';
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import pretty from 'pino-pretty';

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
  readonly logLevel: LogLevel;
  /** XRM_LOG_FORMAT; by default `pretty` when stdout is a terminal and `json` otherwise. */
  readonly logFormat: LogFormat;
  /** Largest page a list request may ask for. */
  readonly maxPageSize: number;
  /** Safety-net interval for the schema version check across instances (PostgreSQL only). */
  readonly schemaPollMs: number;
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

/**
 * Reads the configuration from environment variables (see the README's table). `stdoutIsTTY`
 * picks the default log format: pretty for a person at a terminal, JSON for a pipe or a file.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, stdoutIsTTY = process.stdout.isTTY === true): Config {
  const logLevel = (env.LOG_LEVEL ?? 'info') as LogLevel;
  if (!LEVELS.includes(logLevel)) throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  const logFormat = (env.XRM_LOG_FORMAT || (stdoutIsTTY ? 'pretty' : 'json')) as LogFormat;
  if (!FORMATS.includes(logFormat)) throw new Error(`XRM_LOG_FORMAT must be one of ${FORMATS.join(', ')}, got "${env.XRM_LOG_FORMAT}"`);
  const dataDir = env.XRM_DATA_DIR || './data';
  return {
    port: intFrom(env, 'PORT', 3000),
    host: env.HOST || '127.0.0.1',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: dataDir.startsWith('memory://') ? dataDir : resolve(dataDir),
    logLevel,
    logFormat,
    maxPageSize: intFrom(env, 'XRM_MAX_PAGE_SIZE', 1000),
    schemaPollMs: intFrom(env, 'XRM_SCHEMA_POLL_MS', 1000),
  };
}

/** The readiness probe: polled every few seconds by orchestrators, so its request lines are debug, not info. */
const isHealthCheck = (request: FastifyRequest) => request.routeOptions.url === '/health';

class PlatformLogController extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (isHealthCheck(request)) request.log.debug({ req: request }, 'incoming request');
    else super.incomingRequest(request, reply, metadata);
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (!error && isHealthCheck(request)) reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
    else super.requestCompleted(error, request, reply, metadata);
  }
}

/** `[req-1] incoming request GET /api/data/partner`, `[req-1] request completed 200 in 3.1 ms`. */
function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const req = log.req as { method?: string; url?: string } | undefined;
  const res = log.res as { statusCode?: number } | undefined;
  const parts = [String(log[messageKey] ?? '')];
  if (req?.method) parts.push(`${req.method} ${req.url}`);
  if (res?.statusCode) parts.push(String(res.statusCode));
  if (typeof log.responseTime === 'number') parts.push(`in ${log.responseTime.toFixed(1)} ms`);
  return `${log.reqId ? `[${String(log.reqId)}] ` : ''}${parts.join(' ')}`;
}

/**
 * Fastify's logging options for `config`: pino at `logLevel`, as JSON lines or through pino-pretty
 * (synchronously, so the last lines before an exit are written), or into `destination` (tests).
 */
export function loggingOptions(config: Config, destination?: DestinationStream): Pick<FastifyServerOptions, 'logger' | 'logController'> {
  const stream =
    destination ??
    (config.logFormat === 'pretty' && config.logLevel !== 'silent'
      ? pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,reqId,req,res,responseTime', messageFormat: prettyMessage })
      : undefined);
  return {
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      ...(stream ? { stream } : {}),
    },
    logController: new PlatformLogController(),
  };
}
