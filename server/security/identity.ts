/**
 * Identity: users, sign-in sessions and API keys (issue 8, slice 1). Every presented credential
 * is checked against the database on every request (no cache), so disabling a user, changing a
 * password or revoking a session or key takes effect on the very next request.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import { XrmError } from '../../metadata/errors.ts';
import type { Db } from '../../metadata/database.ts';
import type { Principal } from '../../plugins/api.ts';
import { isUuid } from '../record-id.ts';
import { hashPassword, MIN_PASSWORD_LENGTH, verifyDummyPassword, verifyPassword } from './passwords.ts';
import { API_KEY_PREFIX, newApiKey, newSessionToken, tokenHash } from './tokens.ts';

export interface UserSummary {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
}

export interface LoginResult {
  readonly token: string;
  readonly expiresAt: string;
  readonly user: UserSummary;
}

export interface ApiKeyInfo {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
}

export interface ApiKeyCreated {
  readonly id: string;
  readonly name: string;
  /** The key itself, answered this once; only its hash is stored. */
  readonly key: string;
  readonly expiresAt: string | null;
  readonly createdAt: string;
}

/** A user as the user admin API shows it. */
export interface UserAccount extends UserSummary {
  readonly disabled: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface UserChange {
  readonly displayName?: string;
  readonly disabled?: boolean;
  readonly password?: string;
}

export interface NewUser {
  readonly email: string;
  readonly displayName?: string;
  readonly password: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;
/** How long an API key's last use may lag behind (one write a minute at most per key). */
const LAST_USED_GRANULARITY = '1 minute';

const iso = (value: unknown): string => new Date(value as string | Date).toISOString();
const isoOrNull = (value: unknown): string | null => (value == null ? null : iso(value));

function authRequired(detail = 'The credentials presented are invalid, expired or revoked'): XrmError {
  return new XrmError('XRM_ERR_AUTH_REQUIRED', detail);
}

function userNotFound(id: string): XrmError {
  return new XrmError('XRM_ERR_USER_NOT_FOUND', `No user has the id ${id}`);
}

function invalidCredentials(): XrmError {
  return new XrmError('XRM_ERR_AUTH_INVALID_CREDENTIALS', 'The email or password is wrong');
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new XrmError('XRM_ERR_REQUEST_INVALID', `A password needs at least ${MIN_PASSWORD_LENGTH} characters`, {
      errors: [{ path: '/password', message: `must have at least ${MIN_PASSWORD_LENGTH} characters` }],
    });
}

function toSummary(row: { id: string; email: string; display_name: string }): UserSummary {
  return { id: row.id, email: row.email, displayName: row.display_name };
}

function toKeyInfo(row: Record<string, unknown>): ApiKeyInfo {
  return {
    id: row.id as string,
    name: row.name as string,
    createdAt: iso(row.created_at),
    expiresAt: isoOrNull(row.expires_at),
    revokedAt: isoOrNull(row.revoked_at),
    lastUsedAt: isoOrNull(row.last_used_at),
  };
}

export class IdentityService {
  constructor(
    private readonly db: Db,
    private readonly sessionTtlMs: number,
  ) {}

  /** Session lifetime in seconds (the cookie's Max-Age). */
  get sessionTtlSeconds(): number {
    return Math.floor(this.sessionTtlMs / 1000);
  }

  async createUser(input: NewUser): Promise<UserSummary> {
    const email = input.email.trim();
    if (!EMAIL.test(email))
      throw new XrmError('XRM_ERR_REQUEST_INVALID', 'The email is not an email address', {
        errors: [{ path: '/email', message: 'must be an email address' }],
      });
    checkPassword(input.password);
    const passwordHash = await hashPassword(input.password);
    const row = await sql<{ id: string; email: string; display_name: string }>`
      INSERT INTO xrm.users (id, email, display_name, password_hash)
      VALUES (${randomUUID()}, ${email}, ${input.displayName?.trim() || email}, ${passwordHash})
      ON CONFLICT DO NOTHING
      RETURNING id, email, display_name`.execute(this.db);
    if (!row.rows[0]) throw new XrmError('XRM_ERR_RECORD_DUPLICATE', `A user with the email ${email} exists`);
    return toSummary(row.rows[0]);
  }

  /**
   * First run: creates the administrator from XRM_ADMIN_EMAIL / XRM_ADMIN_PASSWORD when no user
   * exists yet (instances starting together create it once: the email is unique).
   */
  async ensureFirstAdmin(email: string | undefined, password: string | undefined, log: FastifyBaseLogger) {
    if (!email || !password) return;
    const existing = await sql<{ n: number }>`SELECT count(*)::int AS n FROM xrm.users`.execute(this.db);
    if (existing.rows[0]!.n > 0) return;
    if (password.length < MIN_PASSWORD_LENGTH)
      throw new Error(`XRM_ADMIN_PASSWORD needs at least ${MIN_PASSWORD_LENGTH} characters`);
    try {
      const user = await this.createUser({ email, displayName: 'Administrator', password });
      log.info({ user: user.id, email: user.email }, 'first run: administrator created from XRM_ADMIN_EMAIL');
    } catch (err) {
      if (!(err instanceof XrmError && err.code === 'XRM_ERR_RECORD_DUPLICATE')) throw err;
    }
  }

