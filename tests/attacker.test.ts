/**
 * An attacker's inputs, on both databases: values that pass validation but that PostgreSQL would
 * refuse, inputs without bounds, regular expressions that backtrack, names that collide with the
 * platform's own physical objects, partial GraphQL mutations, and a few small oddities.
 *
 * Every attack must be refused as a client mistake: a 4xx (never a 5xx), a coded problem+json
 * naming where the input went wrong, nothing written (records counted before and after; for
 * metadata, the schema version and the ledger), and nothing leaked. GraphQL answers below 500 with
 * errors, none of them XRM_ERR_INTERNAL. Meanwhile /health, polled over a real socket for the whole
 * suite, must keep answering within 100 ms: no input may stall the server (on PGlite, whose
 * schema changes run on the server's thread, within three times what one takes there).
 */
import { sql } from 'kysely';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { adminToken, api, call, type Reply } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectStatus, leaksIn } from './support/problems.ts';
import { listen } from './support/tools.ts';

/** The codes of a client mistake; exact codes are asserted where the contract names them. */
const CLIENT_MISTAKE = /^XRM_ERR_(QUERY|REQUEST|RECORD|METADATA)_/;
const MISSING = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

/** base64url of a JSON value: how the API encodes its cursors. */
const cursorOf = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Percent-encodes a query-string value, leaving the punctuation of filters, expansions and JSON
 * readable (and short: the deep inputs below stay far smaller than when fully encoded).
 */
const enc = (value: string): string =>
  value.replace(/[^A-Za-z0-9\-._~()[\]{},:"'!*@$;/]/gu, (c) => encodeURIComponent(c));
const query = (params: Record<string, string | undefined>): string =>
  Object.entries(params)
    .flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${enc(v)}`]))
    .join('&');

/** `depth` nested levels: `open` repeated, then `bottom`, then `close` repeated. */
const nest = (depth: number, open: string, bottom: string, close: string): string =>
  `${open.repeat(depth)}${bottom}${close.repeat(depth)}`;

/** Timestamps and dates PostgreSQL refuses although they look like RFC 3339: offsets beyond ±15:59, year 0. */
const BAD_OFFSETS = ['2024-01-01T10:00:00+16:00', '2024-01-01T10:00:00-17:30'];
const YEAR_ZERO_INSTANT = '0000-06-01T00:00:00Z';
const YEAR_ZERO_DATE = '0000-01-01';

/** [field, value, code]: a value of a record that PostgreSQL would refuse. */
const BAD_TEMPORAL_VALUES: readonly [string, string, RegExp][] = [
  ...BAD_OFFSETS.map((v) => ['at', v, /^XRM_ERR_RECORD_INVALID$/] as [string, string, RegExp]),
  ['at', YEAR_ZERO_INSTANT, CLIENT_MISTAKE],
  ['day', YEAR_ZERO_DATE, CLIENT_MISTAKE],
];

/** [field, value, code] for filters: the same values, as operands. */
const BAD_TEMPORAL_OPERANDS: readonly [string, string, RegExp][] = [
  ...BAD_OFFSETS.map((v) => ['at', v, /^XRM_ERR_QUERY_INVALID$/] as [string, string, RegExp]),
  ['at', YEAR_ZERO_INSTANT, CLIENT_MISTAKE],
  ['day', YEAR_ZERO_DATE, CLIENT_MISTAKE],
];

/** Offsets beyond PostgreSQL's bigint. */
const HUGE_OFFSETS = ['9223372036854775807', '1e19', '99999999999999999999'];

/** Cursors that decode to JSON with non-scalar sort values, or to no array at all. */
const NON_SCALAR_CURSORS: readonly [string, unknown][] = [
  ['an object as a sort value', [{ a: 1 }, MISSING]],
  ['an array as a sort value', [[1], MISSING]],
  ['an object instead of the array', { x: 1 }],
];

const NUL = 'a\u0000b';

/**
 * Polls `url` every 50 ms from a worker thread, so a poll is sent (and waits) even while the
 * server's thread is blocked: its latency then shows the stall. Each answer lands in `polls`.
 */
function startHealthPoller(
  url: string,
  polls: { at: number; ms: number; status: number }[],
): { ready: Promise<void>; stop: () => Promise<void> } {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const { performance } = require('node:perf_hooks');
    const inFlight = new Set();
    let timer;
    // one unmeasured request first: the worker's own first fetch (loading its HTTP client,
    // connecting) is not the server's latency
    fetch(workerData.url).then((res) => res.arrayBuffer()).catch(() => undefined).then(() => {
      parentPort.postMessage('ready');
      timer = setInterval(poll, 50);
    });
    function poll() {
      const at = Date.now();
      const started = performance.now();
      const request = fetch(workerData.url, { signal: AbortSignal.timeout(10000) })
        .then(async (res) => { await res.arrayBuffer(); return res.status; }, () => 0)
        .then((status) => parentPort.postMessage({ at, ms: performance.now() - started, status }));
      inFlight.add(request);
      request.finally(() => inFlight.delete(request));
    }
    parentPort.on('message', async () => {
      if (timer) clearInterval(timer);
      await Promise.all([...inFlight]);
      parentPort.postMessage('stopped');
    });
    `,
    { eval: true, workerData: { url } },
  );
  let stopped: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  let started: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (started = resolve));
  worker.on('message', (message) =>
    message === 'stopped' ? stopped() : message === 'ready' ? started() : polls.push(message),
  );
  let stopping: Promise<void> | undefined;
  return {
    ready,
    stop: () =>
      (stopping ??= (async () => {
        worker.postMessage('stop');
        await done;
        await worker.terminate();
      })()),
  };
}

