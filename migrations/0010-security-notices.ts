import { sql, type Kysely } from 'kysely';

/**
 * Every change to who may do what NOTIFYs `xrm_security` at commit (PostgreSQL folds a
 * transaction's identical notices into one): a session revoked or removed; a user disabled, their
 * credentials or attributes changed, or removed; an API key revoked, re-scoped or removed; roles,
 * teams and their members. An instance keeps a request's resolved access in memory only while
 * its LISTEN connection holds, and forgets all of it on each notice (server/security/access.ts),
 * so a revocation made on any instance, or by hand in SQL, counts on the next request.
 *
 * Row triggers (plus one per statement for TRUNCATE): a statement that changes nothing, such as
 * signing out a token nobody holds, sends nothing. Signing in (a new session), creating a user and
 * writing an API key's last use change nobody's access, so they send nothing either.
 */
const EVENTS: Readonly<Record<string, string>> = {
  sessions: 'UPDATE OF revoked_at, expires_at, user_id, token_hash OR DELETE',
  users: 'UPDATE OF disabled, credentials_changed_at, attributes, email OR DELETE',
  api_keys: 'UPDATE OF revoked_at, expires_at, roles, user_id, key_hash OR DELETE',
  roles: 'INSERT OR UPDATE OR DELETE',
  teams: 'INSERT OR UPDATE OR DELETE',
  team_members: 'INSERT OR UPDATE OR DELETE',
  user_roles: 'INSERT OR UPDATE OR DELETE',
  team_roles: 'INSERT OR UPDATE OR DELETE',
};

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE FUNCTION xrm.notify_security() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('xrm_security', ''); RETURN NULL; END $$`.execute(db);
  for (const [name, events] of Object.entries(EVENTS)) {
    const table = sql.id('xrm', name);
    await sql`CREATE TRIGGER security_notice AFTER ${sql.raw(events)} ON ${table}
      FOR EACH ROW EXECUTE FUNCTION xrm.notify_security()`.execute(db);
    await sql`CREATE TRIGGER security_notice_truncate AFTER TRUNCATE ON ${table}
      FOR EACH STATEMENT EXECUTE FUNCTION xrm.notify_security()`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const name of Object.keys(EVENTS)) {
    await sql`DROP TRIGGER security_notice ON ${sql.id('xrm', name)}`.execute(db);
    await sql`DROP TRIGGER security_notice_truncate ON ${sql.id('xrm', name)}`.execute(db);
  }
  await sql`DROP FUNCTION xrm.notify_security()`.execute(db);
}
