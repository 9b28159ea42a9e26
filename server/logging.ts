/**
 * Logs people can read: pino-pretty on a terminal, JSON lines otherwise (XRM_LOG_FORMAT decides),
 * with /health polls at debug so they do not drown the log.
 */
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { destination as pinoDestination, type DestinationStream } from 'pino';
import { createRequire } from 'node:module';
import type { Config } from './config.ts';

/** The readiness probe: polled every few seconds by orchestrators, so its request lines are debug, not info. */
const isHealthCheck = (request: FastifyRequest) => request.routeOptions.url === '/health';

class PlatformLogController extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (isHealthCheck(request)) request.log.debug({ req: request }, 'incoming request');
    else super.incomingRequest(request, reply, metadata);
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ): void {
    if (!error && isHealthCheck(request))
      reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
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
 * Fastify's logging options for `config`: pino at `logLevel`, as JSON lines or through pino-pretty,
 * both written synchronously (so the last lines before an exit come, and in order), or into
 * `destination` (tests).
 */
export function loggingOptions(
  config: Config,
  destination?: DestinationStream,
): Pick<FastifyServerOptions, 'logger' | 'logController'> {
  const stream =
    destination ??
    (config.logFormat === 'pretty' && config.logLevel !== 'silent'
      ? // loaded only for a terminal: JSON logs never pay for it
        (createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty'))({
          sync: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,reqId,req,res,responseTime',
          messageFormat: prettyMessage,
        })
      : // synchronous too: an asynchronous write still in flight at exit lets pino's final synchronous
        // flush overtake it ("closed" above "shutting down"), and a pipe write is one cheap syscall
        pinoDestination({ dest: 1, sync: true }));
  return {
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      stream,
    },
    logController: new PlatformLogController(),
  };
}