describeEachDatabase('attacker', (get, kind) => {
  /**
   * Lets the event loop turn after each injected request, as it does between a real client's
   * requests: on PGlite a test's back-to-back injections would otherwise resolve as one long chain
   * of microtasks, the server would never read its socket, and the /health poller below would
   * measure the test's own pace instead of a single request stalling the server.
   */
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const yielding = <T extends Record<string, (...args: any[]) => Promise<Reply>>>(client: T): T =>
    Object.fromEntries(
      Object.entries(client).map(([k, f]) => [
        k,
        async (...args: unknown[]) => {
          const reply = await f(...args);
          await turn();
          return reply;
        },
      ]),
    ) as T;
  const http = () => yielding(api(get().app));
  const raw = async (
    method: string,
    url: string,
    text: string,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ) => {
    const reply = await call(get().app, method, url, text, headers);
    await turn();
    return reply;
  };

  // -----------------------------------------------------------------------------------------------
  // /health over a real socket, polled every 50 ms for the whole suite
  // -----------------------------------------------------------------------------------------------

  interface Poll {
    at: number;
    ms: number;
    status: number;
  }
  const polls: Poll[] = [];
  /** When each test started, to say which one a slow poll overlapped. */
  const timeline: { at: number; name: string }[] = [];
  const during = (at: number): string => timeline.filter((t) => t.at <= at).at(-1)?.name ?? '(before the first test)';
  let base = '';
  let poller: ReturnType<typeof startHealthPoller> | undefined;
  /** Wall time of creating the target entity (five fields) before the polling started. */
  let schemaChangeMs = 0;

  beforeAll(async () => {
    base = await listen(get().app);
    // signed in before the polling starts: the sign-in's scrypt is costly by design (off the event
    // loop, so no stall), but on a small machine it would compete with the poller for a core
    expect(await adminToken(get().app), 'the test administrator signs in').toBeTypeOf('string');
    // the target entity too: on PGlite a schema change holds the event loop for tens of
    // milliseconds (an administrator's act, not an attacker's input: README, Performance); how long
    // this one takes on this machine bounds the polls that overlap the suite's own schema changes
    const started = performance.now();
    expectStatus(
      await http().post('/api/metadata/entities', {
        name: 'atk',
        fields: [
          { name: 'title', type: 'text', searchable: true },
          { name: 'at', type: 'datetime' },
          { name: 'day', type: 'date' },
          { name: 'n', type: 'bigInteger' },
          { name: 'a', type: 'lookup', target: 'atk', inverseName: 'kids', onDelete: 'setNull' },
        ],
      }),
      201,
    );
    schemaChangeMs = performance.now() - started;
    poller = startHealthPoller(`${base}/health`, polls);
    await poller.ready;
  });

  beforeEach((context) => {
    timeline.push({ at: Date.now(), name: context.task.name });
  });

  afterAll(async () => {
    await poller?.stop();
  });

  // -----------------------------------------------------------------------------------------------
  // Assertions
  // -----------------------------------------------------------------------------------------------

  /**
   * `path` names `want`: equal to it or below it (`/filter/at/gt` names `/filter`), or the same
   * query parameter as the route's own validation names it (`/querystring/offset` names `/offset`).
   */
  const names = (path: string, want: string): boolean =>
    [want, `/querystring${want}`].some((w) => path === w || path.startsWith(`${w}/`));

  /** A refused request: a 4xx coded problem naming `path`, with nothing leaked. */
  function expectRefused(
    reply: Reply,
    {
      status = 400,
      code = CLIENT_MISTAKE,
      path,
      label,
    }: { status?: number; code?: RegExp; path?: string; label?: string } = {},
  ): Reply {
    const context = `${label ? `${label}: ` : ''}${reply.status} ${reply.text.slice(0, 1500)}`;
    expect(reply.status, context).toBe(status);
    expect(String(reply.headers['content-type']), context).toMatch(/^application\/problem\+json/);
    expect(String(reply.body?.code), context).toMatch(code);
    expect(reply.body.status, context).toBe(status);
    if (path) {
      const paths = ((reply.body.errors ?? []) as { path: string }[]).map((e) => e.path);
      expect(
        paths.some((p) => names(p, path)),
        `errors[].path should name ${path}: ${context}`,
      ).toBe(true);
    }
    expect(leaksIn(reply.text), context).toEqual([]);
    return reply;
  }

  /** A GraphQL operation that failed as a client mistake: below 500, errors, none internal, nothing leaked. */
  function expectGraphqlRefused(reply: Reply, { label }: { label?: string } = {}): any[] {
    const context = `${label ? `${label}: ` : ''}${reply.status} ${reply.text.slice(0, 1500)}`;
    expect(reply.status, context).toBeLessThan(500);
    const errors = (reply.body?.errors ?? []) as any[];
    expect(errors.length, context).toBeGreaterThan(0);
    expect(
      errors.filter((e) => e?.extensions?.code === 'XRM_ERR_INTERNAL'),
      context,
    ).toEqual([]);
    expect(leaksIn(reply.text), context).toEqual([]);
    return errors;
  }

  /** A GraphQL request refused before it runs: an HTTP 4xx with errors, none internal. */
  function expectGraphqlClientError(reply: Reply, label: string): void {
    expectGraphqlRefused(reply, { label });
    expect(reply.status, `${label}: ${reply.status} ${reply.text.slice(0, 1500)}`).toBeGreaterThanOrEqual(400);
  }

  async function timed<T>(work: Promise<T>): Promise<[T, number]> {
    const started = performance.now();
    const result = await work;
    return [result, performance.now() - started];
  }

  async function countOf(entity: string): Promise<number> {
    return expectStatus(await http().get(`/api/data/${entity}?limit=1&count=true`), 200).totalCount;
  }

  /** The schema version and the length of the schema-change ledger. */
  async function metadataState(): Promise<{ version: number; changes: number }> {
    const version = expectStatus(await http().get('/api/metadata'), 200).version;
    const changes = expectStatus(await http().get('/api/metadata/changes?limit=1'), 200).totalCount;
    return { version, changes };
  }

  /** Runs `attack` and asserts no record of `entity` was written or changed by it. */
  async function writesNothing(entity: string, attack: () => Promise<void>): Promise<void> {
    const before = expectStatus(await http().get(`/api/data/${entity}?limit=1000&count=true`), 200);
    await attack();
    const after = expectStatus(await http().get(`/api/data/${entity}?limit=1000&count=true`), 200);
    expect(after.totalCount).toBe(before.totalCount);
    expect(after.data).toEqual(before.data);
  }

  /** Runs `attack` and asserts the metadata (schema version, ledger) did not change. */
  async function changesNoMetadata(attack: () => Promise<void>): Promise<void> {
    const before = await metadataState();
    await attack();
    expect(await metadataState()).toEqual(before);
  }

  const gql = (queryText: string, variables?: Record<string, unknown>) => http().graphql(queryText, variables);
  const rawGraphql = (text: string) => raw('POST', '/graphql', text);

  // -----------------------------------------------------------------------------------------------
  // The target: `atk` (title, at datetime, day date, n bigInteger, a self-lookup with inverse kids)
  // -----------------------------------------------------------------------------------------------

  let parent: any;

  it('sets up a few records of the target entity', async () => {
    parent = expectStatus(
      await http().post('/api/data/atk', { title: 'parent', at: '2024-01-01T10:00:00Z', day: '2024-01-01', n: 1 }),
      201,
    );
    expectStatus(
      await http().post('/api/data/atk', {
        title: 'child',
        at: '2024-02-01T10:00:00+15:59',
        day: '2024-02-01',
        n: 2,
        a: parent.id,
      }),
      201,
    );
    expectStatus(await http().post('/api/data/atk', { title: 'other child', a: parent.id }), 201);
    expect(await countOf('atk')).toBe(3);
    // the limits the attacks go beyond are served as they are
    expect(
      expectStatus(await http().get(`/api/data/atk?${query({ filter: "at lt '2024-06-01T00:00:00-15:59'" })}`), 200)
        .data,
    ).toHaveLength(2);
    expect(
      expectStatus(await http().get(`/api/data/atk?${query({ filter: "day gte '0001-01-01'" })}`), 200).data,
    ).toHaveLength(2);
  });

  it(
    'answers a GraphQL read with a filter variable within 1 s every time it runs ' + '(no stall compiling it)',
    async () => {
      const text = 'query Repeated($f: AtkFilter) { atks(filter: $f, first: 5) { totalCount nodes { id } } }';
      for (let run = 1; run <= 3; run++) {
        const [reply, ms] = await timed(gql(text, { f: { title: { startsWith: 'p' } } }));
        expect(reply.body.errors, reply.text.slice(0, 1000)).toBeUndefined();
        expect(reply.body.data.atks.totalCount).toBe(1);
        expect(ms, `run ${run} took ${Math.round(ms)} ms`).toBeLessThan(1000);
      }
    },
  );

  // -----------------------------------------------------------------------------------------------
  // 1. Values that pass validation but fail in PostgreSQL
  // -----------------------------------------------------------------------------------------------

  it.each(BAD_TEMPORAL_VALUES)(
    'refuses %s = %s in REST creates, updates and bulk creates with 400 and the field path, writing nothing',
    async (field, value, code) => {
      await writesNothing('atk', async () => {
        expectRefused(await http().post('/api/data/atk', { title: 'bad', [field]: value }), {
          code,
          path: `/${field}`,
        });
        expectRefused(await http().patch(`/api/data/atk/${parent.id}`, { title: 'changed', [field]: value }), {
          code,
          path: `/${field}`,
        });
        expectRefused(
          await http().post('/api/data/atk/bulk', {
            operation: 'create',
            records: [{ title: 'fine' }, { title: 'bad', [field]: value }],
          }),
          { code, path: `/records/1/${field}` },
        );
        expectRefused(
          await http().post('/api/data/atk/bulk', {
            operation: 'update',
            records: [{ id: parent.id, [field]: value }],
          }),
          { code, path: `/records/0/${field}` },
        );
      });
    },
  );

  it.each(BAD_TEMPORAL_VALUES)(
    'refuses %s = %s in GraphQL creates and updates, as literals and as variables, writing nothing',
    async (field, value) => {
      await writesNothing('atk', async () => {
        expectGraphqlRefused(
          await gql(`mutation { createAtk(input: { title: "bad", ${field}: ${JSON.stringify(value)} }) { id } }`),
        );
        expectGraphqlRefused(
          await gql('mutation($input: AtkCreateInput!) { createAtk(input: $input) { id } }', {
            input: { title: 'bad', [field]: value },
          }),
        );
        expectGraphqlRefused(
          await gql('mutation($id: ID!, $input: AtkUpdateInput!) { updateAtk(id: $id, input: $input) { id } }', {
            id: parent.id,
            input: { [field]: value },
          }),
        );
      });
    },
  );

  /** The same filter shapes with a valid operand of `field`, and a valid list companion. */
  const validOperand = (field: string) => (field === 'at' ? '2024-06-01T00:00:00-15:59' : '0001-01-01');
  const listCompanion = (field: string) => (field === 'at' ? '2024-01-01T00:00:00Z' : '2024-01-01');

  /** REST filters with `value` as an operand of `field`: expression and JSON, comparisons, lists, nested. */
  const temporalRestFilters = (field: string, value: string): string[] => [
    `${field} gt '${value}'`,
    `${field} eq '${value}'`,
    `${field} in ('${listCompanion(field)}', '${value}')`,
    `${field} between ('${value}', '${value}')`,
    `title eq 'x' or not (${field} lte '${value}')`,
    JSON.stringify({ [field]: { gt: value } }),
    JSON.stringify({ [field]: { in: [listCompanion(field), value] } }),
    JSON.stringify({ or: [{ title: { eq: 'x' } }, { [field]: { eq: value } }] }),
    JSON.stringify({ kids: { some: { [field]: { lt: value } } } }),
  ];

  /** GraphQL reads with `value` as an operand of `field`: literals and variables, lists, aggregates, to-many. */
  const temporalGraphqlReads = (field: string, value: string): [string, Record<string, unknown>?][] => [
    [`{ atks(filter: { ${field}: { gt: ${JSON.stringify(value)} } }) { nodes { id } } }`],
    [`{ atks(filter: { ${field}: { in: [${JSON.stringify(value)}] } }) { totalCount } }`],
    [`{ atksAggregate(filter: { ${field}: { lt: ${JSON.stringify(value)} } }, aggregate: ["count"]) }`],
    ['query($f: AtkFilter) { atks(filter: $f) { nodes { id } } }', { f: { [field]: { gt: value } } }],
    [
      'query($f: AtkFilter) { atks(filter: $f) { totalCount } }',
      { f: { or: [{ title: { eq: 'x' } }, { [field]: { eq: value } }] } },
    ],
    [
      'query($id: ID!, $f: AtkFilter) { atk(id: $id) { kids(filter: $f) { nodes { id } } } }',
      { id: parent.id, f: { [field]: { lte: value } } },
    ],
  ];

  it.each(BAD_TEMPORAL_OPERANDS)(
    'refuses the operand %s %s in REST filters (expression and JSON, lists, aggregates) with 400 naming /filter',
    async (field, value, code) => {
      // the same shapes with a valid operand are served
      for (const filter of temporalRestFilters(field, validOperand(field))) {
        expectStatus(await http().get(`/api/data/atk?${query({ filter })}`), 200);
        expectStatus(await http().get(`/api/data/atk/aggregate?${query({ filter, aggregate: 'count' })}`), 200);
      }
      for (const filter of temporalRestFilters(field, value)) {
        expectRefused(await http().get(`/api/data/atk?${query({ filter })}`), { code, path: '/filter', label: filter });
        expectRefused(await http().get(`/api/data/atk/aggregate?${query({ filter, aggregate: 'count' })}`), {
          code,
          path: '/filter',
          label: `aggregate ${filter}`,
        });
      }
      expectRefused(
        await http().get(`/api/data/atk/${parent.id}/kids?${query({ filter: `${field} gt '${value}'` })}`),
        { code, path: '/filter' },
      );
      expectRefused(await http().get(`/api/data/atk?${query({ expand: `kids(filter=${field} gt '${value}')` })}`), {
        code,
        path: '/expand/0/filter',
      });
    },
  );

  it.each(BAD_TEMPORAL_OPERANDS)(
    'refuses the operand %s %s in GraphQL filter arguments and filter variables',
    async (field, value) => {
      for (const [text, variables] of temporalGraphqlReads(field, validOperand(field))) {
        const served = await gql(text, variables);
        expect(served.body.errors, `${text}: ${served.text.slice(0, 1000)}`).toBeUndefined();
      }
      for (const [text, variables] of temporalGraphqlReads(field, value)) {
        expectGraphqlRefused(await gql(text, variables), { label: `${text} ${JSON.stringify(variables ?? {})}` });
      }
    },
  );

  /** Text filters with `v` as the operand, in every form; [label, query parameters]. */
  const TEXT_FILTERS: readonly [string, (v: string) => Record<string, string>][] = [
    ['eq', (v) => ({ filter: `title eq '${v}'` })],
    ['ne', (v) => ({ filter: `title ne '${v}'` })],
    ['contains', (v) => ({ filter: `title contains '${v}'` })],
    ['icontains', (v) => ({ filter: `title icontains '${v}'` })],
    ['startsWith', (v) => ({ filter: `title startsWith '${v}'` })],
    ['endsWith', (v) => ({ filter: `title endsWith '${v}'` })],
    ['an in list', (v) => ({ filter: `title in ('fine', '${v}')` })],
    ['JSON eq', (v) => ({ filter: JSON.stringify({ title: { eq: v } }) })],
    ['JSON istartsWith', (v) => ({ filter: JSON.stringify({ title: { istartsWith: v } }) })],
    ['JSON nin list', (v) => ({ filter: JSON.stringify({ title: { nin: ['fine', v] } }) })],
    ['a lookup path', (v) => ({ filter: `a.title eq '${v}'` })],
    ['search', (v) => ({ search: v })],
    ['search with words', (v) => ({ search: `fine ${v} words` })],
  ];

  it.each(TEXT_FILTERS)('refuses a NUL character in a REST filter value (%s) with 400', async (_label, params) => {
    const path = params('').search !== undefined ? '/search' : '/filter';
    for (const url of ['/api/data/atk', '/api/data/atk/aggregate', `/api/data/atk/${parent.id}/kids`]) {
      expectStatus(await http().get(`${url}?${query(params('ab'))}`), 200);
      expectRefused(await http().get(`${url}?${query(params(NUL))}`), { path, label: url });
    }
  });

  it('refuses a NUL character in a to-many expansion filter and in GraphQL filters and search', async () => {
    expectStatus(await http().get(`/api/data/atk?${query({ expand: "kids(filter=title eq 'ab')" })}`), 200);
    expectRefused(await http().get(`/api/data/atk?${query({ expand: `kids(filter=title eq '${NUL}')` })}`), {
      path: '/expand/0/filter',
    });
    expectGraphqlRefused(await gql('{ atks(filter: { title: { eq: "a\\u0000b" } }) { nodes { id } } }'));
    expectGraphqlRefused(
      await gql('query($f: AtkFilter) { atks(filter: $f) { nodes { id } } }', { f: { title: { contains: NUL } } }),
    );
    expectGraphqlRefused(
      await gql('query($f: AtkFilter) { atks(filter: $f) { nodes { id } } }', { f: { title: { in: ['fine', NUL] } } }),
    );
    expectGraphqlRefused(await gql('query($s: String) { atks(search: $s) { nodes { id } } }', { s: NUL }));
  });

  it('refuses numbers beyond bigint in filters with 400', async () => {
    expectStatus(await http().get(`/api/data/atk?${query({ filter: 'n lt 9007199254740991' })}`), 200);
    for (const filter of [
      'n eq 99999999999999999999',
      'n gt 1e19',
      'n in (1, 9223372036854775808)',
      JSON.stringify({ n: { lt: 1e19 } }),
      '{"n":{"eq":99999999999999999999}}',
    ]) {
      expectRefused(await http().get(`/api/data/atk?${query({ filter })}`), { path: '/filter', label: filter });
    }
  });

  /** Every place an offset goes, with the path its problem must name. */
  const offsetTargets = (offset: string): [string, string][] => [
    [`/api/data/atk?offset=${offset}`, '/offset'],
    [`/api/data/atk?limit=1&offset=${offset}&count=true`, '/offset'],
    [`/api/data/atk/${parent.id}/kids?offset=${offset}`, '/offset'],
    [`/api/data/atk?${query({ expand: `kids(offset=${offset})` })}`, '/expand/0/offset'],
    [`/api/data/atk/${parent.id}?${query({ expand: `kids(offset=${offset})` })}`, '/expand/0/offset'],
    [`/api/data/atk?${query({ expand: `kids(expand=kids(offset=${offset}))` })}`, '/expand/0/expand/0/offset'],
    [`/api/metadata/changes?offset=${offset}`, '/offset'],
    [`/api/metadata/changes?limit=5&offset=${offset}&target=atk`, '/offset'],
  ];

  it.each(HUGE_OFFSETS)(
    'refuses offset=%s (beyond bigint) on lists, related lists, expansions and the ledger with 400',
    async (offset) => {
      for (const [url] of offsetTargets('1')) expectStatus(await http().get(url), 200);
      for (const [url, path] of offsetTargets(offset)) expectRefused(await http().get(url), { path, label: url });
    },
  );

  const CURSOR_SORTS = [undefined, 'title', '-n', 'day:nullsfirst', 'a.title', '-at,title'];

  it.each(NON_SCALAR_CURSORS)(
    'refuses a cursor with %s with 400 and path /cursor, whatever the sort',
    async (_label, value) => {
      const cursor = cursorOf(value);
      for (const sort of CURSOR_SORTS) {
        const sorted = { sort };
        // a cursor the API issued for this sort is served
        const issued = expectStatus(
          await http().get(`/api/data/atk?${query({ limit: '1', ...sorted })}`),
          200,
        ).nextCursor;
        expectStatus(await http().get(`/api/data/atk?${query({ cursor: issued, ...sorted })}`), 200);
        expectRefused(await http().get(`/api/data/atk?${query({ cursor, ...sorted })}`), {
          path: '/cursor',
          label: `sort=${sort}`,
        });
        expectRefused(await http().get(`/api/data/atk/${parent.id}/kids?${query({ cursor, ...sorted })}`), {
          path: '/cursor',
          label: `kids, sort=${sort}`,
        });
      }
    },
  );

  it.each(NON_SCALAR_CURSORS)(
    'refuses a GraphQL after/before cursor with %s as a client error, not an internal one',
    async (_label, value) => {
      const cursor = JSON.stringify(cursorOf(value));
      expectGraphqlRefused(await gql(`{ atks(first: 2, after: ${cursor}) { nodes { id } } }`));
      expectGraphqlRefused(await gql(`{ atks(last: 2, before: ${cursor}) { nodes { id } } }`));
      expectGraphqlRefused(await gql(`{ atks(first: 2, after: ${cursor}, orderBy: [{ n: DESC }]) { nodes { id } } }`));
      expectGraphqlRefused(
        await gql(
          'query($c: String) { atks(first: 1, after: $c, orderBy: [{ a: { title: ASC } }]) { nodes { id } } }',
          { c: cursorOf(value) },
        ),
      );
    },
  );

  // -----------------------------------------------------------------------------------------------
  // 2. Inputs without bounds
  // -----------------------------------------------------------------------------------------------

  const DEEP = 5000;

  it('refuses 5,000-deep JSON record bodies (create, update, bulk) quickly with 400, writing nothing', async () => {
    const deepArray = nest(DEEP, '[', '', ']');
    const deepObject = nest(DEEP, '{"a":', 'null', '}');
    const bodies: [string, string, string][] = [
      ['POST', '/api/data/atk', `{"title":${deepArray}}`],
      ['POST', '/api/data/atk', `{"title":"x","n":${deepObject}}`],
      ['POST', '/api/data/atk', `{"title":"x","deep":${deepObject}}`],
      ['POST', '/api/data/atk', deepObject],
      ['PATCH', `/api/data/atk/${parent.id}`, `{"title":${deepArray}}`],
      ['POST', '/api/data/atk/bulk', `{"operation":"create","records":[{"title":"fine"},{"title":${deepArray}}]}`],
      ['POST', '/api/data/atk/bulk', `{"operation":"create","records":${deepArray}}`],
    ];
    await writesNothing('atk', async () => {
      for (const [method, url, body] of bodies) {
        const [reply, ms] = await timed(raw(method, url, body));
        expectRefused(reply);
        expect(ms, `${method} ${url} took ${ms} ms`).toBeLessThan(1000);
      }
    });
  });

  it('refuses a 5,000-deep metadata definition quickly with 400, changing nothing', async () => {
    await changesNoMetadata(async () => {
      for (const body of [
        `{"name":"atk_deep","fields":${nest(DEEP, '[', '', ']')}}`,
        `{"name":"atk_deep","fields":[{"name":"f","type":"text","description":${nest(DEEP, '{"a":', 'null', '}')}}]}`,
      ]) {
        const [reply, ms] = await timed(raw('POST', '/api/metadata/entities', body));
        expectRefused(reply);
        expect(ms).toBeLessThan(1000);
      }
    });
  });

  it('refuses 5,000-deep filters (JSON and expression) quickly with 400 naming /filter', async () => {
    const filters = [
      `{"title":{"in":${nest(DEEP, '[', '"x"', ']')}}}`,
      nest(DEEP, '{"not":', '{"title":{"eq":"x"}}', '}'),
      nest(DEEP, '{"and":[', '{"title":{"eq":"x"}}', ']}'),
      nest(DEEP, '(', "title eq 'x'", ')'),
      `${'not '.repeat(DEEP)}title eq 'x'`,
    ];
    // the same shapes a few levels deep are served
    for (const filter of [
      nest(3, '{"not":', '{"title":{"eq":"x"}}', '}'),
      nest(3, '{"and":[', '{"title":{"eq":"x"}}', ']}'),
      nest(3, '(', "title eq 'x'", ')'),
      "not not title eq 'x'",
    ]) {
      expectStatus(await http().get(`/api/data/atk?${query({ filter })}`), 200);
    }
    for (const filter of filters) {
      for (const url of [`/api/data/atk?${query({ filter })}`, `/api/data/atk/aggregate?${query({ filter })}`]) {
        const [reply, ms] = await timed(http().get(url));
        expectRefused(reply, { path: '/filter' });
        expect(ms, `${url.slice(0, 80)}… took ${ms} ms`).toBeLessThan(1000);
      }
    }
  });

  it('refuses 5,000-deep GraphQL variables and filter literals quickly, without an internal error', async () => {
    // JSON texts: the test process itself could not JSON.stringify values this deep
    const deepNot = nest(DEEP, '{"not":', '{"title":{"eq":"x"}}', '}');
    const deepAnd = nest(DEEP, '{"and":[', '{"title":{"eq":"x"}}', ']}');
    const deepList = nest(DEEP, '[', '"x"', ']');
    const body = (text: string, variables: string) => `{"query":${JSON.stringify(text)},"variables":${variables}}`;
    const filterQuery = 'query($f: AtkFilter) { atks(filter: $f) { totalCount } }';
    const attempts: [string, string][] = [
      ['a deep not chain', body(filterQuery, `{"f":${deepNot}}`)],
      ['a deep and chain', body(filterQuery, `{"f":${deepAnd}}`)],
      ['a deep list in an in operand', body(filterQuery, `{"f":{"title":{"in":${deepList}}}}`)],
      [
        'a deep list as a create input value',
        body(
          'mutation($input: AtkCreateInput!) { createAtk(input: $input) { id } }',
          `{"input":{"title":${deepList}}}`,
        ),
      ],
      [
        'a deep object as a String variable',
        body('query($s: String) { atks(search: $s) { totalCount } }', `{"s":${deepNot}}`),
      ],
      [
        'a deep filter literal',
        JSON.stringify({
          query: `{ atks(filter: ${nest(DEEP, '{ not: ', '{ title: { eq: "x" } }', ' }')}) { totalCount } }`,
        }),
      ],
    ];
    await writesNothing('atk', async () => {
      for (const [label, text] of attempts) {
        const [reply, ms] = await timed(rawGraphql(text));
        expectGraphqlRefused(reply, { label });
        expect(ms, `${label} took ${ms} ms`).toBeLessThan(1000);
      }
    });
  });

  it(
    'refuses GraphQL operations without bounds (1,700 aliases, 2,000 root lists, ' +
      'a non-string or huge query) with a 4xx, each within 1 s',
    async () => {
      const aliases = `{ atks { nodes { ${Array.from({ length: 1700 }, (_, i) => `t${i}: title`).join(' ')} } } }`;
      const rootLists = Array.from({ length: 2000 }, (_, i) => `r${i}: atks(first: 1) { nodes { id title } }`);
      const roots = `{ ${rootLists.join(' ')} }`;
      const huge = `# ${'x'.repeat(100 * 1024)}\n{ atks { nodes { id } } }`;
      const hugeLiteral = `{ atks(filter: { title: { eq: "${'x'.repeat(100 * 1024)}" } }) { nodes { id } } }`;
      const attempts: [string, () => Promise<Reply>][] = [
        ['1,700 aliases of one column', () => gql(aliases)],
        ['2,000 aliased root lists', () => gql(roots)],
        ['{"query": 42}', () => rawGraphql('{"query": 42}')],
        ['{"query": null}', () => rawGraphql('{"query": null}')],
        ['{"query": {"a": 1}}', () => rawGraphql('{"query": {"a": 1}}')],
        ['{"query": ["{ atks { totalCount } }"]}', () => rawGraphql('{"query": ["{ atks { totalCount } }"]}')],
        ['a query text over 100 KB (a comment)', () => gql(huge)],
        ['a query text over 100 KB (a string literal)', () => gql(hugeLiteral)],
      ];
      // every attempt is checked; the failures are reported together
      const failures: string[] = [];
      for (const [label, attempt] of attempts) {
        const [reply, ms] = await timed(attempt());
        try {
          expectGraphqlClientError(reply, label);
          expect(ms, `${label} took ${Math.round(ms)} ms`).toBeLessThan(1000);
        } catch (error) {
          failures.push((error as Error).message.split('\n')[0]!);
        }
      }
      expect(failures).toEqual([]);
    },
  );

  it('refuses REST selections and expansions without bounds with 400', async () => {
    const attempts: [Record<string, string>, string][] = [
      [{ expand: Array(2000).fill('a').join(',') }, '/expand'],
      [{ expand: Array(2000).fill('kids').join(',') }, '/expand'],
      [{ expand: Array(2000).fill('kids(select=title)').join(',') }, '/expand'],
      [{ select: Array(1700).fill('title').join(',') }, '/select'],
      [{ expand: nest(300, 'a(expand=', 'a', ')') }, '/expand'],
    ];
    // a few of each are served
    for (const params of [
      { expand: 'a,kids(select=title)' },
      { select: 'title,n,title' },
      { expand: nest(3, 'a(expand=', 'a', ')') },
    ]) {
      expectStatus(await http().get(`/api/data/atk?${query(params)}`), 200);
    }
    for (const [params, path] of attempts) {
      const [list, ms] = await timed(http().get(`/api/data/atk?${query(params)}`));
      expectRefused(list, { path, label: JSON.stringify(params).slice(0, 60) });
      expect(ms).toBeLessThan(1000);
      expectRefused(await http().get(`/api/data/atk/${parent.id}?${query(params)}`), { path });
    }
  });

  it('refuses sort keys, group keys and filter paths 300 lookups deep with 400', async () => {
    const deepPath = `${'a.'.repeat(300)}title`;
    // two lookups deep is served
    for (const params of [{ sort: 'a.a.title' }, { filter: "a.a.title eq 'x'" }])
      expectStatus(await http().get(`/api/data/atk?${query(params)}`), 200);
    expectStatus(await http().get(`/api/data/atk/aggregate?${query({ groupBy: 'a.a.title' })}`), 200);
    const attempts: [string, string][] = [
      [`/api/data/atk?${query({ sort: deepPath })}`, '/sort'],
      [`/api/data/atk?${query({ sort: `-${deepPath}:nullslast` })}`, '/sort'],
      [`/api/data/atk?${query({ expand: `kids(sort=${deepPath})` })}`, '/expand/0/sort'],
      [`/api/data/atk/aggregate?${query({ groupBy: deepPath })}`, '/groupBy'],
      [`/api/data/atk/aggregate?${query({ groupBy: 'title', aggregate: `max(${deepPath})` })}`, '/aggregate'],
      [`/api/data/atk?${query({ filter: `${deepPath} eq 'x'` })}`, '/filter'],
      [`/api/data/atk?${query({ filter: nest(300, '{"a":', '{"title":{"eq":"x"}}', '}') })}`, '/filter'],
      [`/api/data/atk/aggregate?${query({ filter: `${deepPath} eq 'x'` })}`, '/filter'],
    ];
    for (const [url, path] of attempts) {
      const [reply, ms] = await timed(http().get(url));
      expectRefused(reply, { path, label: url.slice(0, 60) });
      expect(ms).toBeLessThan(1000);
    }
    const orderBy = nest(300, '{ a: ', '{ title: ASC }', ' }');
    expectGraphqlRefused(await gql(`{ atks(orderBy: [${orderBy}]) { nodes { id } } }`));
    const filter = nest(300, '{ a: ', '{ title: { eq: "x" } }', ' }');
    expectGraphqlRefused(await gql(`{ atks(filter: ${filter}) { nodes { id } } }`));
    expectGraphqlRefused(
      await gql('query($g: [String!]) { atksAggregate(groupBy: $g, aggregate: ["count"]) }', {
        g: [`${'a.'.repeat(300)}title`],
      }),
    );
  });

  // -----------------------------------------------------------------------------------------------
  // 3. Regular expressions
  // -----------------------------------------------------------------------------------------------

  it(
    'does not stall on a catastrophically backtracking pattern: refused at save, ' + 'or evaluated in linear time',
    async () => {
      const before = await metadataState();
      const saved = await http().post('/api/metadata/entities', {
        name: 'atk_re',
        fields: [{ name: 'code', type: 'text', pattern: '^(a+)+$' }],
      });
      if (saved.status !== 201) {
        expectRefused(saved, { code: /^XRM_ERR_METADATA_INVALID$/, path: '/fields/0/pattern' });
        expect(await metadataState()).toEqual(before);
        return;
      }
      const evil = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaa!';
      expect(evil).toHaveLength(30);
      const good = expectStatus(await http().post('/api/data/atk_re', { code: 'aaaa' }), 201);
      await writesNothing('atk_re', async () => {
        const attempts: [string, () => Promise<Reply>][] = [
          ['create', () => http().post('/api/data/atk_re', { code: evil })],
          ['update', () => http().patch(`/api/data/atk_re/${good.id}`, { code: evil })],
          [
            'bulk create',
            () =>
              http().post('/api/data/atk_re/bulk', { operation: 'create', records: [{ code: 'aa' }, { code: evil }] }),
          ],
        ];
        for (const [label, attempt] of attempts) {
          const [reply, ms] = await timed(attempt());
          expectRefused(reply, {
            code: /^XRM_ERR_RECORD_INVALID$/,
            path: label === 'bulk create' ? '/records/1/code' : '/code',
          });
          expect(ms, `${label} took ${ms} ms`).toBeLessThan(200);
        }
        const [reply, ms] = await timed(
          gql('mutation($c: String) { createAtkRe(input: { code: $c }) { id } }', { c: evil }),
        );
        expectGraphqlRefused(reply);
        expect(ms).toBeLessThan(200);
      });
    },
  );

  const NON_RE2_PATTERNS = [
    ['a backreference', '^(a)\\1$', 1],
    ['a lookahead', '^(?=a).*', 2],
    ['a negative lookahead', '^(?!a).*$', 3],
    ['a lookbehind', '(?<=a)b', 4],
  ] as const;

  it.each(NON_RE2_PATTERNS)(
    'refuses a pattern with %s (%s) with 400 XRM_ERR_METADATA_INVALID naming the pattern, changing nothing',
    async (_label, pattern, n) => {
      await ensurePatternEntity();
      await changesNoMetadata(async () => {
        const code = /^XRM_ERR_METADATA_INVALID$/;
        expectRefused(
          await http().post('/api/metadata/entities', {
            name: `atk_pat_new${n}`,
            fields: [
              { name: 'title', type: 'text' },
              { name: 'code', type: 'text', pattern },
            ],
          }),
          { code, path: '/fields/1/pattern' },
        );
        expectRefused(
          await http().post('/api/metadata/entities/atk_pat/fields', { name: `other${n}`, type: 'longText', pattern }),
          { code, path: '/pattern' },
        );
        expectRefused(await http().patch('/api/metadata/entities/atk_pat/fields/code', { pattern }), {
          code,
          path: '/pattern',
        });
      });
      expect(expectStatus(await http().get('/api/metadata/entities/atk_pat/fields/code'), 200).pattern).toBe('ok');
    },
  );

  /** `atk_pat`, whose field `code` has the pattern "ok": the target of the pattern changes above. */
  async function ensurePatternEntity(): Promise<void> {
    if ((await http().get('/api/metadata/entities/atk_pat')).status === 200) return;
    expectStatus(
      await http().post('/api/metadata/entities', {
        name: 'atk_pat',
        fields: [{ name: 'code', type: 'text', pattern: 'ok' }],
      }),
      201,
    );
  }

  // -----------------------------------------------------------------------------------------------
  // 4. Names colliding with the platform's own objects
  // -----------------------------------------------------------------------------------------------

  /** `other` with a searchable primary field, an autonumber, a unique field and an alternate key. */
  async function defineOther(other: string): Promise<void> {
    expectStatus(
      await http().post('/api/metadata/entities', {
        name: other,
        primaryField: 'name',
        fields: [
          { name: 'name', type: 'text', searchable: true },
          { name: 'num', type: 'autonumber', prefix: 'N-' },
          { name: 'code', type: 'text', unique: true },
          { name: 'ref', type: 'text', searchable: true },
          { name: 'k1', type: 'text' },
        ],
      }),
      201,
    );
    expectStatus(await http().post(`/api/metadata/entities/${other}/keys`, { name: 'k', fields: ['k1'] }), 201);
    expectStatus(
      await http().post('/api/metadata/relationships', {
        name: `${other}_links`,
        type: 'manyToMany',
        from: other,
        to: other,
      }),
      201,
    );
  }

  /**
   * Entity names equal to the physical names (in the 0.1 layout, and PostgreSQL's defaults) of
   * `other`'s indexes, sequence, unique index, full-text index, key, primary key and junction table.
   */
  const squatters = (other: string): string[] => [
    `ix_${other}_created_at`,
    `seq_${other}_num`,
    `uq_${other}_code`,
    `fts_${other}`,
    `ak_${other}_k`,
    `ix_${other}_ref`,
    `${other}_pkey`,
    `${other}_links_pkey`,
    `ix_${other}_links_to_id`,
  ];

  async function defineSquatter(name: string): Promise<void> {
    const reply = await http().post('/api/metadata/entities', { name, fields: [{ name: 'label', type: 'text' }] });
    expect(reply.status, `${name}: ${reply.status} ${reply.text.slice(0, 1000)}`).toBe(201);
  }

  /** Both sides work afterwards: records, autonumbers, unique checks and search. */
  async function bothServe(other: string, names: string[]): Promise<void> {
    const one = expectStatus(
      await http().post(`/api/data/${other}`, { name: 'alpha beta', code: 'c1', ref: 'r', k1: 'k' }),
      201,
    );
    expect(one.num).toBe('N-000001');
    expectRefused(await http().post(`/api/data/${other}`, { name: 'again', code: 'c1' }), {
      status: 409,
      code: /^XRM_ERR_RECORD_DUPLICATE$/,
      path: '/code',
    });
    expectRefused(await http().post(`/api/data/${other}`, { name: 'again', k1: 'k' }), {
      status: 409,
      code: /^XRM_ERR_RECORD_DUPLICATE$/,
    });
    expect(
      expectStatus(await http().get(`/api/data/${other}?search=alph`), 200).data.map((r: { id: string }) => r.id),
    ).toEqual([one.id]);
    const two = expectStatus(await http().post(`/api/data/${other}`, { name: 'two', code: 'c2' }), 201);
    expect((await http().post(`/api/data/${other}/${one.id}/${other}_links`, { id: two.id })).status).toBe(204);
    expect(
      expectStatus(await http().get(`/api/data/${other}/${one.id}/${other}_links`), 200).data.map(
        (r: { id: string }) => r.id,
      ),
    ).toEqual([two.id]);
    for (const name of names) expectStatus(await http().post(`/api/data/${name}`, { label: 'here' }), 201);
  }

  it('creates entities named like the physical objects of an entity created after them', async () => {
    const names = squatters('atk_cb');
    for (const name of names) await defineSquatter(name);
    await defineOther('atk_cb');
    await bothServe('atk_cb', names);
  });

  it('creates entities named like the physical objects of an entity created before them', async () => {
    await defineOther('atk_ca');
    const names = squatters('atk_ca');
    for (const name of names) await defineSquatter(name);
    await bothServe('atk_ca', names);
  });

  it(
    'creates entity a_b with fields c, d and entity a with fields b_c, b_d (unique and searchable) ' +
      'whatever the order',
    async () => {
      expectStatus(
        await http().post('/api/metadata/entities', {
          name: 'a_b',
          fields: [
            { name: 'c', type: 'text', unique: true, searchable: true },
            { name: 'd', type: 'text', searchable: true },
          ],
        }),
        201,
      );
      const second = await http().post('/api/metadata/entities', {
        name: 'a',
        pluralName: 'a_items',
        fields: [
          { name: 'b_c', type: 'text', unique: true, searchable: true },
          { name: 'b_d', type: 'text', searchable: true },
        ],
      });
      expect(second.status, second.text.slice(0, 1000)).toBe(201);
      // each entity keeps its own unique index
      expectStatus(await http().post('/api/data/a_b', { c: 'same', d: 'same' }), 201);
      expectStatus(await http().post('/api/data/a', { b_c: 'same', b_d: 'same' }), 201);
      expectRefused(await http().post('/api/data/a_b', { c: 'same' }), {
        status: 409,
        code: /^XRM_ERR_RECORD_DUPLICATE$/,
        path: '/c',
      });
      expectRefused(await http().post('/api/data/a', { b_c: 'same' }), {
        status: 409,
        code: /^XRM_ERR_RECORD_DUPLICATE$/,
        path: '/b_c',
      });
      // and a field added later the other way round
      expectStatus(
        await http().post('/api/metadata/entities/a/fields', { name: 'b_e', type: 'text', unique: true }),
        201,
      );
      expectStatus(
        await http().post('/api/metadata/entities/a_b/fields', { name: 'e', type: 'text', unique: true }),
        201,
      );
    },
  );

  it(
    'answers 409 XRM_ERR_METADATA_NAME_TAKEN for an entity whose table was squatted by hand, ' + 'changing nothing',
    async () => {
      await sql`CREATE TABLE data.squatter (x int)`.execute(get().services.db);
      await changesNoMetadata(async () => {
        expectRefused(
          await http().post('/api/metadata/entities', { name: 'squatter', fields: [{ name: 'label', type: 'text' }] }),
          {
            status: 409,
            code: /^XRM_ERR_METADATA_NAME_TAKEN$/,
            path: '/name',
          },
        );
      });
      expectRefused(await http().get('/api/data/squatter'), {
        status: 404,
        code: /^XRM_ERR_METADATA_ENTITY_NOT_FOUND$/,
      });
      const squatter = sql`table_schema = 'data' AND table_name = 'squatter'`;
      const { rows } = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM information_schema.columns WHERE ${squatter}`.execute(get().services.db);
      expect(rows[0]!.n).toBe(1);
    },
  );

  // -----------------------------------------------------------------------------------------------
  // 5. GraphQL mutations: one transaction per operation
  // -----------------------------------------------------------------------------------------------

  it('commits none of the mutations of an operation when one of them is refused', async () => {
    const tooLong = 'x'.repeat(256);
    const operation = `mutation {
      m0: createAtk(input: { title: "tx ok 0" }) { id }
      m1: createAtk(input: { title: "tx ok 1" }) { id }
      m2: createAtk(input: { title: "${tooLong}" }) { id }
      m3: createAtk(input: { title: "tx ok 3" }) { id }
    }`;
    await writesNothing('atk', async () => {
      const reply = await gql(operation);
      const errors = expectGraphqlRefused(reply);
      expect(
        errors.some((e) => e.extensions?.code === 'XRM_ERR_RECORD_INVALID'),
        reply.text.slice(0, 1500),
      ).toBe(true);
      // no id is reported for a record that was rolled back
      for (const alias of ['m0', 'm1', 'm3']) {
        const id = reply.body.data?.[alias]?.id;
        if (id)
          expectRefused(await http().get(`/api/data/atk/${id}`), { status: 404, code: /^XRM_ERR_RECORD_NOT_FOUND$/ });
      }
    });
    const titles = expectStatus(
      await http().get(`/api/data/atk?${query({ filter: "title startsWith 'tx ok'" })}`),
      200,
    ).data;
    expect(titles).toEqual([]);
    // also when the refused mutation is an update or a delete of a missing record
    await writesNothing('atk', async () => {
      expectGraphqlRefused(
        await gql(
          `mutation($id: ID!) {
        m0: createAtk(input: { title: "tx ok 4" }) { id }
        m1: updateAtk(id: $id, input: { title: "${tooLong}" }) { id }
      }`,
          { id: parent.id },
        ),
      );
      expectGraphqlRefused(
        await gql(`mutation {
        m0: createAtk(input: { title: "tx ok 5" }) { id }
        m1: deleteAtk(id: "${MISSING}")
      }`),
      );
    });
  });

  it('commits all the mutations of a valid operation and returns data for each', async () => {
    const before = await countOf('atk');
    const reply = await gql(
      `mutation($p: ID) {
      m0: createAtk(input: { title: "all 0", aId: $p }) { id title }
      m1: createAtk(input: { title: "all 1", n: 11 }) { id title n }
      m2: createAtk(input: { title: "all 2", day: "2024-03-03" }) { id title day }
    }`,
      { p: parent.id },
    );
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.errors, reply.text).toBeUndefined();
    const { m0, m1, m2 } = reply.body.data;
    expect([m0.title, m1.title, m2.title]).toEqual(['all 0', 'all 1', 'all 2']);
    expect(m1.n).toBe(11);
    expect(m2.day).toBe('2024-03-03');
    expect(await countOf('atk')).toBe(before + 3);
    for (const m of [m0, m1, m2])
      expect(expectStatus(await http().get(`/api/data/atk/${m.id}`), 200).title).toBe(m.title);
  });

  // -----------------------------------------------------------------------------------------------
  // 6. Smaller things
  // -----------------------------------------------------------------------------------------------

  it(
    'refuses a lone surrogate in a record with 400 XRM_ERR_RECORD_INVALID and the field path, ' +
      'single and bulk alike',
    async () => {
      const code = /^XRM_ERR_RECORD_INVALID$/;
      await writesNothing('atk', async () => {
        expectRefused(await raw('POST', '/api/data/atk', '{"title":"\\ud800"}'), { code, path: '/title' });
        expectRefused(await raw('POST', '/api/data/atk', '{"title":"ok \\udfff tail"}'), { code, path: '/title' });
        expectRefused(await raw('PATCH', `/api/data/atk/${parent.id}`, '{"title":"\\ud800"}'), {
          code,
          path: '/title',
        });
        expectRefused(
          await raw('POST', '/api/data/atk/bulk', '{"operation":"create","records":[{"title":"\\ud800"}]}'),
          {
            code,
            path: '/records/0/title',
          },
        );
        expectRefused(
          await raw(
            'POST',
            '/api/data/atk/bulk',
            '{"operation":"create","records":[{"title":"fine"},{"title":"x\\udc00"}]}',
          ),
          { code, path: '/records/1/title' },
        );
      });
    },
  );

  it('refuses a lone surrogate in a filter value with 400 and in GraphQL input without an internal error', async () => {
    expectRefused(await http().get(`/api/data/atk?filter=${enc('{"title":{"eq":"\\ud800"}}')}`), { path: '/filter' });
    expectRefused(await http().get(`/api/data/atk?filter=${enc('{"title":{"in":["fine","\\udc00"]}}')}`), {
      path: '/filter',
    });
    await writesNothing('atk', async () => {
      expectGraphqlRefused(
        await rawGraphql(
          '{"query":"mutation($i: AtkCreateInput!) { createAtk(input: $i) ' +
            '{ id } }","variables":{"i":{"title":"\\ud800"}}}',
        ),
      );
      expectGraphqlRefused(
        await rawGraphql(
          '{"query":"query($f: AtkFilter) { atks(filter: $f) ' +
            '{ totalCount } }","variables":{"f":{"title":{"eq":"\\ud800"}}}}',
        ),
      );
    });
  });

  it('answers a text/plain body with 415 XRM_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE, writing nothing', async () => {
    const code = /^XRM_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE$/;
    const text = { 'content-type': 'text/plain' };
    await writesNothing('atk', async () => {
      expectRefused(await raw('POST', '/api/data/atk', '{"title":"plain"}', text), { status: 415, code });
      expectRefused(await raw('POST', '/api/data/atk', 'title=plain', text), { status: 415, code });
      expectRefused(
        await raw('POST', '/api/data/atk/bulk', '{"operation":"create","records":[{"title":"plain"}]}', text),
        { status: 415, code },
      );
      expectRefused(await raw('PATCH', `/api/data/atk/${parent.id}`, '{"title":"plain"}', text), { status: 415, code });
    });
  });

  it('answers a URL over 16 KB on the real socket with 431 or 414 as a coded problem', async () => {
    // signed in: the answer is about the URL, not about missing credentials
    const token = await adminToken(get().app);
    expect(token, 'the test administrator signs in').toBeTypeOf('string');
    const headers = { authorization: `Bearer ${token}` };
    for (const url of [
      `${base}/api/data/atk?${query({ filter: `title eq '${'x'.repeat(17 * 1024)}'` })}`,
      `${base}/api/data/${'a'.repeat(17 * 1024)}`,
    ]) {
      const res = await fetch(url, { headers });
      const text = await res.text();
      const context = `${res.status} ${res.headers.get('content-type')} ${text.slice(0, 500)}`;
      expect([414, 431], context).toContain(res.status);
      expect(String(res.headers.get('content-type')), context).toMatch(/^application\/problem\+json/);
      const body = JSON.parse(text);
      expect(String(body.code), context).toMatch(/^XRM_ERR_/);
      expect(body.status, context).toBe(res.status);
      expect(leaksIn(text), context).toEqual([]);
    }
    // the server still serves ordinary requests afterwards
    expect((await fetch(`${base}/api/data/atk?limit=1`, { headers })).status).toBe(200);
  });

  // -----------------------------------------------------------------------------------------------
  // Throughout
  // -----------------------------------------------------------------------------------------------

  it('refuses the attacks above arriving back to back for 1.5 s, none with a 5xx, writing nothing', async () => {
    const deepFilter = query({ filter: nest(DEEP, '{"not":', '{"title":{"eq":"x"}}', '}') });
    const rootLists = Array.from({ length: 2000 }, (_, i) => `r${i}: atks(first: 1) { nodes { id title } }`);
    const roots = `{ ${rootLists.join(' ')} }`;
    const hugeQuery = `# ${'x'.repeat(100 * 1024)}\n{ atks { nodes { id } } }`;
    const deepBody = `{"title":"x","a":${nest(DEEP, '{"a":', 'null', '}')}}`;
    const attacks: (() => Promise<Reply>)[] = [
      () => http().get(`/api/data/atk?${deepFilter}`),
      () => http().get(`/api/data/atk?${query({ sort: `${'a.'.repeat(300)}title` })}`),
      () => http().get('/api/data/atk?offset=9223372036854775807'),
      () => http().get(`/api/data/atk?cursor=${cursorOf([{ a: 1 }, MISSING])}`),
      () => http().get(`/api/data/atk?${query({ filter: `title eq '${NUL}'` })}`),
      () => http().post('/api/data/atk', { title: 'x', at: '2024-01-01T10:00:00+16:00' }),
      () => http().post('/api/data/atk_re', { code: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' }),
      () => raw('POST', '/api/data/atk', deepBody),
      () => gql(roots),
      () => gql(hugeQuery),
    ];
    await writesNothing('atk', async () => {
      const started = performance.now();
      let sent = 0;
      while (performance.now() - started < 1500) {
        const reply = await attacks[sent++ % attacks.length]!();
        const context = `attack ${(sent - 1) % attacks.length}: ${reply.status} ${reply.text.slice(0, 300)}`;
        expect(reply.status, context).toBeLessThan(500);
        expect(reply.status >= 400 || (reply.body?.errors ?? []).length > 0, context).toBe(true);
      }
      expect(sent).toBeGreaterThan(attacks.length);
    });
  });

  /**
   * 100 ms on PostgreSQL. On PGlite the database runs on the server's own thread, and the suite's
   * own schema changes (the entities it creates as attacks or targets) hold it as any schema change
   * does there: 60–130 ms on a slow day, some entities more than the target entity (five fields)
   * took to create. Its bound is three times that creation, scaled to the machine like the stalls.
   * A stall an input causes (backtracking, a huge value) happens in the server's JavaScript, the
   * same on both databases: the PostgreSQL leg's 100 ms catches it.
   */
  it('kept answering /health within 100 ms throughout (PGlite: 3 schema changes)', async () => {
    await poller?.stop();
    const bound = kind === 'pglite' ? Math.max(100, 3 * schemaChangeMs) : 100;
    const slowest = [...polls].sort((x, y) => y.ms - x.ms).slice(0, 8);
    const report = slowest.map((p) => `${Math.round(p.ms)} ms (${p.status}) during "${during(p.at)}"`).join('\n');
    expect(polls.length, report).toBeGreaterThan(20);
    expect(
      polls.filter((p) => p.status !== 200),
      report,
    ).toEqual([]);
    const slowestMs = Math.max(...polls.map((p) => p.ms));
    expect(slowestMs, `${polls.length} polls, bound ${Math.round(bound)} ms; slowest:\n${report}`).toBeLessThan(bound);
  });
});
