/**
 * iCalendar (.ics) → meeting activities, streaming.
 *
 * The text is read line by line and cut into VEVENT blocks, one at a time; VTIMEZONE blocks seen so far are kept
 * (parsed once, attached to one long-lived VCALENDAR) so that each event's TZIDs resolve against them. Each block
 * is parsed with `ical.js` (Mozilla, MPL-2.0): components, VTIMEZONE rules, RRULE/RDATE/EXDATE expansion.
 * Consecutive VEVENTs sharing a UID (a series and its RECURRENCE-ID overrides) are held together so that an
 * override replaces, or a cancelled override removes, the occurrence it stands for; memory stays one series.
 *
 * Times: a TZID with a VTIMEZONE in the file uses that definition; a TZID without one is tried as an IANA zone
 * name; an unknown TZID makes the event a problem (rather than a silently shifted time). Floating times are UTC.
 * All-day events start at 00:00 UTC of their date.
 */
import ICAL from 'ical.js';
import {
  byteChunks,
  directionOf,
  errorMessage,
  isEmail,
  nonEmpty,
  problem,
  type SourceChunk,
  truncate,
} from './common.ts';
import type { ParsedActivity, ParsedItem, ParsedParty, ParseOptions } from './types.ts';

type Component = InstanceType<typeof ICAL.Component>;
type Property = InstanceType<typeof ICAL.Property>;
type Time = InstanceType<typeof ICAL.Time>;

/** Occurrences emitted per recurring event inside the expansion window. */
const MAX_OCCURRENCES = 1000;
/** Recurrence steps walked per event (occurrences before the window included) before giving up. */
const MAX_RECURRENCE_STEPS = 100_000;
/** A series is handled once this many of its VEVENTs are held (a file reusing one UID everywhere stays bounded). */
const MAX_SERIES_EVENTS = 1000;
/** A VEVENT larger than this (huge ATTACH...) is reported, not parsed. */
const MAX_BLOCK_CHARS = 8 * 1024 * 1024;

/** Parses an iCalendar file into one meeting activity per event occurrence, or a problem per bad VEVENT. */
export async function* parseIcs(source: AsyncIterable<SourceChunk>, options: ParseOptions): AsyncGenerator<ParsedItem> {
  const decoder = new TextDecoder('utf-8');
  const blocks = new IcsBlockReader();
  const calendar = new Calendar(options);
  for await (const chunk of byteChunks(source, options.onBytes)) {
    for (const block of blocks.push(decoder.decode(chunk, { stream: true }))) yield* calendar.accept(block);
  }
  for (const block of blocks.push(decoder.decode())) yield* calendar.accept(block);
  for (const block of blocks.end()) yield* calendar.accept(block);
  yield* calendar.flush();
}

// ---------------------------------------------------------------------------------------------------------------
// Cutting the text into VTIMEZONE and VEVENT blocks

type IcsBlock =
  | { type: 'timezone'; text: string }
  | { type: 'event'; position: number; text: string }
  | { type: 'broken'; position: number; message: string };

interface OpenBlock {
  type: 'timezone' | 'event';
  position: number;
  lines: string[];
  chars: number;
  depth: number;
}

/** Reads lines and returns each complete VTIMEZONE / VEVENT block; other components are skipped. */
class IcsBlockReader {
  private pending = '';
  private open: OpenBlock | undefined;
  /** Depth inside a component that is skipped (VTODO, VJOURNAL...). */
  private skipping = 0;
  private events = 0;

  push(text: string): IcsBlock[] {
    const out: IcsBlock[] = [];
    const data = this.pending + text;
    let start = 0;
    for (let newline = data.indexOf('\n'); newline !== -1; newline = data.indexOf('\n', start)) {
      this.line(data.slice(start, newline), out);
      start = newline + 1;
    }
    this.pending = data.slice(start);
    if (this.pending.length > MAX_BLOCK_CHARS) {
      this.line(this.pending, out);
      this.pending = '';
    }
    return out;
  }

  end(): IcsBlock[] {
    const out: IcsBlock[] = [];
    if (this.pending) this.line(this.pending, out);
    this.pending = '';
    if (this.open?.type === 'event') {
      out.push({ type: 'broken', position: this.open.position, message: 'the file ends before its END:VEVENT' });
    }
    this.open = undefined;
    return out;
  }

