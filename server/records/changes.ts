/**
 * What a write operation changed, one entry per record and message — cascaded and bulk writes
 * included — handed to the change consumers (the audit trail, the outbox of async steps and
 * webhook deliveries) inside the operation's transaction, just before it commits. A consumer says
 * up front which messages it wants, so a write nobody observes keeps its one-statement fast path.
 */
import { randomUUID } from 'node:crypto';
import type { RawBuilder } from 'kysely';
import type { Catalog } from '../../metadata/catalog.ts';
import type { Db } from '../../metadata/database.ts';
import type { Principal } from '../../plugins/api.ts';

export type Row = Record<string, unknown>;

export { CHANGE_MESSAGES, type ChangeMessage } from '../../metadata/types.ts';
import type { ChangeMessage } from '../../metadata/types.ts';

export interface Change {
  /** Stable identity of this change: async steps' `ctx.eventId`, webhook deliveries' `webhook-id`. */
  readonly eventId: string;
  readonly message: ChangeMessage;
  readonly entity: string;
  /** The record's id (a link: the `from` record's). */
  readonly id: string;
  /** The input as written (after `before` steps); links: `{ relationship, fromId, toId }`. */
  readonly input: Row;
  /** The record as it was (update, delete). */
  readonly before?: Row;
  /** The record as written (create, update). */
  readonly after?: Row;
  readonly link?: { readonly relationship: string; readonly fromId: string; readonly toId: string };
  readonly depth: number;
  /** Raised by a delete's cascade (or set-null) rather than asked for. */
  readonly cascade?: boolean;
}

/** A plugin's custom message that ran on one record. */
export interface CustomEvent {
  readonly name: string;
  readonly entity: string;
  readonly id: string;
  readonly input: Row;
  readonly depth: number;
}

/** Who wrote, under which correlation id: what consumers record beside each change. */
export interface ChangeOrigin {
  readonly principal: Principal;
  readonly correlationId: string;
}

export interface ChangeConsumer {
  readonly name: string;
  /** Whether changes of `message` on `entity` concern this consumer (read for every write: keep it cheap). */
  wants(catalog: Catalog, message: ChangeMessage, entity: string): boolean;
  /** Records the operation's changes in its transaction (`catalog`: the one the write ran on); throwing rolls back. */
  record(trx: Db, origin: ChangeOrigin, changes: readonly Change[], catalog: Catalog): Promise<void>;
  /** Whether a plugin's custom message `name` on a record of `entity` concerns this consumer. */
  wantsCustom?(catalog: Catalog, name: string, entity: string): boolean;
  /** Records a custom message run on a record, in the operation's transaction. */
  custom?(trx: Db, origin: ChangeOrigin, event: CustomEvent, catalog: Catalog): Promise<void>;
  /** After the operation committed (wakes the job worker). */
  committed?(): void;
  /**
   * A statement that records one create, update or delete inside the write's own SQL statement
   * (reading the CTE `w(record json, old json, correlation_id text)`), for writes nothing else
   * observes. Concurrent creates of the same shape and origin may share that statement, one `w` row
   * each: what differs between them (the record, the correlation id) comes from `w`, never from
   * `origin.correlationId`.
   */
  inline?(
    message: ChangeMessage,
    entity: string,
    origin: ChangeOrigin,
    depth: number,
    catalog: Catalog,
  ): RawBuilder<unknown>;
}

export function newChange(change: Omit<Change, 'eventId'>): Change {
  return { eventId: randomUUID(), ...change };
}
