/**
 * The activity import parsers (mbox, iCalendar, CSV) on realistic samples: fields, directions, problems that do not
 * stop the parse, metadata-only mode, progress reports, chunk boundaries, and bounded memory on a large mbox.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.ts';
import { parseIcs } from './ics.ts';
import { formatOf, IMPORT_FORMATS, parseImport } from './index.ts';
import { parseMbox } from './mbox.ts';
import type { ParsedActivity, ParsedItem, ParseOptions, ParseProblem } from './types.ts';

const FIXTURES = new URL('../../../tests/fixtures/import/', import.meta.url);
const ICS = readFileSync(new URL('calendar.ics', FIXTURES));
const CSV = readFileSync(new URL('activities.csv', FIXTURES));

const own = (address: string): boolean => address.endsWith('@acme.test');

async function* chunked(data: string | Buffer, size: number): AsyncGenerator<Buffer> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  for (let start = 0; start < bytes.length; start += size) yield bytes.subarray(start, start + size);
}

/** `gc()`, without the process having been started with --expose-gc (a no-op should V8 refuse). */
function fullGc(): () => void {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return () => {};
  }
}

async function collect(items: AsyncIterable<ParsedItem>): Promise<ParsedItem[]> {
  const out: ParsedItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function activities(items: ParsedItem[]): ParsedActivity[] {
  return items.filter((item): item is ParsedActivity => !('problem' in item));
}

function problems(items: ParsedItem[]): ParseProblem[] {
  return items.filter((item): item is ParseProblem => 'problem' in item);
}

/** Every onBytes report, and the items, of one parse. */
async function withProgress(
  parse: (source: AsyncIterable<Buffer>, options: ParseOptions) => AsyncGenerator<ParsedItem>,
  data: Buffer,
  options: Omit<ParseOptions, 'onBytes'> = { own },
): Promise<{ reports: number[]; items: ParsedItem[] }> {
  const reports: number[] = [];
  const items = await collect(parse(chunked(data, 4096), { ...options, onBytes: (bytes) => reports.push(bytes) }));
  return { reports, items };
}

// ---------------------------------------------------------------------------------------------------------------

const MBOX = [
  'From alice@example.com Mon Jan  1 09:00:00 2024',
  'From: Alice Example <Alice@Example.com>',
  'To: Bob Own <bob@acme.test>, carol@acme.test',
  'Cc: "Partner, Paul" <paul@partner.example>',
  'Bcc: hidden@example.com',
  'Subject: =?UTF-8?Q?Caf=C3=A9_meeting?=',
  'Date: Mon, 1 Jan 2024 10:00:00 +0100',
  'Message-ID: <m1@example.com>',
  '',
  'Hi Bob,',
  '>From the top of the agenda:',
  '>>From deeper quoting',
  'From here on (not a separator: no blank line before it, no date)',
  '-',
  'From the desk of Alice (nor this one)',
  '',
  'From bob@acme.test Tue Jan  2 11:00:00 2024',
  'From: Bob Own <bob@acme.test>',
  'To: Alice Example <alice@example.com>',
  'Subject: Re: Café meeting',
  'Date: Tue, 02 Jan 2024 11:00:00 +0000',
  'Message-ID: <m2@acme.test>',
  'In-Reply-To: <m1@example.com>',
  'References: <m0@example.com> <m1@example.com>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/alternative; boundary="alt"',
  '',
  '--alt',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Sounds good, see you there.',
  '--alt',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Sounds <b>good</b>, see you there.</p>',
  '--alt--',
  '',
  'From carol@acme.test Wed Jan  3 12:30:00 2024',
  'From: carol@acme.test',
  'To: bob@acme.test',
  'Subject: Internal: slides',
  'Message-ID: <m3@acme.test>',
  'References: <m1@example.com> <m2@acme.test>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="mix"',
  '',
  '--mix',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<html><body><h1>Slides</h1><p>Attached &amp; ready.</p></body></html>',
  '--mix',
  'Content-Type: application/pdf; name="slides.pdf"',
  'Content-Disposition: attachment; filename="slides.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  'JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K',
  '--mix--',
  '',
  'From MAILER-DAEMON',
  'this line is not a header',
  'and there is no date anywhere',
  '',
  'From dave@example.com Thu Jan  4 08:00:00 2024',
  'From: dave@example.com',
  'To: bob@acme.test',
  'Subject: After the broken one',
  'Date: Thu, 4 Jan 2024 08:00:00 -0500',
  '',
  'Still parsed.',
  '',
].join('\n');

describe('parseMbox', () => {
  it('reads every message of a realistic mbox, reporting the malformed one and going on', async () => {
    const items = await collect(parseMbox(chunked(MBOX, 64 * 1024), { own }));
    expect(items).toHaveLength(5);
    const [first, reply, internal, broken, last] = items as [
      ParsedActivity,
      ParsedActivity,
      ParsedActivity,
      ParseProblem,
      ParsedActivity,
    ];

    expect(first).toEqual({
      kind: 'email',
      direction: 'inbound',
      subject: 'Café meeting',
      body: [
        'Hi Bob,',
        'From the top of the agenda:',
        '>From deeper quoting',
        'From here on (not a separator: no blank line before it, no date)',
        '-',
        'From the desk of Alice (nor this one)',
      ].join('\n'),
      occurred_at: '2024-01-01T09:00:00.000Z',
      message_id: 'm1@example.com',
      parties: [
        { role: 'from', address: 'alice@example.com', name: 'Alice Example' },
        { role: 'to', address: 'bob@acme.test', name: 'Bob Own' },
        { role: 'to', address: 'carol@acme.test' },
        { role: 'cc', address: 'paul@partner.example', name: 'Partner, Paul' },
      ],
    });

    expect(reply).toMatchObject({
      direction: 'outbound',
      body: 'Sounds good, see you there.',
      message_id: 'm2@acme.test',
      in_reply_to: 'm1@example.com',
      occurred_at: '2024-01-02T11:00:00.000Z',
    });

    // HTML-only body with an attachment: the HTML as text, the attachment ignored; no Date: the From_ line's date
    expect(internal.direction).toBe('internal');
    expect(internal.body).toContain('Attached & ready.');
    expect(internal.body).not.toMatch(/<|JVBER/);
    expect(internal.occurred_at).toBe('2024-01-03T12:30:00.000Z');
    expect(internal.in_reply_to).toBe('m2@acme.test');
    expect(internal.message_id).toBe('m3@acme.test');

    expect(broken).toMatchObject({ problem: true, position: 4 });
    expect(broken.message).toMatch(/^message 4: /);

    expect(last).toMatchObject({
      direction: 'inbound',
      occurred_at: '2024-01-04T13:00:00.000Z',
      body: 'Still parsed.',
    });
    expect(last.message_id).toBeUndefined();
  });

  it('gives the same result whatever the chunking, and for CRLF line ends', async () => {
    const whole = await collect(parseMbox(chunked(MBOX, 1 << 20), { own }));
    expect(await collect(parseMbox(chunked(MBOX, 1), { own }))).toEqual(whole);
    expect(await collect(parseMbox(chunked(MBOX, 7), { own }))).toEqual(whole);
    const crlf = await collect(parseMbox(chunked(MBOX.replaceAll('\n', '\r\n'), 5), { own }));
    expect(crlf).toEqual(whole);
  });

  it('takes string chunks, a single message without a From_ line, and a date-less From_ line fallback', async () => {
    const eml = 'From: x@example.com\nTo: y@acme.test\nDate: Fri, 5 Jan 2024 10:00:00 GMT\n\nHello';
    const strings = async function* (): AsyncGenerator<string> {
      yield eml.slice(0, 20);
      yield eml.slice(20);
    };
    const [item] = await collect(parseMbox(strings(), { own }));
    expect(item).toMatchObject({ kind: 'email', direction: 'inbound', occurred_at: '2024-01-05T10:00:00.000Z' });

    const noDate = 'From x@example.com Sat Jan  6 10:00:00 +0200 2024\nFrom: x@example.com\n\nbody\n';
    expect(await collect(parseMbox(chunked(noDate, 10), { own }))).toMatchObject([
      { occurred_at: '2024-01-06T08:00:00.000Z' },
    ]);
  });

  it('passes a line longer than the line buffer through in pieces', async () => {
    const long = 'A'.repeat(300_000);
    const mbox = [
      'From a@example.com Mon Jan  1 00:00:00 2024',
      'From: a@example.com',
      'Date: Mon, 1 Jan 2024 00:00:00 +0000',
      '',
      long,
      '',
      'From b@example.com Mon Jan  1 00:00:00 2024',
      'From: b@example.com',
      'Date: Mon, 1 Jan 2024 00:00:00 +0000',
      '',
      'short',
      '',
    ].join('\n');
    const items = activities(await collect(parseMbox(chunked(mbox, 16 * 1024), { own })));
    expect(items.map((item) => item.body?.length)).toEqual([long.length, 5]);
  });

  it('leaves no body key at all with bodies: false', async () => {
    const items = await collect(parseMbox(chunked(MBOX, 100), { own, bodies: false }));
    expect(activities(items)).toHaveLength(4);
    for (const item of items) expect('body' in item).toBe(false);
    expect(activities(items)[1]).toMatchObject({ subject: 'Re: Café meeting', in_reply_to: 'm1@example.com' });
  });

  it('reports progress up to the total size', async () => {
    const data = Buffer.from(MBOX);
    const { reports } = await withProgress(parseMbox, data);
    expect(reports.at(-1)).toBe(data.length);
    expect(reports).toEqual([...reports].sort((a, b) => a - b));
  });

  it('streams a ~50 MB mbox of 20,000 messages in bounded memory', async () => {
    const count = 20_000;
    const paragraph = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.\n';
    const body = paragraph.repeat(26);
    const message = (i: number): string =>
      `From sender${i}@example.com Mon Jan  1 10:00:00 2024\n` +
      `From: Sender ${i} <sender${i}@example.com>\nTo: me@acme.test\nSubject: message ${i}\n` +
      `Date: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <m${i}@example.com>\n\n${body}\n`;
    let generated = 0;
    async function* source(): AsyncGenerator<Buffer> {
      let pending = '';
      for (let i = 0; i < count; i++) {
        pending += message(i);
        if (pending.length >= 64 * 1024 || i === count - 1) {
          const chunk = Buffer.from(pending);
          generated += chunk.length;
          pending = '';
          yield chunk;
        }
      }
    }

    // heap in use after a full collection (a few, they slow V8 down): what the parse retains, not the garbage
    const gc = fullGc();
    const heapUsed = (): number => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const before = heapUsed();
    let peak = before;
    let parsed = 0;
    let bytes = 0;
    for await (const item of parseMbox(source(), { own, onBytes: (n) => (bytes = n) })) {
      if ('problem' in item) throw new Error(item.message);
      if (item.message_id !== `m${parsed}@example.com`) throw new Error(`out of order at ${parsed}`);
      parsed += 1;
      if (parsed % 10_000 === 0) peak = Math.max(peak, heapUsed());
    }
    expect(parsed).toBe(count);
    expect(generated).toBeGreaterThan(50_000_000);
    expect(bytes).toBe(generated);
    expect(peak - before).toBeLessThan(60 * 1024 * 1024);
    expect(peak - before).toBeLessThan(generated / 5); // nowhere near the size of the mbox
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------------------------

describe('parseIcs', () => {
  it('reads events with VTIMEZONE times, all-day dates, attendees, and skips cancelled ones and VTODOs', async () => {
    const items = await collect(parseIcs(chunked(ICS, 13), { own }));
    expect(items).toHaveLength(5);
    const [kickoff, offsite, weekly, lunch, unknownZone] = items as [
      ParsedActivity,
      ParsedActivity,
      ParsedActivity,
      ParsedActivity,
      ParseProblem,
    ];

    expect(kickoff).toEqual({
      kind: 'meeting',
      direction: 'outbound',
      subject: 'Project kickoff, phase 1',
      body: 'Agenda:\n1. Scope\n2. Timeline',
      occurred_at: '2024-07-03T08:00:00.000Z', // 10:00 Europe/Berlin (CEST)
      duration_minutes: 90,
      message_id: 'kickoff-2024@acme.test',
      parties: [
        { role: 'from', address: 'dana@acme.test', name: 'Dana Own' },
        { role: 'attendee', address: 'eve@example.com', name: 'Eve External' },
        { role: 'attendee', address: 'frank@acme.test', name: 'Frank Own' },
      ],
    });
    expect(offsite).toMatchObject({
      direction: 'internal',
      occurred_at: '2024-07-15T00:00:00.000Z',
      duration_minutes: 2 * 24 * 60,
      message_id: 'offsite@acme.test',
    });
    // a recurring event without a window: its first occurrence only, named UID/start
    expect(weekly).toMatchObject({
      direction: 'inbound',
      subject: 'Weekly customer call',
      occurred_at: '2024-03-01T08:00:00.000Z',
      duration_minutes: 45,
      message_id: 'weekly@example.com/2024-03-01T08:00:00.000Z',
    });
    // a TZID with no VTIMEZONE in the file is taken as an IANA zone
    expect(lunch).toMatchObject({ occurred_at: '2024-01-10T17:00:00.000Z', duration_minutes: 60, parties: [] });
    expect(unknownZone).toMatchObject({ problem: true, position: 8 });
    expect(unknownZone.message).toMatch(/Mars\/Olympus_Mons/);
  });

  it('expands a recurring event in the window, with EXDATE, a moved and a cancelled occurrence, and DST', async () => {
    const items = await collect(
      parseIcs(chunked(ICS, 4096), {
        own,
        expandFrom: new Date('2024-03-01T00:00:00Z'),
        expandUntil: new Date('2024-04-06T00:00:00Z'),
      }),
    );
    const weekly = activities(items).filter((item) => item.message_id?.startsWith('weekly@example.com/'));
    expect(weekly.map((item) => [item.occurred_at, item.message_id, item.subject])).toEqual([
      ['2024-03-01T08:00:00.000Z', 'weekly@example.com/2024-03-01T08:00:00.000Z', 'Weekly customer call'],
      ['2024-03-08T08:00:00.000Z', 'weekly@example.com/2024-03-08T08:00:00.000Z', 'Weekly customer call'],
      // 03-15 is an EXDATE; 03-22 was moved to the afternoon (keeps the id of the occurrence it replaces)
      ['2024-03-22T13:00:00.000Z', 'weekly@example.com/2024-03-22T08:00:00.000Z', 'Weekly customer call (moved)'],
      // 03-29 is cancelled; from 03-31 Berlin is on summer time, so 09:00 is 07:00 UTC
      ['2024-04-05T07:00:00.000Z', 'weekly@example.com/2024-04-05T07:00:00.000Z', 'Weekly customer call'],
    ]);
    // non-recurring events are not filtered by the window
    expect(activities(items).map((item) => item.message_id)).toContain('kickoff-2024@acme.test');
  });

  it('caps an expansion at 1000 occurrences', async () => {
    const ics = [
      'BEGIN:VCALENDAR',
      'BEGIN:VEVENT',
      'UID:daily@example.com',
      'DTSTART:20200101T090000Z',
      'RRULE:FREQ=DAILY',
      'SUMMARY:Standup',
      'END:VEVENT',
      'END:VCALENDAR',
    ].join('\r\n');
    const items = await collect(
      parseIcs(chunked(ics, 4096), {
        own,
        expandFrom: new Date('2021-01-01T00:00:00Z'),
        expandUntil: new Date('2030-01-01T00:00:00Z'),
      }),
    );
    expect(items).toHaveLength(1000);
    expect(activities(items)[0].occurred_at).toBe('2021-01-01T09:00:00.000Z');
    expect(activities(items)[0].direction).toBe('internal');
  });

  it('reports a malformed event and an unterminated one, and goes on in between', async () => {
    const ics = [
      'BEGIN:VCALENDAR',
      'BEGIN:VEVENT',
      'UID:bad@example.com',
      'THIS LINE HAS NO COLON',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:no-start@example.com',
      'SUMMARY:No DTSTART',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:good@example.com',
      'DTSTART:20240102T030405Z',
      'ORGANIZER;CN=Outside:mailto:someone@example.com',
      'ATTENDEE:mailto:me@acme.test',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:cut@example.com',
      'DTSTART:20240102T030405Z',
    ].join('\n');
    const items = await collect(parseIcs(chunked(ics, 10), { own }));
    expect(items.map((item) => ('problem' in item ? item.position : item.message_id))).toEqual([
      1,
      2,
      'good@example.com',
      4,
    ]);
    expect(problems(items)[1].message).toBe('event 2: no DTSTART');
    expect(items[2]).toMatchObject({ direction: 'inbound', occurred_at: '2024-01-02T03:04:05.000Z' });
  });

  it('leaves no body key with bodies: false, and reports progress up to the total size', async () => {
    const { reports, items } = await withProgress(parseIcs, ICS, { own, bodies: false });
    expect(activities(items).length).toBeGreaterThan(0);
    for (const item of items) expect('body' in item).toBe(false);
    expect(reports.at(-1)).toBe(ICS.length);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('parseCsv', () => {
  it('reads quoted commas and newlines, any column case, and reports bad rows by row and column', async () => {
    const items = await collect(parseCsv(chunked(CSV, 11), { own }));
    expect(items).toHaveLength(8);
    const [call, email, task, badNumber, note, inboundCall, badDate, meeting] = items as [
      ParsedActivity,
      ParsedActivity,
      ParsedActivity,
      ParseProblem,
      ParsedActivity,
      ParsedActivity,
      ParseProblem,
      ParsedActivity,
    ];
    expect(call).toEqual({
      kind: 'call',
      direction: 'outbound',
      subject: 'Intro call, pricing',
      body: 'Discussed pricing, seats\nand the pilot timeline',
      occurred_at: '2024-05-02T14:30:00.000Z',
      duration_minutes: 25,
      parties: [{ role: 'to', address: '+1 (555) 010-2030' }],
    });
    expect(email).toEqual({
      kind: 'email',
      direction: 'inbound',
      subject: 'Re: Proposal',
      body: 'She said "yes"',
      occurred_at: '2024-05-03T07:15:00.000Z',
      message_id: 'reply-1@example.com',
      parties: [
        { role: 'from', address: 'jane@example.com', name: 'Doe, Jane' },
        { role: 'to', address: 'sales@acme.test' },
        { role: 'cc', address: 'boss@acme.test' },
        { role: 'cc', address: 'legal@acme.test' },
      ],
    });
    expect(task).toEqual({
      kind: 'task',
      direction: 'internal',
      subject: 'Send contract',
      occurred_at: '2024-05-09T17:00:00.000Z',
      due_at: '2024-05-10T00:00:00.000Z',
      completed_at: '2024-05-09T17:00:00.000Z',
      parties: [],
    });
    expect(badNumber).toEqual({
      problem: true,
      position: 4,
      message: 'row 4, column duration_minutes: "sixty" is not a number of minutes (>= 0)',
    });
    expect(note).toMatchObject({ kind: 'note', direction: 'internal', occurred_at: '2024-05-04T00:00:00.000Z' });
    expect(inboundCall).toMatchObject({
      direction: 'inbound',
      duration_minutes: 4,
      parties: [{ role: 'from', address: '+44 20 7946 0000' }],
    });
    expect(badDate).toMatchObject({ problem: true, position: 7 });
    expect(badDate.message).toMatch(/^row 7, column occurred_at: /);
    expect(meeting).toMatchObject({
      direction: 'outbound',
      parties: [
        { role: 'attendee', address: 'dana@acme.test', name: 'Dana' },
        { role: 'attendee', address: 'eve@example.com', name: 'Eve' },
      ],
    });
  });

  it('derives a missing direction from the addresses, and rejects bad kinds, directions and addresses', async () => {
    const csv = [
      'kind,direction,occurred_at,from,to',
      'email,,2024-01-01,me@acme.test,you@acme.test',
      'email,,2024-01-01,me@acme.test,client@example.com',
      'email,,2024-01-01,client@example.com,me@acme.test',
      'note,,2024-01-01,,client@example.com',
      'fax,,2024-01-01,,',
      'call,sideways,2024-01-01,,',
      'email,,2024-01-01,not an address,',
      'note,,,,',
      'NOTE,Inbound,2024-01-01 10:00,,',
    ].join('\r\n');
    const items = await collect(parseCsv(chunked(csv, 4096), { own }));
    expect(items.map((item) => ('problem' in item ? item.message : item.direction))).toEqual([
      'internal',
      'outbound',
      'inbound',
      'outbound',
      'row 5, column kind: "fax" is not one of email, call, meeting, note, task',
      'row 6, column direction: "sideways" is not one of inbound, outbound, internal',
      'row 7, column from: "not an address" is not an e-mail address or phone number',
      'row 8, column occurred_at: a date is required',
      'inbound',
    ]);
    expect(items[8]).toMatchObject({ kind: 'note', occurred_at: '2024-01-01T10:00:00.000Z' });
  });

  it('goes on after a row that is not valid CSV, and reports an unclosed quote at the end', async () => {
    const csv = 'kind,subject,occurred_at\nnote,"a"b,2024-01-01\nnote,ok,2024-01-02\nnote,"never closed,2024-01-03\n';
    const items = await collect(parseCsv(chunked(csv, 3), { own }));
    expect(items.map((item) => ('problem' in item ? `problem ${item.position}` : item.subject))).toEqual([
      '"a"b',
      'ok',
      'problem 3',
    ]);
  });

  it('reads a ;-separated export (as spreadsheets write in many locales)', async () => {
    const csv = '\uFEFFKind;Occurred_At;Subject;To\ncall;2024-01-01 10:00;Intro, first;"a@example.com;B@example.com"\n';
    expect(await collect(parseCsv(chunked(csv, 5), { own }))).toEqual([
      {
        kind: 'call',
        direction: 'outbound',
        subject: 'Intro, first',
        occurred_at: '2024-01-01T10:00:00.000Z',
        parties: [
          { role: 'to', address: 'a@example.com' },
          { role: 'to', address: 'b@example.com' },
        ],
      },
    ]);
  });

  it('leaves no body key with bodies: false, and reports progress up to the total size', async () => {
    const { reports, items } = await withProgress(parseCsv, CSV, { own, bodies: false });
    expect(activities(items)).toHaveLength(6);
    for (const item of items) expect('body' in item).toBe(false);
    expect(reports.at(-1)).toBe(CSV.length);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('formatOf and parseImport', () => {
  it('tells the format by content type first, then by file extension', () => {
    expect(IMPORT_FORMATS).toEqual(['mbox', 'ics', 'csv']);
    expect(formatOf('application/mbox')).toBe('mbox');
    expect(formatOf('text/calendar; charset=utf-8')).toBe('ics');
    expect(formatOf('TEXT/CSV')).toBe('csv');
    expect(formatOf('application/octet-stream', 'Export.MBOX')).toBe('mbox');
    expect(formatOf(undefined, 'team.ics')).toBe('ics');
    expect(formatOf('', 'contacts.csv')).toBe('csv');
    expect(formatOf('text/plain', 'notes.txt')).toBeUndefined();
    expect(formatOf('constructor', '__proto__')).toBeUndefined();
    expect(formatOf()).toBeUndefined();
  });

  it('dispatches to the parser of the format', async () => {
    const [mbox] = await collect(parseImport('mbox', chunked(MBOX, 4096), { own }));
    const [ics] = await collect(parseImport('ics', chunked(ICS, 4096), { own }));
    const [csv] = await collect(parseImport('csv', chunked(CSV, 4096), { own }));
    expect([mbox, ics, csv].map((item) => ('kind' in item ? item.kind : 'problem'))).toEqual([
      'email',
      'meeting',
      'call',
    ]);
  });
});
