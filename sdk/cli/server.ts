/** Talking to a running xrm-platform server, with errors a person can act on. */
import { CliError } from './command.ts';

export const DEFAULT_URL = 'http://127.0.0.1:3000';
const TIMEOUT_MS = 30_000;

/** The server's base URL from `--url`, then XRM_URL, then the default. */
export function serverUrl(option: string | undefined, env: NodeJS.ProcessEnv = process.env): URL {
  const raw = option ?? env.XRM_URL ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`"${raw}" is not a URL; pass the server's address, e.g. --url ${DEFAULT_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`"${raw}" is not an http(s) URL`);
  return url;
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/**
 * GETs `path` under the server's URL and returns the body text of a 2xx answer. The server
 * needs credentials: XRM_TOKEN (an API key, or a session token from POST /api/auth/login) is
 * sent as the bearer token.
 */
export async function getText(base: URL, path: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const url = new URL(path.replace(/^\//, ''), base.href.endsWith('/') ? base : new URL(`${base.href}/`));
  let response: Response;
  try {
    response = await fetch(url, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: {
        accept: 'text/plain, application/json',
        ...(env.XRM_TOKEN ? { authorization: `Bearer ${env.XRM_TOKEN}` } : {}),
      },
    });
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') {
      throw new CliError(
        `the server at ${base.origin} did not answer within ${TIMEOUT_MS / 1000}s (GET ${url.pathname})`,
      );
    }
    throw new CliError(
      `cannot reach the xrm-platform server at ${base.origin} (${causeOf(error)}). ` +
        'Is it running? Point to it with --url or XRM_URL.',
    );
  }
  const text = await response.text();
  if (!response.ok) {
    let detail = text.slice(0, 500);
    try {
      const problem = JSON.parse(text) as { title?: string; detail?: string };
      if (problem.detail) detail = problem.title ? `${problem.title}: ${problem.detail}` : problem.detail;
    } catch {
      /* not a problem document */
    }
    const hint =
      response.status === 401
        ? env.XRM_TOKEN
          ? ' (XRM_TOKEN is not a valid API key or session token)'
          : " (set XRM_TOKEN to an API key: POST /api/api-keys, or the admin UI's API keys page)"
        : '';
    throw new CliError(`GET ${url.pathname} answered ${response.status}${detail ? `: ${detail}` : ''}${hint}`);
  }
  return text;
}
