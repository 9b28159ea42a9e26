/**
 * CSV → activities (any kind), streaming.
 *
 * RFC 4180 parsing by `csv-parse`'s streaming parser: a header row names the columns (case-insensitive; unknown
 * columns are ignored), each further row is one activity. The delimiter is `,`, unless the header line has more
 * `;` or tabs (spreadsheets in many locales export `;`-separated "CSV"). A row whose kind, direction, date, number
 * or address cannot be read, or that is not valid CSV, becomes a problem naming the row (1 = the first row after
 * the header) and the column, and parsing goes on.
 *
 * Columns: kind, direction, subject, body, occurred_at, duration_minutes, due_at, completed_at, message_id,
 * in_reply_to, from, to, cc, attendees (addresses separated by `;` or `,`, "Name <addr>" allowed), phone.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import {
  byteChunks,
  directionOf,
  firstMessageId,
  isEmail,
  nonEmpty,
  problem,
  type SourceChunk,
  truncate,
} from './common.ts';
import type {
  ActivityKind,
  Direction,
  ParsedActivity,
  ParsedItem,
  ParsedParty,
  ParseOptions,
  ParseProblem,
  PartyRole,
} from './types.ts';

const COLUMNS = [
  'kind',
  'direction',
  'subject',
  'body',
  'occurred_at',
  'duration_minutes',
  'due_at',
  'completed_at',
  'message_id',
  'in_reply_to',
  'from',
  'to',
  'cc',
  'attendees',
  'phone',
] as const;
type Column = (typeof COLUMNS)[number];
type Row = Partial<Record<Column, string>>;

const KINDS: readonly ActivityKind[] = ['email', 'call', 'meeting', 'note', 'task'];
const DIRECTIONS: readonly Direction[] = ['inbound', 'outbound', 'internal'];
/** One record (row) longer than this is reported rather than buffered. */
const MAX_RECORD_CHARS = 16 * 1024 * 1024;
/** How much is read, at most, looking for the end of the header line to choose the delimiter. */
const SNIFF_BYTES = 64 * 1024;
const LF = 0x0a;

/** Parses a CSV export into one activity (or one problem) per data row. */
export async function* parseCsv(source: AsyncIterable<SourceChunk>, options: ParseOptions): AsyncGenerator<ParsedItem> {
  const skipped: ParseProblem[] = [];
  let rows = 0;
  const { delimiter, chunks } = await sniffDelimiter(byteChunks(source, options.onBytes));
  const parser = parse({
    bom: true,
    delimiter,
    columns: (header: string[]) => header.map(columnOf),
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: MAX_RECORD_CHARS,
    on_record: (record: Row) => ({ row: ++rows, record }),
    on_skip: (error) => {
      rows += 1;
      skipped.push(problem(rows, `row ${rows}: ${error?.message ?? 'not valid CSV'}`));
      return undefined;
    },
  });
  const feeding = pipeline(Readable.from(chunks), parser);
  feeding.catch(() => {}); // its failure surfaces through the iteration below
  try {
    for await (const { row, record } of parser as AsyncIterable<{ row: number; record: Row }>) {
      while (skipped.length > 0 && skipped[0].position < row) yield skipped.shift()!;
      yield rowToItem(row, record, options);
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    skipped.push(problem(rows + 1, `row ${rows + 1}: ${error.message}`));
  }
  yield* skipped;
}

/** Reads up to the end of the header line to choose the delimiter; `chunks` is the whole stream again. */
async function sniffDelimiter(
  source: AsyncGenerator<Buffer>,
): Promise<{ delimiter: string; chunks: AsyncGenerator<Buffer> }> {
  const head: Buffer[] = [];
  let size = 0;
  for (let next = await source.next(); !next.done; next = await source.next()) {
    head.push(next.value);
    size += next.value.length;
    if (next.value.includes(LF) || size >= SNIFF_BYTES) break;
  }
  const headerLine = Buffer.concat(head).toString('utf8').split('\n', 1)[0];
  async function* chunks(): AsyncGenerator<Buffer> {
    yield* head;
    yield* source;
  }
  return { delimiter: delimiterOf(headerLine), chunks: chunks() };
}

/** The most frequent of `,` `;` and tab outside quotes in the header line; `,` when none is. */
function delimiterOf(headerLine: string): string {
  const counts = new Map<string, number>([
    [',', 0],
    [';', 0],
    ['\t', 0],
  ]);
  let quoted = false;
  for (const char of headerLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && counts.has(char)) counts.set(char, counts.get(char)! + 1);
  }
  let best = ',';
  for (const [delimiter, count] of counts) if (count > counts.get(best)!) best = delimiter;
  return best;
}

function columnOf(header: string): Column | false {
  const name = header.trim().toLowerCase() as Column;
  return COLUMNS.includes(name) ? name : false;
}

/** A value that cannot be read: the row becomes a problem naming this column. */
class ColumnError extends Error {
  constructor(
    readonly column: Column,
    message: string,
  ) {
    super(message);
  }
}

function rowToItem(row: number, record: Row, options: ParseOptions): ParsedItem {
  try {
    return rowToActivity(record, options);
  } catch (error) {
    if (!(error instanceof ColumnError)) throw error;
    return problem(row, `row ${row}, column ${error.column}: ${error.message}`);
  }
}

