/**
 * HTTP hardening, installed before credentials are resolved so a flood is turned away before it
 * costs a database lookup:
 * - security headers (helmet, worked out once at start) with a Content-Security-Policy the platform's own pages
 *   live within: the admin UI and GraphiQL (Vite builds: module scripts and stylesheets from
 *   /admin/assets, Monaco's workers from there too, one inline <style> and style elements Monaco
 *   injects) and the API reference (Swagger UI's files from /docs/static, its logo a data: image);
 * - CORS (@fastify/cors) for exactly the origins of XRM_CORS_ORIGINS, credentials included; none
 *   listed means no cross-origin access at all;
 * - rate limits (@fastify/rate-limit's in-memory store, per instance): every client address, and
 *   sign-in and setup attempts per address and email. /health is never limited.
 * The statement_timeout itself is set on the connections (metadata/database.ts); the limit is
 * recorded here so a cancelled statement's problem can name it.
 */
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import helmet from 'helmet';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { XrmError } from '../metadata/errors.ts';
import type { Config } from './config.ts';

const MINUTE_MS = 60_000;

/** Routes whose body names an account and carries a password: throttled per address and email. */
const SIGN_IN_ROUTES: ReadonlySet<string> = new Set(['/api/auth/login', '/api/auth/setup']);

/** Response headers a listed origin's scripts may read. */
const CORS_EXPOSED_HEADERS = ['ETag', 'Location', 'Retry-After'] as const;

/**
 * Only 'self', and no `upgrade-insecure-requests` (helmet's default): the platform is often served
 * over plain HTTP on a private address, where upgrading its own assets to https would break every
 * page. Styles allow 'unsafe-inline' for GraphiQL's one <style> and the style elements Monaco adds
 * at run time (a hash would not cover those); scripts allow no inline code at all.
 */
const CONTENT_SECURITY_POLICY: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'", 'data:'],
  'form-action': ["'self'"],
  'frame-ancestors': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'worker-src': ["'self'"],
};

/** Refuses `*`, `null` and anything that is not exactly an origin (scheme, host, optional port). */
export function checkCorsOrigins(origins: readonly string[]): void {
  for (const origin of origins) {
    if (origin === '*')
      throw new Error('XRM_CORS_ORIGINS must list exact origins: `*` cannot be combined with credentials');
    let exact: string | undefined;
    try {
      exact = new URL(origin).origin;
    } catch {}
    if (exact !== origin || exact === 'null')
      throw new Error(
        `XRM_CORS_ORIGINS must list exact origins like https://app.example.com (no path, no trailing slash), ` +
          `got "${origin}"`,
      );
  }
}

export async function installHardening(app: FastifyInstance, config: Config): Promise<void> {
  checkCorsOrigins(config.corsOrigins);
  app.decorate('statementTimeoutMs', config.statementTimeoutMs);

  const headers = securityHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  // none listed: not even the plugin, whose catch-all `OPTIONS *` route would answer preflights
  if (config.corsOrigins.length) await app.register(cors, { delegator: corsFor(new Set(config.corsOrigins)) });
  await installRateLimits(app, config);
}

/**
 * The headers helmet sets, worked out once: they depend on nothing in the request, and
 * @fastify/helmet would build helmet's middleware (parsing every option and directive) again for
 * every request, about 4 % of the server's time on a read by id.
 */
export function securityHeaders(): Readonly<Record<string, string>> {
  const middleware = helmet({ contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY } });
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => {
      headers[name.toLowerCase()] = value;
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  middleware({} as never, response as never, (err?: unknown) => {
    if (err) throw err;
  });
  return Object.freeze(headers);
}

function corsFor(allowed: ReadonlySet<string>) {
  return (request: FastifyRequest, callback: (error: Error | null, options: FastifyCorsOptions) => void) => {
    const origin = request.headers.origin;
    if (!origin || !allowed.has(origin)) return callback(null, { origin: false });
    callback(null, {
      origin,
      credentials: true,
      exposedHeaders: [...CORS_EXPOSED_HEADERS],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      maxAge: 600,
    });
  };
}

/**
 * Thrown, not sent: the route's own error handler renders it, a problem+json document on REST and
 * GraphQL's `errors` (with `extensions.code`) on /graphql, like any other refusal there.
 */
function tooMany(reply: FastifyReply, detail: string, ttlInSeconds: number): never {
  const retryAfter = Math.max(1, ttlInSeconds);
  reply.header('retry-after', String(retryAfter));
  throw new XrmError('XRM_ERR_RATE_LIMITED', `${detail}; retry in ${retryAfter} s`, { retryAfter });
}

/** The lower-cased email of a sign-in or setup body, when it has one. */
function emailOf(body: unknown): string {
  const email = (body as { email?: unknown } | null)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase().slice(0, 320) : '';
}

async function installRateLimits(app: FastifyInstance, config: Config): Promise<void> {
  // only its limiters and store: the hooks below throw coded errors and skip /health
  await app.register(rateLimit, { global: false });

  if (config.rateLimitPerMinute > 0) {
    const limit = app.createRateLimit({ max: config.rateLimitPerMinute, timeWindow: MINUTE_MS });
    app.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.url === '/health') return;
      const state = await limit(request);
      if (state.isAllowed) return;
      reply.header('x-ratelimit-limit', state.max);
      reply.header('x-ratelimit-remaining', state.remaining);
      reply.header('x-ratelimit-reset', state.ttlInSeconds);
      if (state.isExceeded) {
        const detail = `More than ${state.max} requests a minute from this address`;
        tooMany(reply, detail, state.ttlInSeconds);
      }
    });
  }

  if (config.loginRateLimitPerMinute > 0) {
    // keyed by address and email: guessing one account's password is slowed down, while other
    // people signing in from the same address (an office behind one NAT) are not locked out
    const limit = app.createRateLimit({
      max: config.loginRateLimitPerMinute,
      timeWindow: MINUTE_MS,
      keyGenerator: (request) => `${normalizeIP(request.ip)} ${emailOf(request.body)}`,
    });
    // preValidation: the body is parsed, and a malformed attempt counts as well
    app.addHook('preValidation', async (request, reply) => {
      if (request.method !== 'POST' || !SIGN_IN_ROUTES.has(request.routeOptions.url ?? '')) return;
      const state = await limit(request);
      if (!state.isAllowed && state.isExceeded) {
        const detail = `More than ${state.max} sign-in attempts a minute for this email from this address`;
        tooMany(reply, detail, state.ttlInSeconds);
      }
    });
  }
}
