/**
 * The shapes shared by the activity import parsers (mbox, iCalendar, CSV): what a parser yields for each
 * message, event or row (an activity, or a problem naming the item), and the options every parser takes.
 * Pure types: no parser here, no database, no HTTP.
 */

export type ActivityKind = 'email' | 'call' | 'meeting' | 'note' | 'task';
export type Direction = 'inbound' | 'outbound' | 'internal';
export type PartyRole = 'from' | 'to' | 'cc' | 'attendee';

/** A participant. `address` is a lower-cased e-mail address, or a phone number as written. */
export interface ParsedParty {
  role: PartyRole;
  address: string;
  name?: string;
}

export interface ParsedActivity {
  kind: ActivityKind;
  direction: Direction;
  /** At most 998 characters (truncated). */
  subject?: string;
  /** Plain text; never present when `options.bodies === false`. */
  body?: string;
  /** ISO 8601 instant (`Date#toISOString()`). */
  occurred_at: string;
  /** Integer >= 0. */
  duration_minutes?: number;
  /** Tasks (CSV only). */
  due_at?: string;
  completed_at?: string;
  /**
   * RFC 5322 Message-ID without angle brackets, or the iCalendar UID (for a recurring event instance:
   * `${UID}/${RECURRENCE-ID or DTSTART ISO}`); at most 998 characters.
   */
  message_id?: string;
  /** The Message-ID this one replies to (In-Reply-To, without brackets; else the last id of References). */
  in_reply_to?: string;
  parties: ParsedParty[];
}

/** One message, event or row that could not be read; parsing goes on with the next one. */
export interface ParseProblem {
  problem: true;
  /** 1-based message / event / row number. */
  position: number;
  message: string;
}

export type ParsedItem = ParsedActivity | ParseProblem;

export interface ParseOptions {
  /** Whether an address belongs to the importing side (decides inbound vs outbound). */
  own(address: string): boolean;
  /** false: never put a body in the output (metadata-only mode). Default true. */
  bodies?: boolean;
  /** Called now and then with how many source bytes have been consumed so far (for a progress bar). */
  onBytes?(bytes: number): void;
  /** iCalendar: expand recurring events between these instants (default: no expansion beyond the first occurrence). */
  expandFrom?: Date;
  expandUntil?: Date;
}
