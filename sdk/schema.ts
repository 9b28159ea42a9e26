/**
 * What the SDK knows of an instance's entities, as types only. An entity map is `XrmEntities`
 * from `xrm types` (record types as read, created and updated), or the richer `XrmSchema` that
 * `xrm codegen` writes, which adds every field's type, the lookups' targets, the to-many
 * relations and the alternate keys, so filters, sorts and expansions are typed through them.
 */
import type { SystemFieldTypes, XrmFieldType } from './field-types.ts';

// the platform's field types, generated from its field-type registry
export type { SystemFieldTypes, XrmFieldType } from './field-types.ts';

/** One entity: its record types and, from `xrm codegen`, its structure. */
export interface EntityTypes {
  /** A record as the API returns it. */
  read: object;
  /** What to send to create a record. */
  create: object;
  /** What to send to change a record. */
  update: object;
  /** Field name → field type. */
  fields?: { [field: string]: XrmFieldType };
  /** Lookup field → logical name of the entity it references. */
  lookups?: { [field: string]: string };
  /** To-many relation (one-to-many inverse or many-to-many) → logical name of the entity on the far side. */
  relations?: { [relation: string]: string };
  /** Names of the many-to-many relations (associate and disassociate apply to these). */
  manyToMany?: string;
  /** Names of the alternate keys (upserts). */
  keys?: string;
}

/** A map of entity logical names to their types; `E` is the map itself (interfaces qualify). */
export type EntityMap<E> = { [N in keyof E]: EntityTypes };

/** A record of an entity the client has no types for. */
export interface XrmRecord {
  id: string;
  created_at: string;
  updated_at: string;
  created_by: string | null;
  owner_id: string | null;
  version: number;
  [field: string]: unknown;
}

/** The entity map used when none is known: every entity, loosely typed. */
export interface AnyEntities {
  [entity: string]: { read: XrmRecord; create: { [field: string]: unknown }; update: { [field: string]: unknown } };
}

/**
 * Registration of an instance's schema: the file `xrm codegen` writes adds
 * `schema: XrmSchema` here, which makes it the default of `createClient`.
 */
// an interface, not a type alias: `xrm codegen` adds `schema` to it by declaration merging
// biome-ignore lint/suspicious/noEmptyInterface: merged into by generated clients
export interface XrmRegister {}

/** The registered schema, or `AnyEntities`. */
export type RegisteredEntities = XrmRegister extends { schema: infer S } ? S : AnyEntities;

/** Entity logical names of a map. */
export type EntityName<E> = keyof E & string;

type Types<E, N extends keyof E> = E[N] extends EntityTypes ? E[N] : never;

export type ReadOf<E, N extends keyof E> = Types<E, N>['read'];
export type CreateOf<E, N extends keyof E> = Types<E, N>['create'];
export type UpdateOf<E, N extends keyof E> = Types<E, N>['update'];

/** Field names of an entity's records, system fields included. */
export type FieldOf<E, N extends keyof E> = keyof ReadOf<E, N> & string;

/** Lookup field → target entity; `{}` when the map does not say. */
export type LookupsOf<E, N extends keyof E> = E[N] extends { lookups: infer L } ? L : {};
/** To-many relation → target entity; `{}` when the map does not say. */
export type RelationsOf<E, N extends keyof E> = E[N] extends { relations: infer R } ? R : {};
/** Whether the map describes the entity's structure (written by `xrm codegen`). */
export type Described<E, N extends keyof E> = E[N] extends { relations: object; lookups: object } ? true : false;
/** Names of the many-to-many relations (any string when the map does not say). */
export type ManyToManyOf<E, N extends keyof E> =
  Described<E, N> extends true ? (E[N] extends { manyToMany: infer M extends string } ? M : never) : string;
/** Names of the alternate keys (any string when the map does not say). */
export type KeyOf<E, N extends keyof E> = E[N] extends { keys: infer K extends string } ? K : string;

/** A field's type from the map, or `undefined` when the map does not say. */
export type FieldTypeOf<E, N extends keyof E, K extends string> = K extends keyof SystemFieldTypes
  ? SystemFieldTypes[K]
  : E[N] extends { fields: infer F }
    ? K extends keyof F
      ? F[K]
      : undefined
    : undefined;

/** Target entity of a lookup field (never when `K` is not a lookup the map knows). */
export type TargetOf<E, N extends keyof E, K> = K extends keyof LookupsOf<E, N>
  ? Extract<LookupsOf<E, N>[K], keyof E>
  : never;

/** Flattens an intersection for readable hovers. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};
