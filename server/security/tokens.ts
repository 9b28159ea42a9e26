/**
 * Credentials on the wire: session tokens and API keys (random, shown once, stored as SHA-256),
 * and where a request carries them (`Authorization: Bearer …` or the `xrm_session` cookie).
 */
import { hash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'xrm_session';
/** API keys start with this prefix; any other bearer token is a session token. */
export const API_KEY_PREFIX = 'xrm_';

/** Session tokens start with this prefix (never mistaken for an API key, whose prefix differs). */
export const SESSION_PREFIX = 'xrms_';

/** A session token: `xrms_` and 32 random bytes, base64url. */
export function newSessionToken(): string {
  return SESSION_PREFIX + randomBytes(32).toString('base64url');
}

/** An API key: `xrm_` and 32 random bytes, base64url. */
export function newApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** How a token or key is stored and looked up: its SHA-256, hex (one-shot: every request hashes its credential). */
export function tokenHash(token: string): string {
  return hash('sha256', token, 'hex');
}

/** The value of one cookie of a Cookie header, if present. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/** The credential a request presents: the bearer token first, then the session cookie. */
export function presentedCredential(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (auth !== undefined) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(auth);
    // a malformed Authorization header counts as an invalid credential, not as none
    return match ? match[1] : auth;
  }
  const cookie = cookieValue(request.headers.cookie, SESSION_COOKIE);
  return cookie || undefined;
}

function cookieAttributes(request: FastifyRequest): string {
  return `Path=/; HttpOnly; SameSite=Strict${request.protocol === 'https' ? '; Secure' : ''}`;
}

/** Sets the admin UI's session cookie (httpOnly, SameSite=Strict, Secure over https). */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, maxAgeS: number): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=${token}; Max-Age=${maxAgeS}; ${cookieAttributes(request)}`);
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=; Max-Age=0; ${cookieAttributes(request)}`);
}
