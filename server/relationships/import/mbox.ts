/**
 * mbox → email activities, streaming.
 *
 * The byte stream is cut into messages at "From " separator lines (mboxo / mboxrd; `>From ` lines are unescaped)
 * and each message is written, as it arrives, into its own streaming MIME parser, so at most one message is
 * in memory (its text parts; attachment contents are drained, never kept). A 1 GB mbox is fine.
 *
 * MIME parsing: `mailparser` (nodemailer project, MIT, engines node >= 20). Chosen over `postal-mime` because its
 * streaming `MailParser` takes a message chunk by chunk and hands attachments over as streams that can be dropped
 * (postal-mime reads the whole message before parsing and keeps every attachment's content), and it decodes
 * charsets with libmime/iconv-lite, the stack of the nodemailer the platform already sends mail with.
 * An HTML-only body is turned into text with `html-to-text`, the converter mailparser itself depends on (mailparser
 * converts only some HTML-only layouts, not e.g. HTML plus attachments, so it is done here for all of them).
 */
import { compile } from 'html-to-text';
import { MailParser, type AddressObject, type AttachmentStream, type EmailAddress, type MessageText } from 'mailparser';
import {
  byteChunks,
  directionOf,
  errorMessage,
  firstMessageId,
  lastMessageId,
  nonEmpty,
  problem,
  type SourceChunk,
  truncate,
} from './common.ts';
import type { ParsedActivity, ParsedItem, ParsedParty, ParseOptions, PartyRole } from './types.ts';

const LF = 0x0a;
const CR = 0x0d;
const GT = 0x3e;
const FROM_ = Buffer.from('From ');
const EMPTY = Buffer.alloc(0);
/** A line longer than this is passed on in pieces rather than held whole (base64 without line breaks...). */
const MAX_PENDING_LINE = 64 * 1024;

/** A separator's "From sender date" when it is not the first line of a message: must carry an asctime date. */
const ASCTIME = new RegExp(
  [
    String.raw`\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+(\d{1,2})`,
    String.raw`\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s+([+-]\d{4}|[A-Z]{1,5}))?\s+(\d{4})(?:\s+([+-]\d{4}))?`,
  ].join(''),
  'i',
);
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const PARSER_OPTIONS = {
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  checksumAlgo: false,
} as const;

const htmlToText = compile({ wordwrap: false, limits: { maxDepth: 256 } });