  /** Every user, oldest first. */
  async listUsers(): Promise<UserAccount[]> {
    const { rows } = await sql<{ a: UserAccount }>`SELECT json_build_object('id', id, 'email', email,
        'displayName', display_name, 'disabled', disabled, 'createdAt', created_at, 'updatedAt', updated_at) AS a
      FROM xrm.users ORDER BY created_at, email`.execute(this.db);
    return rows.map((r) => r.a);
  }

  /** One user, or 404 XRM_ERR_USER_NOT_FOUND. */
  async account(id: string): Promise<UserAccount> {
    const { rows } = isUuid(id)
      ? await sql<{ a: UserAccount }>`SELECT json_build_object('id', id, 'email', email,
          'displayName', display_name, 'disabled', disabled, 'createdAt', created_at, 'updatedAt', updated_at) AS a
        FROM xrm.users WHERE id = ${id}`.execute(this.db)
      : { rows: [] };
    if (!rows[0]) throw userNotFound(id);
    return rows[0].a;
  }

  /** Renames, disables or enables a user, or sets their password (each takes effect on the next request). */
  async updateUser(id: string, change: UserChange): Promise<UserAccount> {
    await this.account(id);
    if (change.password !== undefined) await this.changePassword(id, change.password);
    if (change.disabled !== undefined) await this.setDisabled(id, change.disabled);
    if (change.displayName !== undefined) {
      const name = change.displayName.trim();
      if (!name)
        throw new XrmError('XRM_ERR_REQUEST_INVALID', 'A display name must not be empty', {
          errors: [{ path: '/displayName', message: 'must not be empty' }],
        });
      await sql`UPDATE xrm.users SET display_name = ${name}, updated_at = now() WHERE id = ${id}`.execute(this.db);
    }
    return this.account(id);
  }

  async user(id: string): Promise<UserSummary | undefined> {
    const rows = await sql<{ id: string; email: string; display_name: string }>`
      SELECT id, email, display_name FROM xrm.users WHERE id = ${id}`.execute(this.db);
    return rows.rows[0] && toSummary(rows.rows[0]);
  }

  /** Signs in: the same answer for an unknown email, a wrong password and a disabled user. */
  async login(email: string, password: string): Promise<LoginResult> {
    const rows = await sql<{
      id: string;
      email: string;
      display_name: string;
      password_hash: string;
      disabled: boolean;
    }>`
      SELECT id, email, display_name, password_hash, disabled FROM xrm.users
      WHERE lower(email) = lower(${email.trim()})`.execute(this.db);
    const user = rows.rows[0];
    const ok = user ? await verifyPassword(password, user.password_hash) : await verifyDummyPassword(password);
    if (!user || !ok || user.disabled) throw invalidCredentials();
    const token = newSessionToken();
    const expiresAt = new Date(Date.now() + this.sessionTtlMs);
    await sql`INSERT INTO xrm.sessions (id, user_id, token_hash, expires_at)
      VALUES (${randomUUID()}, ${user.id}, ${tokenHash(token)}, ${expiresAt})`.execute(this.db);
    return { token, expiresAt: expiresAt.toISOString(), user: toSummary(user) };
  }

  /** Revokes the session of a token (an unknown or API-key token changes nothing). */
  async logout(token: string): Promise<void> {
    if (token.startsWith(API_KEY_PREFIX)) return;
    await sql`UPDATE xrm.sessions SET revoked_at = now()
      WHERE token_hash = ${tokenHash(token)} AND revoked_at IS NULL`.execute(this.db);
  }

