/**
 * Identity: users, sign-in sessions and API keys (issue 8, slice 1). Every presented credential
 * is checked against the database on every request (no cache), so disabling a user, changing a
 * password or revoking a session or key takes effect on the very next request.
 */
import { randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import { XrmError } from '../../metadata/errors.ts';
import type { Db } from '../../metadata/database.ts';
import type { Principal } from '../../plugins/api.ts';
import { isUuid } from '../record-id.ts';
/** What credentialCheck answers for a presented token or key. */
export interface CredentialRow {
  readonly kind: 'user' | 'apiKey';
  readonly id: string;
  readonly user_id: string;
  /** An API key's role ids; null: its user's roles. */
  readonly key_roles: string[] | null;
  readonly valid: boolean;
  readonly stale: boolean;
  /** When the credential runs out (null: an API key without expiry, or a recorded principal). */
  readonly expires_at?: Date | string | null;
}
import { type Directory, SYSTEM_ADMINISTRATOR } from './directory.ts';
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
  /** Role names the key is restricted to; null: all of its user's roles. */
  readonly roles: string[] | null;
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
  /** Role names held directly (teams add theirs). */
  readonly roles: string[];
  /** Team names. */
  readonly teams: string[];
  readonly attributes: Record<string, unknown>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Roles and teams by name, and the attributes row rules read as `$user.<name>`. */
export interface Memberships {
  readonly roles?: readonly string[];
  readonly teams?: readonly string[];
  readonly attributes?: Record<string, unknown>;
}

export interface UserChange extends Memberships {
  readonly displayName?: string;
  readonly disabled?: boolean;
  readonly password?: string;
}

export interface NewUser extends Memberships {
  readonly email: string;
  readonly displayName?: string;
  readonly password: string;
}

const ACCOUNT_JSON = sql`json_build_object('id', u.id, 'email', u.email, 'displayName', u.display_name,
  'disabled', u.disabled,
  'roles', ARRAY(SELECT r.name FROM xrm.user_roles ur JOIN xrm.roles r ON r.id = ur.role_id
    WHERE ur.user_id = u.id ORDER BY r.name),
  'teams', ARRAY(SELECT t.name FROM xrm.team_members m JOIN xrm.teams t ON t.id = m.team_id
    WHERE m.user_id = u.id ORDER BY t.name),
  'attributes', u.attributes, 'createdAt', u.created_at, 'updatedAt', u.updated_at)`;

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

function timingSafeEqualText(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
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
    roles: (row.roles as string[] | null) ?? null,
  };
}

/**
 * The check of a presented token or key, as a statement part (access.ts joins the caller's
 * teams and roles to it: ONE statement per request): at most one row, `valid` false when it is
 * expired or revoked, its user is disabled, or (a session) it predates the user's last
 * credentials change; `stale` when an API key's last use is worth writing again.
 */
export function credentialCheck(credential: string): RawBuilder<CredentialRow> {
  const hash = tokenHash(credential);
  if (credential.startsWith(API_KEY_PREFIX))
    return sql<CredentialRow>`SELECT 'apiKey'::text AS kind, k.id, k.user_id, k.roles AS key_roles,
        (k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) AND NOT u.disabled) AS valid,
        (k.last_used_at IS NULL OR k.last_used_at < now() - ${LAST_USED_GRANULARITY}::interval) AS stale,
        k.expires_at
      FROM xrm.api_keys k JOIN xrm.users u ON u.id = k.user_id WHERE k.key_hash = ${hash}`;
  return sql<CredentialRow>`SELECT 'user'::text AS kind, s.user_id AS id, s.user_id, NULL::jsonb AS key_roles,
      (s.revoked_at IS NULL AND s.expires_at > now() AND NOT u.disabled
        AND (u.credentials_changed_at IS NULL OR s.created_at >= u.credentials_changed_at)) AS valid,
      false AS stale, s.expires_at
    FROM xrm.sessions s JOIN xrm.users u ON u.id = s.user_id WHERE s.token_hash = ${hash}`;
}