/** Parses an mbox file into one email activity (or one problem) per message. */
export async function* parseMbox(
  source: AsyncIterable<SourceChunk>,
  options: ParseOptions,
): AsyncGenerator<ParsedItem> {
  const splitter = new MboxSplitter();
  const messages = new MessageSequence(options);
  try {
    for await (const chunk of byteChunks(source, options.onBytes)) {
      yield* messages.accept(splitter.push(chunk));
    }
    yield* messages.accept(splitter.end());
    yield* messages.finishCurrent();
  } finally {
    messages.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Splitting the byte stream into messages

type MboxPiece = { type: 'start'; envelope: string } | { type: 'line'; data: Buffer; blank: boolean };

/** Cuts mbox bytes into message starts (From_ lines) and message lines (unescaped), keeping only a partial line. */
class MboxSplitter {
  private pending: Buffer = EMPTY;
  /** The current line's beginning was already passed on (it was longer than MAX_PENDING_LINE). */
  private continuing = false;
  private previousBlank = true;
  private inMessage = false;

  push(chunk: Buffer): MboxPiece[] {
    const out: MboxPiece[] = [];
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let start = 0;
    for (let newline = data.indexOf(LF); newline !== -1; newline = data.indexOf(LF, start)) {
      this.take(data.subarray(start, newline + 1), false, out);
      start = newline + 1;
    }
    this.pending = data.subarray(start);
    if (this.pending.length > MAX_PENDING_LINE) {
      this.take(this.pending, true, out);
      this.pending = EMPTY;
    }
    return out;
  }

  end(): MboxPiece[] {
    const out: MboxPiece[] = [];
    if (this.pending.length > 0) this.take(this.pending, false, out);
    this.pending = EMPTY;
    return out;
  }

  /** `partial`: the line goes on in the next chunk. */
  private take(line: Buffer, partial: boolean, out: MboxPiece[]): void {
    const lineStart = !this.continuing;
    this.continuing = partial;
    if (!lineStart) {
      out.push({ type: 'line', data: line, blank: false });
      return;
    }
    if (this.isSeparator(line)) {
      out.push({ type: 'start', envelope: line.toString('latin1').trim() });
      this.inMessage = true;
      this.previousBlank = false;
      return;
    }
    const blank = !partial && isBlankLine(line);
    if (!this.inMessage && blank) return;
    this.inMessage = true;
    this.previousBlank = blank;
    out.push({ type: 'line', data: unescapeFrom(line), blank });
  }

  /** A "From " line starts a message at the top of the file, after a blank line, or when it carries a date. */
  private isSeparator(line: Buffer): boolean {
    if (line.length < FROM_.length || !line.subarray(0, FROM_.length).equals(FROM_)) return false;
    return !this.inMessage || this.previousBlank || ASCTIME.test(line.toString('latin1'));
  }
}

function isBlankLine(line: Buffer): boolean {
  if (line.length === 2) return line[0] === CR && line[1] === LF;
  return line.length === 0 || (line.length === 1 && line[0] === LF);
}

/** mboxrd: `>From `, `>>From `... lose one `>` (this also unescapes mboxo's `>From `). */
function unescapeFrom(line: Buffer): Buffer {
  if (line[0] !== GT) return line;
  let quotes = 1;
  while (line[quotes] === GT) quotes++;
  const rest = line.subarray(quotes, quotes + FROM_.length);
  return rest.equals(FROM_) ? line.subarray(1) : line;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing one message at a time

/** The messages of one mbox in order: at most one is open (being written to its parser) at a time. */
class MessageSequence {
  private current: MessageReader | undefined;
  private position = 0;

  constructor(private readonly options: ParseOptions) {}

  async *accept(pieces: MboxPiece[]): AsyncGenerator<ParsedItem> {
    for (const piece of pieces) {
      if (piece.type === 'start') {
        yield* this.finishCurrent();
        this.current = this.open(piece.envelope);
      } else {
        this.current ??= this.open(undefined);
        this.current.add(piece.data, piece.blank);
      }
    }
    await this.current?.drain();
  }

  async *finishCurrent(): AsyncGenerator<ParsedItem> {
    const reader = this.current;
    this.current = undefined;
    if (reader) yield await reader.finish(this.options);
  }

  destroy(): void {
    this.current?.destroy();
    this.current = undefined;
  }

  private open(envelope: string | undefined): MessageReader {
    this.position += 1;
    return new MessageReader(this.position, envelope, this.options.bodies !== false);
  }
}

/** One message being fed, line batch by line batch, into mailparser's streaming parser. */
class MessageReader {
  private readonly parser = new MailParser(PARSER_OPTIONS);
  private readonly batch: Buffer[] = [];
  private readonly settled: Promise<void>;
  private inHeaders = true;
  private failure: unknown;
  private text: string | undefined;
  private html: string | undefined;

  constructor(
    readonly position: number,
    readonly envelope: string | undefined,
    private readonly withBody: boolean,
  ) {
    this.parser.on('data', (data) => this.receive(data));
    this.settled = new Promise((resolve) => {
      this.parser.on('error', (error: unknown) => {
        this.failure ??= error;
        resolve();
      });
      this.parser.once('end', resolve);
      this.parser.once('close', resolve);
    });
  }

  /** Metadata-only mode stops at the end of the headers: the body is never parsed. */
  add(line: Buffer, blank: boolean): void {
    if (this.failure !== undefined || (!this.withBody && !this.inHeaders)) return;
    this.batch.push(line);
    if (blank) this.inHeaders = false;
  }

  /** Writes the lines gathered so far and waits while the parser's buffer is full. */
  async drain(): Promise<void> {
    this.flush();
    if (this.failure !== undefined || !this.parser.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.parser.off('drain', done);
        this.parser.off('close', done);
        this.parser.off('error', done);
        resolve();
      };
      this.parser.on('drain', done);
      this.parser.on('close', done);
      this.parser.on('error', done);
    });
  }

  async finish(options: ParseOptions): Promise<ParsedItem> {
    this.flush();
    if (this.failure === undefined) this.parser.end();
    await this.settled;
    if (this.failure !== undefined) {
      return problem(this.position, `message ${this.position}: ${errorMessage(this.failure)}`);
    }
    return toActivity(this.fields(), options);
  }

  destroy(): void {
    this.parser.destroy();
  }

  private flush(): void {
    if (this.batch.length === 0 || this.failure !== undefined) return;
    const data = this.batch.length === 1 ? this.batch[0] : Buffer.concat(this.batch);
    this.batch.length = 0;
    this.parser.write(data);
  }

  private receive(data: AttachmentStream | MessageText): void {
    if (data.type === 'text') {
      this.text = data.text;
      this.html = data.html;
      return;
    }
    // attachments are not imported: discard their content and let the parser go on
    data.content.resume();
    data.release?.();
  }

  /** The text parts, or else the HTML parts converted to text. */
  private plainText(): string | undefined {
    if (nonEmpty(this.text) || !this.html) return this.text;
    try {
      return htmlToText(this.html);
    } catch {
      return undefined;
    }
  }

  private fields(): MessageFields {
    const parser = this.parser;
    return {
      position: this.position,
      envelope: this.envelope,
      from: addressesOf(parser.from),
      to: addressesOf(parser.to),
      cc: addressesOf(parser.cc),
      subject: parser.subject,
      dateHeader: rawHeader(parser.headerLines, 'date'),
      messageId: parser.messageId,
      inReplyTo: parser.inReplyTo,
      references: Array.isArray(parser.references) ? parser.references.join(' ') : parser.references,
      text: this.withBody ? this.plainText() : undefined,
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// From parsed headers to an activity

interface MessageFields {
  position: number;
  envelope: string | undefined;
  from: EmailAddress[];
  to: EmailAddress[];
  cc: EmailAddress[];
  subject: string | undefined;
  dateHeader: string | undefined;
  messageId: string | undefined;
  inReplyTo: string | undefined;
  references: string | undefined;
  text: string | undefined;
}

function toActivity(fields: MessageFields, options: ParseOptions): ParsedItem {
  const { position } = fields;
  const sender = fields.from[0]?.address?.toLowerCase();
  if (!sender) return problem(position, `message ${position}: no From address`);
  const occurred = parseDateHeader(fields.dateHeader) ?? envelopeDate(fields.envelope);
  if (!occurred) return problem(position, `message ${position}: no valid Date header and no date on its From line`);

  const parties = [...partiesOf(fields.from, 'from'), ...partiesOf(fields.to, 'to'), ...partiesOf(fields.cc, 'cc')];
  const recipients = parties.filter((party) => party.role !== 'from').map((party) => party.address);
  const activity: ParsedActivity = {
    kind: 'email',
    direction: directionOf(options.own(sender), recipients, options.own),
    occurred_at: occurred.toISOString(),
    parties,
  };
  const subject = nonEmpty(fields.subject);
  if (subject) activity.subject = truncate(subject);
  const body = nonEmpty(fields.text);
  if (body && options.bodies !== false) activity.body = body;
  const messageId = firstMessageId(fields.messageId);
  if (messageId) activity.message_id = messageId;
  const inReplyTo = firstMessageId(fields.inReplyTo) ?? lastMessageId(fields.references);
  if (inReplyTo) activity.in_reply_to = inReplyTo;
  return activity;
}

function addressesOf(header: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  if (!header) return [];
  const objects = Array.isArray(header) ? header : [header];
  return objects.flatMap((object) => object.value.flatMap((entry) => entry.group ?? [entry]));
}

function partiesOf(addresses: EmailAddress[], role: PartyRole): ParsedParty[] {
  const parties: ParsedParty[] = [];
  for (const { address, name } of addresses) {
    if (!address) continue;
    const party: ParsedParty = { role, address: address.trim().toLowerCase() };
    const displayName = nonEmpty(name);
    if (displayName) party.name = displayName;
    parties.push(party);
  }
  return parties;
}

/** The unfolded value of the first raw header named `key`. */
function rawHeader(lines: MailParser['headerLines'], key: string): string | undefined {
  if (!lines) return undefined;
  const line = lines.find((entry) => entry.key === key)?.line;
  if (line === undefined) return undefined;
  return line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ');
}

const HAS_ZONE = /(?:[+-]\d{4}|\b(?:UT|UTC|GMT|Z|[ECMP][SD]T))\s*$/i;

/**
 * An RFC 5322 date (mailparser's own parsed Date falls back to "now" for an invalid one, so the raw header is
 * read here). A date without a zone is taken as UTC, whatever the server's zone.
 */
function parseDateHeader(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  let text = value
    .replace(/\([^()]*\)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!/\d{1,2}:\d{2}/.test(text)) return undefined;
  if (!HAS_ZONE.test(text)) text += ' +0000';
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : new Date(time);
}

/** The date of a From_ line (`From sender Mon Jan  1 10:00:00 2024`, maybe with a zone), UTC unless it says. */
function envelopeDate(envelope: string | undefined): Date | undefined {
  const match = envelope ? ASCTIME.exec(envelope) : null;
  if (!match) return undefined;
  const [, month, day, hour, minute, second = '0', zoneBefore, year, zoneAfter] = match;
  const utc = Date.UTC(+year, MONTHS.indexOf(month.toLowerCase()), +day, +hour, +minute, +second);
  const offset = zoneMinutes(zoneAfter ?? zoneBefore);
  const date = new Date(utc - offset * 60_000);
  return Number.isNaN(date.getTime()) || +hour > 23 || +day > 31 ? undefined : date;
}

function zoneMinutes(zone: string | undefined): number {
  const match = zone ? /^([+-])(\d{2})(\d{2})$/.exec(zone) : null;
  if (!match) return 0;
  const minutes = +match[2] * 60 + +match[3];
  return match[1] === '-' ? -minutes : minutes;
}