  /**
   * Who a presented token or key is; XRM_ERR_AUTH_REQUIRED when it is unknown, expired or revoked,
   * its user is disabled, or (a session) it predates the user's last credentials change.
   */
  async resolve(credential: string): Promise<Principal> {
    const hash = tokenHash(credential);
    if (credential.startsWith(API_KEY_PREFIX)) {
      const rows = await sql<{ id: string; valid: boolean; stale: boolean }>`
        SELECT k.id,
          (k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
            AND (u.id IS NULL OR NOT u.disabled)) AS valid,
          (k.last_used_at IS NULL OR k.last_used_at < now() - ${LAST_USED_GRANULARITY}::interval) AS stale
        FROM xrm.api_keys k LEFT JOIN xrm.users u ON u.id = k.user_id
        WHERE k.key_hash = ${hash}`.execute(this.db);
      const key = rows.rows[0];
      if (!key?.valid) throw authRequired();
      // at most one write a minute per key
      if (key.stale) await sql`UPDATE xrm.api_keys SET last_used_at = now() WHERE id = ${key.id}`.execute(this.db);
      return { kind: 'apiKey', id: key.id };
    }
    const rows = await sql<{ user_id: string; valid: boolean }>`
      SELECT s.user_id,
        (s.revoked_at IS NULL AND s.expires_at > now() AND NOT u.disabled
          AND (u.credentials_changed_at IS NULL OR s.created_at >= u.credentials_changed_at)) AS valid
      FROM xrm.sessions s JOIN xrm.users u ON u.id = s.user_id
      WHERE s.token_hash = ${hash}`.execute(this.db);
    const session = rows.rows[0];
    if (!session?.valid) throw authRequired();
    return { kind: 'user', id: session.user_id };
  }

  /** The user a principal is (an API key's owner), if any. */
  async userOf(principal: Principal): Promise<UserSummary | undefined> {
    if (principal.kind === 'user') return this.user(principal.id);
    if (principal.kind !== 'apiKey') return undefined;
    const rows = await sql<{ user_id: string | null }>`
      SELECT user_id FROM xrm.api_keys WHERE id = ${principal.id}`.execute(this.db);
    const owner = rows.rows[0]?.user_id;
    return owner ? this.user(owner) : undefined;
  }

  /** Disables (or enables) a user; their sessions and keys stop working on the next request. */
  async setDisabled(userId: string, disabled: boolean): Promise<void> {
    // re-enabling must not revive sessions issued before the suspension
    const result = await sql`UPDATE xrm.users SET disabled = ${disabled}, credentials_changed_at = now(),
      updated_at = now() WHERE id = ${userId} RETURNING id`.execute(this.db);
    if (!result.rows.length) throw userNotFound(userId);
  }

  /** Sets a new password; every session signed in before it stops working on the next request. */
  async changePassword(userId: string, password: string): Promise<void> {
    checkPassword(password);
    const passwordHash = await hashPassword(password);
    const result = await sql`UPDATE xrm.users SET password_hash = ${passwordHash}, credentials_changed_at = now(),
      updated_at = now() WHERE id = ${userId} RETURNING id`.execute(this.db);
    if (!result.rows.length) throw userNotFound(userId);
  }

  async createApiKey(userId: string, input: { name: string; expiresAt?: string }): Promise<ApiKeyCreated> {
    const name = input.name.trim();
    if (!name)
      throw new XrmError('XRM_ERR_REQUEST_INVALID', 'An API key needs a name', {
        errors: [{ path: '/name', message: 'must not be empty' }],
      });
    let expiresAt: Date | null = null;
    if (input.expiresAt !== undefined) {
      expiresAt = new Date(input.expiresAt);
      if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())
        throw new XrmError('XRM_ERR_REQUEST_INVALID', 'expiresAt must be a date-time in the future', {
          errors: [{ path: '/expiresAt', message: 'must be a date-time in the future' }],
        });
    }
    const key = newApiKey();
    const rows = await sql<Record<string, unknown>>`
      INSERT INTO xrm.api_keys (id, name, key_hash, user_id, expires_at)
      VALUES (${randomUUID()}, ${name}, ${tokenHash(key)}, ${userId}, ${expiresAt})
      RETURNING id, name, created_at, expires_at`.execute(this.db);
    const row = rows.rows[0]!;
    return {
      id: row.id as string,
      name: row.name as string,
      key,
      expiresAt: isoOrNull(row.expires_at),
      createdAt: iso(row.created_at),
    };
  }

  /** A user's API keys, newest first, without key material. */
  async listApiKeys(userId: string): Promise<ApiKeyInfo[]> {
    const rows = await sql<Record<string, unknown>>`
      SELECT id, name, created_at, expires_at, revoked_at, last_used_at FROM xrm.api_keys
      WHERE user_id = ${userId} ORDER BY created_at DESC, id`.execute(this.db);
    return rows.rows.map(toKeyInfo);
  }

  /** Revokes one of a user's keys (idempotent); XRM_ERR_API_KEY_NOT_FOUND when it is not theirs. */
  async revokeApiKey(userId: string, id: string): Promise<void> {
    if (!isUuid(id)) throw new XrmError('XRM_ERR_API_KEY_NOT_FOUND', `No API key has the id ${id}`);
    const result = await sql`UPDATE xrm.api_keys SET revoked_at = coalesce(revoked_at, now())
      WHERE id = ${id} AND user_id = ${userId} RETURNING id`.execute(this.db);
    if (!result.rows.length) throw new XrmError('XRM_ERR_API_KEY_NOT_FOUND', `No API key has the id ${id}`);
  }
}