/**
 * The same check for a principal recorded earlier (an async step runs as the caller of the write
 * it follows): valid while the user is enabled and, for an API key, while the key is live.
 */
export function principalCheck(principal: Principal): RawBuilder<CredentialRow> {
  if (principal.kind === 'apiKey')
    return sql<CredentialRow>`SELECT 'apiKey'::text AS kind, k.id, k.user_id, k.roles AS key_roles,
        (k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) AND NOT u.disabled) AS valid,
        false AS stale, k.expires_at
      FROM xrm.api_keys k JOIN xrm.users u ON u.id = k.user_id WHERE k.id = ${principal.id}::uuid`;
  return sql<CredentialRow>`SELECT 'user'::text AS kind, u.id, u.id AS user_id, NULL::jsonb AS key_roles,
      NOT u.disabled AS valid, false AS stale, NULL::timestamptz AS expires_at
    FROM xrm.users u WHERE u.id = ${principal.id}::uuid`;
}

/** Records an API key's use (at most once a minute: see credentialCheck's `stale`). */
export async function touchKey(db: Db, id: string): Promise<void> {
  await sql`UPDATE xrm.api_keys SET last_used_at = now() WHERE id = ${id}`.execute(db);
}

export class IdentityService {
  /** The one-time setup token while no user exists and none was configured (printed at start). */
  #setupToken: string | undefined;

  constructor(
    private readonly db: Db,
    private readonly sessionTtlMs: number,
    private readonly directory: Directory,
  ) {}

  /** Session lifetime in seconds (the cookie's Max-Age). */
  get sessionTtlSeconds(): number {
    return Math.floor(this.sessionTtlMs / 1000);
  }

  /** Creates a user with their roles, teams and attributes, all or nothing. */
  async createUser(input: NewUser): Promise<UserSummary> {
    const email = input.email.trim();
    if (!EMAIL.test(email))
      throw new XrmError('XRM_ERR_REQUEST_INVALID', 'The email is not an email address', {
        errors: [{ path: '/email', message: 'must be an email address' }],
      });
    checkPassword(input.password);
    const passwordHash = await hashPassword(input.password);
    return this.db.transaction().execute(async (trx) => {
      const row = await sql<{ id: string; email: string; display_name: string }>`
        INSERT INTO xrm.users (id, email, display_name, password_hash, attributes)
        VALUES (${randomUUID()}, ${email}, ${input.displayName?.trim() || email}, ${passwordHash},
          ${JSON.stringify(input.attributes ?? {})})
        ON CONFLICT DO NOTHING
        RETURNING id, email, display_name`.execute(trx);
      if (!row.rows[0]) throw new XrmError('XRM_ERR_RECORD_DUPLICATE', `A user with the email ${email} exists`);
      await this.directory.assign(trx, row.rows[0].id, input);
      return toSummary(row.rows[0]);
    });
  }

  /** Whether no user exists yet: the API answers 401 until setup creates the first administrator. */
  async setupRequired(): Promise<boolean> {
    const { rows } = await sql<{ any: boolean }>`SELECT EXISTS (SELECT 1 FROM xrm.users) AS any`.execute(this.db);
    return !rows[0]!.any;
  }

  /** A one-time setup token for the link the server prints when no user exists; undefined otherwise. */
  async setupToken(): Promise<string | undefined> {
    if (!(await this.setupRequired())) return undefined;
    this.#setupToken ??= newApiKey().slice(API_KEY_PREFIX.length);
    return this.#setupToken;
  }