  private line(raw: string, out: IcsBlock[]): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const keyword = /^(BEGIN|END):/i.test(line) ? line.trim().toUpperCase() : '';
    if (this.open) {
      this.inBlock(this.open, line, keyword, out);
      return;
    }
    if (this.skipping > 0) {
      if (keyword.startsWith('BEGIN:')) this.skipping += 1;
      else if (keyword.startsWith('END:')) this.skipping -= 1;
      return;
    }
    if (keyword === 'BEGIN:VEVENT') {
      this.events += 1;
      this.open = { type: 'event', position: this.events, lines: [line], chars: line.length, depth: 1 };
    } else if (keyword === 'BEGIN:VTIMEZONE') {
      this.open = { type: 'timezone', position: 0, lines: [line], chars: line.length, depth: 1 };
    } else if (keyword.startsWith('BEGIN:') && keyword !== 'BEGIN:VCALENDAR') {
      this.skipping = 1;
    }
  }

  private inBlock(block: OpenBlock, line: string, keyword: string, out: IcsBlock[]): void {
    if (keyword.startsWith('BEGIN:')) block.depth += 1;
    else if (keyword.startsWith('END:')) block.depth -= 1;
    block.chars += line.length + 2;
    if (block.chars <= MAX_BLOCK_CHARS) block.lines.push(line);
    if (block.depth > 0) return;
    this.open = undefined;
    if (block.chars > MAX_BLOCK_CHARS) {
      if (block.type === 'event')
        out.push({ type: 'broken', position: block.position, message: 'the event is too large' });
    } else if (block.type === 'event') {
      out.push({ type: 'event', position: block.position, text: block.lines.join('\r\n') });
    } else {
      out.push({ type: 'timezone', text: block.lines.join('\r\n') });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Turning blocks into activities

interface ParsedEvent {
  position: number;
  component: Component;
  uid: string | undefined;
}

/** The time zones seen so far, and the series (consecutive VEVENTs with one UID) being gathered. */
class Calendar {
  private readonly root = new ICAL.Component('vcalendar');
  private readonly zones = new Set<string>();
  private series: ParsedEvent[] = [];

  constructor(private readonly options: ParseOptions) {}

  *accept(block: IcsBlock): Generator<ParsedItem> {
    if (block.type === 'timezone') {
      this.addTimezone(block.text);
      return;
    }
    if (block.type === 'broken') {
      yield* this.flush();
      yield eventProblem(block.position, block.message);
      return;
    }
    let component: Component;
    try {
      component = new ICAL.Component(ICAL.parse(block.text), this.root);
    } catch (error) {
      yield* this.flush();
      yield eventProblem(block.position, errorMessage(error));
      return;
    }
    const uid = nonEmpty(stringValue(component, 'uid'));
    const current = this.series[0];
    const sameSeries = current && uid !== undefined && current.uid === uid;
    if (current && (!sameSeries || this.series.length >= MAX_SERIES_EVENTS)) yield* this.flush();
    this.series.push({ position: block.position, component, uid });
  }

  *flush(): Generator<ParsedItem> {
    const series = this.series;
    this.series = [];
    if (series.length > 0) yield* seriesItems(series, this.options);
  }

  private addTimezone(text: string): void {
    try {
      const zone = new ICAL.Component(ICAL.parse(text));
      const tzid = stringValue(zone, 'tzid');
      if (!tzid || this.zones.has(tzid)) return;
      this.zones.add(tzid);
      this.root.addSubcomponent(zone);
    } catch {
      // a broken VTIMEZONE: events that use it are reported when their TZID does not resolve
    }
  }
}

interface Window {
  from: number;
  until: number;
}

/** The items of one series: master occurrences, with overrides in place of the occurrences they replace. */
function* seriesItems(series: ParsedEvent[], options: ParseOptions): Generator<ParsedItem> {
  const window =
    options.expandFrom && options.expandUntil
      ? { from: options.expandFrom.getTime(), until: options.expandUntil.getTime() }
      : undefined;
  const overrides = new Map<string, ParsedEvent>();
  const masters: ParsedEvent[] = [];
  for (const event of series) {
    if (!event.component.hasProperty('recurrence-id')) {
      masters.push(event);
      continue;
    }
    try {
      overrides.set(recurrenceKey(event.component), event);
    } catch (error) {
      yield eventProblem(event.position, errorMessage(error));
    }
  }
  const used = new Set<string>();
  for (const master of masters) {
    if (isCancelled(master.component)) return;
    try {
      yield* masterItems(master, overrides, used, window, options);
    } catch (error) {
      yield eventProblem(master.position, errorMessage(error));
    }
  }
  for (const [key, override] of overrides) {
    if (used.has(key) || (masters.length > 0 && !window)) continue;
    const item = overrideItem(override, key, options);
    if (!item) continue;
    if (!window || 'problem' in item || inWindow(Date.parse(item.occurred_at), window)) yield item;
  }
}

function* masterItems(
  master: ParsedEvent,
  overrides: Map<string, ParsedEvent>,
  used: Set<string>,
  window: Window | undefined,
  options: ParseOptions,
): Generator<ParsedItem> {
  const base = eventBase(master.component, options);
  const event = new ICAL.Event(master.component);
  const recurring = event.isRecurring();
  for (const start of occurrenceStarts(event, base.startTzid, window)) {
    const at = instantOf(start, base.startTzid);
    const key = at.toISOString();
    const override = overrides.get(key);
    if (override) {
      used.add(key);
      const item = overrideItem(override, key, options);
      if (item) yield item;
      continue;
    }
    const messageId = base.uid && (recurring ? `${base.uid}/${key}` : base.uid);
    yield activityOf(base.activity, at, messageId);
  }
}

/** An override's activity (undefined when it cancels its occurrence), or a problem. */
function overrideItem(override: ParsedEvent, key: string, options: ParseOptions): ParsedItem | undefined {
  if (isCancelled(override.component)) return undefined;
  try {
    const base = eventBase(override.component, options);
    const start = new ICAL.Event(override.component).startDate;
    return activityOf(base.activity, instantOf(start, base.startTzid), base.uid && `${base.uid}/${key}`);
  } catch (error) {
    return eventProblem(override.position, errorMessage(error));
  }
}

/** DTSTART alone, the first occurrence, or every occurrence starting inside the window (capped). */
function* occurrenceStarts(
  event: InstanceType<typeof ICAL.Event>,
  tzid: string | undefined,
  window: Window | undefined,
): Generator<Time> {
  if (!event.isRecurring()) {
    yield event.startDate;
    return;
  }
  const iterator = event.iterator();
  if (!window) {
    const first: Time | null | undefined = iterator.next();
    if (first) yield first;
    return;
  }
  let emitted = 0;
  for (let step = 0; step < MAX_RECURRENCE_STEPS && emitted < MAX_OCCURRENCES; step++) {
    const next: Time | null | undefined = iterator.next();
    if (!next) return;
    const at = instantOf(next, tzid).getTime();
    if (at > window.until) return;
    if (at >= window.from) {
      emitted += 1;
      yield next;
    }
  }
}

function inWindow(at: number, window: Window): boolean {
  return at >= window.from && at <= window.until;
}

interface EventBase {
  uid: string | undefined;
  startTzid: string | undefined;
  /** Everything but occurred_at and message_id. */
  activity: Omit<ParsedActivity, 'occurred_at' | 'message_id'>;
}

/** What every occurrence of an event shares: text, parties, direction, duration. */
function eventBase(component: Component, options: ParseOptions): EventBase {
  const startProperty = component.getFirstProperty('dtstart');
  if (!startProperty) throw new Error('no DTSTART');
  const startTzid = tzidOf(startProperty);
  const event = new ICAL.Event(component);
  const start = instantOf(event.startDate, startTzid).getTime();
  const endProperty = component.getFirstProperty('dtend');
  const end = instantOf(event.endDate, endProperty ? tzidOf(endProperty) : startTzid).getTime();

  const organizer = partyOf(component.getFirstProperty('organizer'), 'from');
  const attendees = component
    .getAllProperties('attendee')
    .map((property) => partyOf(property, 'attendee'))
    .filter((party): party is ParsedParty => party !== undefined);
  const parties = organizer ? [organizer, ...attendees] : attendees;
  const senderIsOwn = organizer ? options.own(organizer.address) : true;
  const activity: EventBase['activity'] = {
    kind: 'meeting',
    direction: directionOf(
      senderIsOwn,
      attendees.map((party) => party.address),
      options.own,
    ),
    parties,
  };
  const subject = nonEmpty(stringValue(component, 'summary'));
  if (subject) activity.subject = truncate(subject);
  const body = nonEmpty(stringValue(component, 'description'));
  if (body && options.bodies !== false) activity.body = body;
  if (end >= start) activity.duration_minutes = Math.round((end - start) / 60_000);
  return { uid: nonEmpty(stringValue(component, 'uid')), startTzid, activity };
}

function activityOf(base: EventBase['activity'], at: Date, messageId: string | undefined): ParsedActivity {
  const activity: ParsedActivity = { ...base, occurred_at: at.toISOString(), parties: [...base.parties] };
  if (messageId) activity.message_id = truncate(messageId);
  return activity;
}

/** The instant a RECURRENCE-ID stands for, as the occurrence keys of its master are written. */
function recurrenceKey(component: Component): string {
  const property = component.getFirstProperty('recurrence-id')!;
  const value = property.getFirstValue();
  if (!(value instanceof ICAL.Time)) throw new Error('RECURRENCE-ID is not a date');
  return instantOf(value, tzidOf(property)).toISOString();
}

function isCancelled(component: Component): boolean {
  return stringValue(component, 'status')?.trim().toUpperCase() === 'CANCELLED';
}

function stringValue(component: Component, name: string): string | undefined {
  const value = component.getFirstPropertyValue(name);
  return typeof value === 'string' ? value : undefined;
}

function stringParameter(property: Property, name: string): string | undefined {
  const value = property.getParameter(name);
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function tzidOf(property: Property): string | undefined {
  return nonEmpty(stringParameter(property, 'tzid'));
}

/** ORGANIZER / ATTENDEE: `mailto:` stripped and lower-cased (or the EMAIL parameter), `tel:` kept as written. */
function partyOf(property: Property | null, role: 'from' | 'attendee'): ParsedParty | undefined {
  if (!property) return undefined;
  const value = property.getFirstValue();
  const raw = typeof value === 'string' ? value.trim() : '';
  let address: string | undefined;
  if (/^tel:/i.test(raw)) address = nonEmpty(raw.slice(4));
  else {
    const mail = raw.replace(/^mailto:/i, '').trim();
    const fallback = stringParameter(property, 'email')?.trim() ?? '';
    address = isEmail(mail) ? mail.toLowerCase() : isEmail(fallback) ? fallback.toLowerCase() : undefined;
  }
  if (!address) return undefined;
  const party: ParsedParty = { role, address };
  const name = nonEmpty(stringParameter(property, 'cn'));
  if (name) party.name = name;
  return party;
}

function eventProblem(position: number, message: string): ParsedItem {
  return problem(position, `event ${position}: ${message}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Time zones

/** The instant of an ical.js time: all-day at 00:00 UTC, zoned by its VTIMEZONE or IANA name, floating as UTC. */
function instantOf(time: Time, tzid: string | undefined): Date {
  if (time.isDate) return new Date(Date.UTC(time.year, time.month - 1, time.day));
  const resolved = time.zone && time.zone !== ICAL.Timezone.localTimezone && time.zone.tzid !== 'floating';
  if (resolved) return new Date(time.toUnixTime() * 1000);
  const wall = Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second);
  return new Date(tzid ? wallClockToUtc(wall, tzid) : wall);
}

const offsetFormats = new Map<string, Intl.DateTimeFormat | null>();

function offsetFormat(tzid: string): Intl.DateTimeFormat | null {
  let format = offsetFormats.get(tzid);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: tzid,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      format = null;
    }
    offsetFormats.set(tzid, format);
  }
  return format;
}

/** How far `tzid`'s wall clock is ahead of UTC at `utc` (ms). */
function zoneOffset(format: Intl.DateTimeFormat, utc: number): number {
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(utc))) parts[part.type] = Number(part.value);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - Math.floor(utc / 1000) * 1000;
}

/** A wall-clock time in an IANA zone (no VTIMEZONE in the file) as a UTC timestamp. */
function wallClockToUtc(wall: number, tzid: string): number {
  const format = offsetFormat(tzid);
  if (!format) throw new Error(`unknown time zone "${tzid}" (no VTIMEZONE for it)`);
  const guess = wall - zoneOffset(format, wall);
  const offset = zoneOffset(format, guess);
  return wall - offset;
}
