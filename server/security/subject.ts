/**
 * Who a policy's predicates are about: the signed-in user, their teams and attributes. Compiled
 * statements never embed these values: they hold a SubjectParameter where a value goes, and
 * `bindSubject` puts this request's values in when the statement runs — so a statement compiled
 * once serves every user of the same roles (cached by shape + policy, never by user).
 */
import { CompiledQuery } from 'kysely';

export interface Subject {
  /** The user (an API key: its owner); null for the system. */
  readonly userId: string | null;
  readonly email: string | null;
  /** Teams the user is a member of. */
  readonly teams: readonly string[];
  /** Who counts as "my team" for the `team` level: the user, their teams and those teams' members. */
  readonly owners: readonly string[];
  /** The user and their teams: whom shares may name. */
  readonly principals: readonly string[];
  /** `$user.<attribute>` in row rules. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

export const SYSTEM_SUBJECT: Subject = Object.freeze({
  userId: null,
  email: null,
  teams: [],
  owners: [],
  principals: [],
  attributes: {},
});

/** `$user.id`, `$user.teams`, `$user.email`, `$user.<attribute>` as written in a row rule. */
export const VARIABLE = /^\$user\.([A-Za-z_][A-Za-z0-9_]*)$/;

/** A principal variable in a filter AST (row rules only); compiled into a SubjectParameter. */
export class SubjectVariable {
  constructor(readonly name: string) {}
  /** Whether the variable is a list (`$user.teams`): usable with in / nin. */
  get list(): boolean {
    return this.name === 'teams';
  }
}

/** Where a subject value goes in a compiled statement, with the SQL type it is cast to. */
export class SubjectParameter {
  constructor(
    readonly name: string,
    readonly cast: string,
  ) {}

  value(subject: Subject): unknown {
    const raw = this.#raw(subject);
    const array = this.cast.endsWith('[]');
    const base = array ? this.cast.slice(0, -2) : this.cast;
    if (array) {
      // a missing attribute is no list at all (NULL: matches nothing), unlike an empty one
      if (raw == null) return null;
      const items = Array.isArray(raw) ? raw : [raw];
      return items.map((v) => encode(v, base)).filter((v) => v !== null);
    }
    return Array.isArray(raw) ? null : encode(raw, base);
  }

  #raw(subject: Subject): unknown {
    switch (this.name) {
      case 'id':
        return subject.userId;
      case 'email':
        return subject.email;
      case 'teams':
        return subject.teams;
      case '@owners':
        return subject.owners;
      case '@principals':
        return subject.principals;
      default:
        return subject.attributes[this.name] ?? null;
    }
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A value as the SQL type wants it, or null when it cannot be one (an attribute of the wrong
 * type matches nothing rather than failing the statement).
 */
function encode(value: unknown, cast: string): unknown {
  if (value === null || value === undefined) return null;
  switch (cast) {
    case 'uuid':
      return typeof value === 'string' && UUID.test(value) ? value : null;
    case 'jsonb':
      return JSON.stringify(value);
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'integer':
    case 'bigint':
      return typeof value === 'number' && Number.isInteger(value) ? value : null;
    case 'numeric':
    case 'double precision':
      return typeof value === 'number' && Number.isFinite(value) ? value : null;
    case 'timestamptz':
    case 'date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? value : null;
    default:
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : null;
  }
}

const positions = new WeakMap<CompiledQuery, readonly number[]>();

/** The statement with this subject's values where it holds SubjectParameters (the same statement when none). */
export function bindSubject(query: CompiledQuery, subject: Subject | undefined): CompiledQuery {
  let at = positions.get(query);
  if (!at) {
    at = query.parameters.flatMap((p, i) => (p instanceof SubjectParameter ? [i] : []));
    positions.set(query, at);
  }
  if (!at.length) return query;
  const parameters = [...query.parameters];
  for (const i of at) parameters[i] = (parameters[i] as SubjectParameter).value(subject ?? SYSTEM_SUBJECT);
  return CompiledQuery.raw(query.sql, parameters);
}