  /**
   * First run without XRM_ADMIN_EMAIL: the holder of the setup token creates the first
   * administrator and is signed in. Once a user exists setup is done (409), whoever asks.
   */
  async setup(input: { token: string; email: string; password: string; displayName?: string }): Promise<LoginResult> {
    if (!(await this.setupRequired())) throw new XrmError('XRM_ERR_SETUP_DONE', 'Setup is done: sign in instead');
    const expected = this.#setupToken;
    if (!expected || !timingSafeEqualText(input.token, expected))
      throw authRequired('The setup token is wrong: use the link the server printed at start');
    await this.createUser({
      email: input.email,
      password: input.password,
      displayName: input.displayName ?? 'Administrator',
      roles: [SYSTEM_ADMINISTRATOR],
    });
    this.#setupToken = undefined;
    return this.login(input.email, input.password);
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
      const user = await this.createUser({
        email,
        displayName: 'Administrator',
        password,
        roles: [SYSTEM_ADMINISTRATOR],
      });
      log.info({ user: user.id, email: user.email }, 'first run: administrator created from XRM_ADMIN_EMAIL');
    } catch (err) {
      if (!(err instanceof XrmError && err.code === 'XRM_ERR_RECORD_DUPLICATE')) throw err;
    }
  }

  /** Every user, oldest first. */
  async listUsers(): Promise<UserAccount[]> {
    const { rows } = await sql<{ a: UserAccount }>`SELECT ${ACCOUNT_JSON} AS a
      FROM xrm.users u ORDER BY u.created_at, u.email`.execute(this.db);
    return rows.map((r) => r.a);
  }

  /** One user, or 404 XRM_ERR_USER_NOT_FOUND. */
  async account(id: string): Promise<UserAccount> {
    const { rows } = isUuid(id)
      ? await sql<{ a: UserAccount }>`SELECT ${ACCOUNT_JSON} AS a FROM xrm.users u WHERE u.id = ${id}`.execute(this.db)
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
    if (change.roles !== undefined || change.teams !== undefined || change.attributes !== undefined) {
      await this.db.transaction().execute(async (trx) => {
        await this.directory.assign(trx, id, change);
        if (change.attributes !== undefined)
          await sql`UPDATE xrm.users SET attributes = ${JSON.stringify(change.attributes)}, updated_at = now()
            WHERE id = ${id}`.execute(trx);
      });
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

  /**
   * A new API key of the user. `roles` restricts it to some of the roles the user holds (directly
   * or through a team); a key can never do more than its user.
   */
  async createApiKey(
    userId: string,
    input: { name: string; expiresAt?: string; roles?: readonly string[] },
  ): Promise<ApiKeyCreated> {
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
    let roleIds: string[] | null = null;
    if (input.roles !== undefined) {
      const held = await sql<{ id: string; name: string }>`SELECT r.id, r.name FROM xrm.roles r
        WHERE r.id IN (SELECT role_id FROM xrm.user_roles WHERE user_id = ${userId}
          UNION SELECT tr.role_id FROM xrm.team_roles tr JOIN xrm.team_members m ON m.team_id = tr.team_id
            WHERE m.user_id = ${userId})`.execute(this.db);
      const byName = new Map(held.rows.map((r) => [r.name, r.id]));
      const errors = input.roles.flatMap((n, i) =>
        byName.has(n) ? [] : [{ path: `/roles/${i}`, message: `you do not hold a role named "${n}"` }],
      );
      if (errors.length)
        throw new XrmError('XRM_ERR_REQUEST_INVALID', 'A key can only hold roles its user holds', { errors });
      roleIds = [...new Set(input.roles.map((n) => byName.get(n)!))];
    }
    const key = newApiKey();
    const rows = await sql<Record<string, unknown>>`
      INSERT INTO xrm.api_keys (id, name, key_hash, user_id, expires_at, roles)
      VALUES (${randomUUID()}, ${name}, ${tokenHash(key)}, ${userId}, ${expiresAt},
        ${roleIds === null ? null : JSON.stringify(roleIds)}::jsonb)
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
      SELECT k.id, k.name, k.created_at, k.expires_at, k.revoked_at, k.last_used_at,
        CASE WHEN k.roles IS NULL THEN NULL ELSE ARRAY(SELECT r.name FROM xrm.roles r
          WHERE r.id::text IN (SELECT jsonb_array_elements_text(k.roles)) ORDER BY r.name) END AS roles
      FROM xrm.api_keys k WHERE k.user_id = ${userId} ORDER BY k.created_at DESC, k.id`.execute(this.db);
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
