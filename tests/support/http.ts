/** Thin helpers over `app.inject()` for HTTP tests. */
import type { FastifyInstance } from 'fastify';

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
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
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

/** `api(app).post('/api/...', body)` and friends. */
export function api(app: FastifyInstance) {
  return {
    get: <T = any>(url: string, headers?: Record<string, string>) => call<T>(app, 'GET', url, undefined, headers),
    post: <T = any>(url: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>(app, 'POST', url, body ?? {}, headers),
    patch: <T = any>(url: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>(app, 'PATCH', url, body ?? {}, headers),
    put: <T = any>(url: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>(app, 'PUT', url, body ?? {}, headers),
    delete: <T = any>(url: string, headers?: Record<string, string>) => call<T>(app, 'DELETE', url, undefined, headers),
    graphql: <T = any>(query: string, variables?: Record<string, unknown>) =>
      call<T>(app, 'POST', '/graphql', { query, variables }),
  };
}
