/**
 * The transport: one JSON request to the server through `fetch` (the global one unless given),
 * with the client's headers; an error answer becomes an XrmApiError. Typed structurally, so the
 * SDK compiles with or without the DOM library.
 */
import { XrmApiError, problemOf } from './errors.ts';
import type { QueryParams } from './query.ts';

/** What the SDK needs of a fetch response. */
export interface FetchResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** What the SDK needs of `fetch`; the global `fetch` and undici's fit. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: { [name: string]: string }; body?: string },
) => Promise<FetchResponse>;

/** Headers to send with every request; a function is called per request (e.g. for a fresh token). */
export type HeadersOption =
  | { [name: string]: string }
  | (() => { [name: string]: string } | Promise<{ [name: string]: string }>);

export interface ClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** A fetch implementation (default: the global `fetch`). */
  fetch?: FetchLike;
  /** Headers sent with every request. */
  headers?: HeadersOption;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path under the base URL, starting with `/`. */
  path: string;
  query?: QueryParams | undefined;
  /** Sent as JSON. */
  body?: unknown;
  headers?: { [name: string]: string } | undefined;
}

export interface HttpResponse<T> {
  status: number;
  /** The parsed JSON body (the text when the answer is not JSON; undefined when empty). */
  body: T;
  headers: { get(name: string): string | null };
}

/** An answer as received. */
export interface RawResponse {
  status: number;
  statusText: string;
  text: string;
  headers: { get(name: string): string | null };
  /** The path and query string requested (a made-up problem's `instance`). */
  target: string;
}

export interface Transport {
  /** Sends the request and returns the answer, whatever its status. */
  send(request: HttpRequest): Promise<RawResponse>;
  /** Sends the request; a 2xx answer's JSON body comes back, any other answer throws an XrmApiError. */
  request<T>(request: HttpRequest): Promise<HttpResponse<T>>;
}

/** `path` with its query string. */
export function withQuery(path: string, query: QueryParams = []): string {
  if (!query.length) return path;
  const pairs = query.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return `${path}?${pairs.join('&')}`;
}

export function createTransport(options: ClientOptions): Transport {
  const base = options.baseUrl.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? (globalThis as unknown as { fetch?: FetchLike }).fetch;
  if (!fetchImpl) throw new TypeError('No fetch implementation: pass one as createClient({ fetch })');
  const send = async (request: HttpRequest): Promise<RawResponse> => {
    const configured = typeof options.headers === 'function' ? await options.headers() : options.headers;
    const headers: { [name: string]: string } = { accept: 'application/json', ...configured, ...request.headers };
    const init: Parameters<FetchLike>[1] = { method: request.method, headers };
    if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(request.body);
    }
    const target = withQuery(request.path, request.query);
    const response = await fetchImpl(base + target, init);
    return {
      status: response.status,
      statusText: response.statusText,
      text: await response.text(),
      headers: response.headers,
      target,
    };
  };
  return {
    send,
    async request<T>(request: HttpRequest): Promise<HttpResponse<T>> {
      const response = await send(request);
      if (response.status < 200 || response.status > 299) {
        throw new XrmApiError(problemOf(response.status, response.statusText, response.text, response.target));
      }
      const json = /\bjson\b/i.test(response.headers.get('content-type') ?? 'application/json');
      const body = response.text && json ? JSON.parse(response.text) : response.text || undefined;
      return { status: response.status, body: body as T, headers: response.headers };
    },
  };
}
