/**
 * Thin helpers over `app.inject()` for HTTP tests. Requests carry the test administrator's
 * bearer token (tests/support/platform.ts TEST_ADMIN signs in once per app) unless the caller
 * sends its own `authorization` header or asks for an anonymous request (`ANONYMOUS`).
 */
import type { FastifyInstance } from 'fastify';
import { TEST_ADMIN } from './test-admin.ts';

/** Pass as headers for a request with no credentials at all. */
export const ANONYMOUS: Readonly<Record<string, string>> = Object.freeze({ 'x-test-anonymous': '1' });

const adminTokens = new WeakMap<FastifyInstance, Promise<string | undefined>>();

/** The test administrator's bearer token on this app (signs in once), or undefined when that fails. */
export function adminToken(app: FastifyInstance): Promise<string | undefined> {
  let token = adminTokens.get(app);
  if (!token) {
    token = app
      .inject({ method: 'POST', url: '/api/auth/login', payload: TEST_ADMIN })
      .then((res) => (res.statusCode === 200 ? (JSON.parse(res.body).token as string) : undefined));
    adminTokens.set(app, token);
    // a failed sign-in is tried again next time (the platform may not be started yet)
    void token.then((t) => t ?? adminTokens.delete(app));
  }
  return token;
}

async function withCredentials(app: FastifyInstance, headers: Record<string, string>): Promise<Record<string, string>> {
  if (headers['x-test-anonymous']) {
    const { 'x-test-anonymous': _, ...rest } = headers;
    return rest;
  }
  if (Object.keys(headers).some((h) => h.toLowerCase() === 'authorization' || h.toLowerCase() === 'cookie'))
    return headers;
  const token = await adminToken(app);
  return token ? { authorization: `Bearer ${token}`, ...headers } : headers;
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
}

export async function call<T = any>(
  app: FastifyInstance,
  method: string,
  url: string,
  payload?: unknown,
  given: Record<string, string> = {},
): Promise<Reply<T>> {
  const headers = await withCredentials(app, given);
  const res = await app.inject({
    method: method as 'GET',
    url,
    ...(payload === undefined
      ? {}
      : {
          payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
          headers: { 'content-type': 'application/json', ...headers },
        }),
    ...(payload === undefined ? { headers } : {}),
  });
  let body: any = res.body;
  const type = String(res.headers['content-type'] ?? '');
  if (type.includes('json') && res.body.length) body = JSON.parse(res.body);
  return { status: res.statusCode, body, headers: res.headers, text: res.body };
}

/**
 * `api(app).post('/api/...', body)` and friends, as the test administrator; `api(app, token)` as
 * the holder of that bearer token, `api(app, null)` with no credentials.
 */
export function api(app: FastifyInstance, ...as_: [token?: string | null]) {
  // an undefined token passed on purpose (a failed sign-in) must not quietly act as the administrator
  if (as_.length && as_[0] === undefined) throw new Error('api(app, token): the token is undefined');
  const token = as_[0];
  const as: Record<string, string> =
    token === undefined ? {} : token === null ? { ...ANONYMOUS } : { authorization: `Bearer ${token}` };
  const h = (headers?: Record<string, string>) => ({ ...as, ...headers });
  return {
    get: <T = any>(url: string, headers?: Record<string, string>) => call<T>(app, 'GET', url, undefined, h(headers)),
    post: <T = any>(url: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>(app, 'POST', url, body ?? {}, h(headers)),
    patch: <T = any>(url: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>(app, 'PATCH', url, body ?? {}, h(headers)),
    put: <T = any>(url: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>(app, 'PUT', url, body ?? {}, h(headers)),
    delete: <T = any>(url: string, headers?: Record<string, string>) =>
      call<T>(app, 'DELETE', url, undefined, h(headers)),
    graphql: <T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
      call<T>(app, 'POST', '/graphql', { query, variables }, h(headers)),
  };
}
