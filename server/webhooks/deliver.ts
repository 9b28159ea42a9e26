/**
 * One signed webhook delivery attempt, per Standard Webhooks 1.0: a POST with `webhook-id`,
 * `webhook-timestamp` and `webhook-signature` (one `v1,` HMAC per secret, so a receiver keeps
 * verifying while a secret is rotated). The outcome is reported, never thrown: a status, a timeout,
 * a network error, or a target the SSRF guard refuses. Retrying and scheduling are the caller's.
 *
 * The URL is checked again before connecting (it may have been saved under an older allow list);
 * hostnames are resolved by `guardedLookup`, so the socket connects only to checked addresses.
 * Redirects are not followed (a 3xx is just a status), and at most 64 KiB of the answer is read.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';
import { type AllowList, checkWebhookUrl, guardedLookup, WEBHOOK_TARGET_FORBIDDEN } from './ssrf.ts';

/** Bytes of a response body read (and discarded) before the connection is dropped. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

const DEFAULT_USER_AGENT = 'xrm-platform-webhooks/1';

export interface DeliveryRequest {
  readonly url: string;
  /** The message id (`webhook-id`), the same on every attempt so receivers can deduplicate. */
  readonly msgId: string;
  /** Sent as `webhook-timestamp`, in whole seconds, and signed. */
  readonly timestamp: Date;
  /** The JSON payload, sent and signed byte for byte. */
  readonly body: string;
  /** `whsec_…` secrets, newest first; each adds a signature. None: sent unsigned. */
  readonly secrets: readonly string[];
  /** Overall limit for connecting and answering. */
  readonly timeoutMs: number;
  readonly allow: AllowList;
  readonly userAgent?: string;
}

export interface DeliveryResult {
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  durationMs: number;
  /** Why there is no status: a timeout, a network error, a refused target. */
  error?: string;
  /** The receiver's Retry-After (seconds or an HTTP date), in seconds from now. */
  retryAfterSeconds?: number;
  /** The SSRF guard refused the target: retrying will not help until the URL or allow list changes. */
  forbidden?: boolean;
}

/** A receiver accepted a delivery when it answered 2xx. */
export function isSuccess(status?: number): boolean {
  return status !== undefined && status >= 200 && status <= 299;
}

/** A new signing secret: `whsec_` and 32 random bytes in base64. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Sends one delivery attempt and reports what happened. Throws only on a caller's mistake (a
 * secret that is not `whsec_` base64).
 */
export async function deliver(request: DeliveryRequest): Promise<DeliveryResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const refused = checkWebhookUrl(request.url, request.allow);
  if (refused !== undefined) return { forbidden: true, error: refused, durationMs: elapsed() };
  // no secret: an unsigned POST (an automation rule's webhook action), the same headers otherwise
  const signature = request.secrets
    .map((secret) => new Webhook(secret).sign(request.msgId, request.timestamp, request.body))
    .join(' ');
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(request.body)),
    'user-agent': request.userAgent ?? DEFAULT_USER_AGENT,
    'webhook-id': request.msgId,
    'webhook-timestamp': String(Math.floor(request.timestamp.getTime() / 1000)),
    ...(signature ? { 'webhook-signature': signature } : {}),
  };
  const url = new URL(request.url);
  const send = url.protocol === 'https:' ? https.request : http.request;

  return new Promise<DeliveryResult>((resolve) => {
    let settled = false;
    let answered: Omit<DeliveryResult, 'durationMs'> | undefined;
    let req: http.ClientRequest | undefined;
    const finish = (result: Omit<DeliveryResult, 'durationMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: elapsed() });
      req?.destroy();
    };
    // once the status is in, a slow body does not turn the answer into a failure
    const timedOut = (): void => finish(answered ?? { error: `timed out after ${request.timeoutMs} ms` });
    const timer = setTimeout(timedOut, request.timeoutMs);
    try {
      // agent: false: a fresh connection (and lookup) per attempt, nothing kept alive
      req = send(url, {
        method: 'POST',
        agent: false,
        lookup: guardedLookup(request.allow),
        headers,
        timeout: request.timeoutMs,
      });
    } catch (error) {
      // e.g. a header value Node refuses
      finish({ error: describeError(error) });
      return;
    }
    req.on('timeout', timedOut);
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (answered) finish(answered);
      else if (error.code === WEBHOOK_TARGET_FORBIDDEN) finish({ forbidden: true, error: error.message });
      else finish({ error: describeError(error) });
    });
    req.on('response', (res) => {
      const retryAfterSeconds = parseRetryAfter(res.headers['retry-after']);
      const result: Omit<DeliveryResult, 'durationMs'> = { status: res.statusCode };
      if (retryAfterSeconds !== undefined) result.retryAfterSeconds = retryAfterSeconds;
      answered = result;
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) finish(result);
      });
      res.on('end', () => finish(result));
      res.on('error', () => finish(result));
      res.on('close', () => finish(result));
    });
    req.end(request.body);
  });
}

/** Retry-After as seconds from now: delta-seconds or an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** An error's message; Node's happy-eyeballs AggregateError has an empty one, so use what it wraps. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message) return error.message;
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map((inner) => describeError(inner)).join('; ');
  }
  return (error as NodeJS.ErrnoException).code ?? error.name;
}