function rowToActivity(record: Row, options: ParseOptions): ParsedActivity {
  const value = (column: Column): string | undefined => nonEmpty(record[column]);
  const kind = oneOf(value('kind'), KINDS, 'kind') ?? 'note';
  const dueAt = dateOf(value('due_at'), 'due_at');
  const completedAt = dateOf(value('completed_at'), 'completed_at');
  const occurredAt =
    dateOf(value('occurred_at'), 'occurred_at') ?? (kind === 'task' ? (completedAt ?? dueAt) : undefined);
  if (!occurredAt) throw new ColumnError('occurred_at', 'a date is required');

  const senders = addressesOf(value('from'), 'from', 'from');
  const recipients = [
    ...addressesOf(value('to'), 'to', 'to'),
    ...addressesOf(value('cc'), 'cc', 'cc'),
    ...addressesOf(value('attendees'), 'attendees', 'attendee'),
  ];
  const direction =
    oneOf(value('direction'), DIRECTIONS, 'direction') ?? derivedDirection(senders, recipients, options);
  const parties = [...senders, ...recipients];
  const phone = value('phone');
  if (phone) parties.push({ role: direction === 'inbound' ? 'from' : 'to', address: phoneOf(phone, 'phone') });

  const activity: ParsedActivity = { kind, direction, occurred_at: occurredAt, parties };
  const subject = value('subject');
  if (subject) activity.subject = truncate(subject);
  const body = value('body');
  if (body && options.bodies !== false) activity.body = body;
  const duration = minutesOf(value('duration_minutes'));
  if (duration !== undefined) activity.duration_minutes = duration;
  if (kind === 'task' && dueAt) activity.due_at = dueAt;
  if (kind === 'task' && completedAt) activity.completed_at = completedAt;
  const messageId = firstMessageId(value('message_id'));
  if (messageId) activity.message_id = messageId;
  const inReplyTo = firstMessageId(value('in_reply_to'));
  if (inReplyTo) activity.in_reply_to = inReplyTo;
  return activity;
}

/** Like mbox: inbound unless the sender is own; a row without a sender was logged by the importing side. */
function derivedDirection(senders: ParsedParty[], recipients: ParsedParty[], options: ParseOptions): Direction {
  if (senders.length === 0 && recipients.length === 0) return 'internal';
  const senderIsOwn = senders.length === 0 || options.own(senders[0].address);
  return directionOf(
    senderIsOwn,
    recipients.map((party) => party.address),
    options.own,
  );
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], column: Column): T | undefined {
  if (value === undefined) return undefined;
  const normalized = value.toLowerCase() as T;
  if (!allowed.includes(normalized)) throw new ColumnError(column, `"${value}" is not one of ${allowed.join(', ')}`);
  return normalized;
}

function minutesOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+(?:\.\d+)?$/.test(value)) {
    throw new ColumnError('duration_minutes', `"${value}" is not a number of minutes (>= 0)`);
  }
  return Math.round(Number(value));
}

const DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** ISO 8601 (`2024-05-01`, `2024-05-01T10:00:00+02:00`) or `YYYY-MM-DD HH:MM[:SS]`; no zone means UTC. */
function dateOf(value: string | undefined, column: Column): string | undefined {
  if (value === undefined) return undefined;
  const match = DATE.exec(value);
  const invalid = new ColumnError(column, `"${value}" is not a date (ISO 8601 or YYYY-MM-DD HH:MM[:SS])`);
  if (!match) throw invalid;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone] = match;
  const milliseconds = Math.floor(Number(`0.${fraction || '0'}`) * 1000);
  const wall = Date.UTC(+year, +month - 1, +day, +hour, +minute, +second, milliseconds);
  const check = new Date(wall);
  const fieldsValid =
    check.getUTCFullYear() === +year &&
    check.getUTCMonth() === +month - 1 &&
    check.getUTCDate() === +day &&
    +hour < 24 &&
    +minute < 60 &&
    +second < 60;
  if (!fieldsValid) throw invalid;
  return new Date(wall - zoneOffsetMinutes(zone) * 60_000).toISOString();
}

function zoneOffsetMinutes(zone: string | undefined): number {
  if (!zone || zone.toUpperCase() === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
  return zone.startsWith('-') ? -minutes : minutes;
}

/** `a@b.c; "Doe, Jane" <jane@d.e>, +1 555 0100`: e-mail addresses (lower-cased) or phone numbers (as written). */
function addressesOf(value: string | undefined, column: Column, role: PartyRole): ParsedParty[] {
  if (value === undefined) return [];
  return splitList(value).map((entry) => {
    const bracketed = /^(.*?)<([^<>]*)>$/.exec(entry);
    const name = bracketed ? nonEmpty(bracketed[1].trim().replace(/^"(.*)"$/, '$1')) : undefined;
    const address = (bracketed ? bracketed[2] : entry).trim().replace(/^mailto:/i, '');
    const party: ParsedParty = { role, address: isEmail(address) ? address.toLowerCase() : phoneOf(address, column) };
    if (name) party.name = name;
    return party;
  });
}

/** Splits on `,` and `;` outside double quotes and angle brackets; empty entries are dropped. */
function splitList(value: string): string[] {
  const entries: string[] = [];
  let current = '';
  let quoted = false;
  let bracketed = false;
  for (const char of value) {
    if (char === '"') quoted = !quoted;
    else if (char === '<' && !quoted) bracketed = true;
    else if (char === '>' && !quoted) bracketed = false;
    if ((char === ',' || char === ';') && !quoted && !bracketed) {
      entries.push(current);
      current = '';
    } else current += char;
  }
  entries.push(current);
  return entries.map((entry) => entry.trim()).filter(Boolean);
}

const PHONE = /^\+?[\d\s().\-/]+(?:\s*(?:x|ext\.?)\s*\d+)?$/i;

function phoneOf(value: string, column: Column): string {
  const phone = value.trim();
  const digits = phone.replace(/\D/g, '').length;
  if (!PHONE.test(phone) || digits < 3) {
    throw new ColumnError(column, `"${value}" is not an e-mail address or phone number`);
  }
  return phone;
}
