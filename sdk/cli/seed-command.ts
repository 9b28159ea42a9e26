/**
 * `xrm seed relationship-demo`: the relationship layer's starter solution on a running server —
 * partners, suppliers, investors, employees, contacts, deals, assets and IoT devices with activity
 * tracking on, and a deterministic multi-year activity history (relationship-demo.ts) written
 * through the bulk API, so signals, alerts and the today list have something to show. Running it
 * again finds what is there and adds nothing twice.
 */
import { CliError, type Command, type Io } from './command.ts';
import { demoActivities, demoEntities, demoRecords, type DemoOptions, type DemoRecord } from './relationship-demo.ts';
import { DEFAULT_URL, serverUrl } from './server.ts';

const BATCH = 1000;
const SOLUTIONS = ['relationship-demo'] as const;

interface Client {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

function client(base: URL, env: NodeJS.ProcessEnv): Client {
  const root = base.href.endsWith('/') ? base.href : `${base.href}/`;
  return {
    async call(method, path, body) {
      let response: Response;
      try {
        response = await fetch(new URL(path.replace(/^\//, ''), root), {
          method,
          signal: AbortSignal.timeout(600_000),
          headers: {
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(env.XRM_TOKEN ? { authorization: `Bearer ${env.XRM_TOKEN}` } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
        throw new CliError(`cannot reach ${root} (${cause}); is the server running?`);
      }
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    },
  };
}

async function expectOk(api: Client, method: string, path: string, body?: unknown): Promise<unknown> {
  const reply = await api.call(method, path, body);
  if (reply.status === 401) throw new CliError('the server needs credentials: set XRM_TOKEN (an API key)');
  if (reply.status >= 300) {
    const problem = reply.body as { detail?: string; code?: string } | undefined;
    throw new CliError(`${method} ${path} answered ${reply.status}: ${problem?.detail ?? problem?.code ?? ''}`);
  }
  return reply.body;
}

/** Writes one entity's records (or activities) by batches, unless the first one is there already. */
async function load(
  api: Client,
  entity: string,
  rows: Iterable<{ id: string } & Record<string, unknown>>,
  progress: (n: number) => void,
): Promise<number> {
  let batch: Record<string, unknown>[] = [];
  let written = 0;
  let checked = false;
  const flush = async () => {
    if (!batch.length) return;
    if (!checked) {
      checked = true;
      const first = await api.call('GET', `/api/data/${entity}/${batch[0]!.id}?select=id`);
      if (first.status === 200) return false;
    }
    await expectOk(api, 'POST', `/api/data/${entity}/bulk`, { operation: 'create', records: batch });
    written += batch.length;
    progress(written);
    batch = [];
    return true;
  };
  for (const row of rows) {
    batch.push(row);
    if (batch.length >= BATCH && (await flush()) === false) return 0;
  }
  if ((await flush()) === false) return 0;
  return written;
}

type Row = { id: string } & Record<string, unknown>;

const recordRow = (r: DemoRecord) => ({ id: r.id, ...r.values });

/** The optional keys of a demo activity, null when it has none. */
const ACTIVITY_KEYS = {
  body: null,
  duration_minutes: null,
  due_at: null,
  completed_at: null,
  message_id: null,
  in_reply_to: null,
  regarding: null,
};

export async function seedRelationshipDemo(api: Client, options: DemoOptions, io: Io): Promise<void> {
  const started = Date.now();
  const listed = (await expectOk(api, 'GET', '/api/metadata/entities')) as {
    data: { name: string; trackActivities?: boolean }[];
  };
  const existing = new Map(listed.data.map((e) => [e.name, e]));
  for (const entity of demoEntities()) {
    const found = existing.get(entity.name);
    if (!found) {
      await expectOk(api, 'POST', '/api/metadata/entities', entity);
      io.stderr(`entity ${entity.name}: created\n`);
    } else if (entity.trackActivities && !found.trackActivities) {
      await expectOk(api, 'PATCH', `/api/metadata/entities/${entity.name}`, { trackActivities: true });
      io.stderr(`entity ${entity.name}: tracking activities\n`);
    }
  }
  // records in creation order (parents first), one entity after the other
  const byEntity = new Map<string, DemoRecord[]>();
  for (const record of demoRecords(options)) {
    const list = byEntity.get(record.entity) ?? [];
    list.push(record);
    byEntity.set(record.entity, list);
  }
  for (const [entity, records] of byEntity) {
    const n = await load(api, entity, records.map(recordRow), () => undefined);
    io.stderr(`${entity}: ${n ? `${n} records` : 'already seeded'}\n`);
  }
  const at = Date.now();
  let last = 0;
  const n = await load(
    api,
    'activity',
    (function* () {
      // every activity with the same keys: a bulk create inserts one statement per key set, and a
      // reply must not be inserted before the message it answers
      for (const a of demoActivities(options)) yield { ...ACTIVITY_KEYS, ...a } as Row;
    })(),
    (written) => {
      if (written - last >= 50_000 || written === options.activities) {
        last = written;
        const rate = Math.round(written / Math.max(0.001, (Date.now() - at) / 1000));
        io.stderr(`activities: ${written} / ${options.activities} (${rate}/s)\n`);
      }
    },
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  io.stdout(
    n
      ? `Seeded relationship-demo: ${n} activities in ${seconds} s\n`
      : `relationship-demo was already seeded (${seconds} s)\n`,
  );
}

export const seedCommand: Command = {
  name: 'seed',
  summary: 'Load a starter solution with demo data into a running server (relationship-demo)',
  help: `Usage: xrm seed relationship-demo [--activities <n>] [--seed <n>] [--url <server>]

Creates the relationship demo's entities (partners, suppliers, investors, employees, contacts,
deals, assets, IoT devices; activity tracking on), their records and a deterministic multi-year
activity history, through the API. Running it again adds nothing twice.

Options:
  --activities <n>  How many activities (1000 to 1000000; default 10000)
  --seed <n>        Another seed gives other data (default 1)
  --url <server>    Server base URL (default: $XRM_URL or ${DEFAULT_URL})
                    Credentials: $XRM_TOKEN, an API key (or a session token), sent as a bearer token
  -h, --help        Show this help`,
  options: {
    activities: { type: 'string' },
    seed: { type: 'string' },
    url: { type: 'string' },
  },
  async run(options, positionals, io) {
    const [solution, ...rest] = positionals;
    if (!solution || !(SOLUTIONS as readonly string[]).includes(solution))
      throw new CliError(`name a solution: ${SOLUTIONS.join(', ')} (see xrm seed --help)`);
    if (rest.length) throw new CliError(`unexpected argument "${rest[0]}" (see xrm seed --help)`);
    const activities = Number(options.activities ?? 10_000);
    if (!Number.isInteger(activities) || activities < 1000 || activities > 1_000_000)
      throw new CliError('--activities must be a whole number from 1000 to 1000000');
    const seed = Number(options.seed ?? 1);
    if (!Number.isInteger(seed)) throw new CliError('--seed must be a whole number');
    const api = client(serverUrl(options.url as string | undefined), process.env);
    await seedRelationshipDemo(api, { activities, seed, now: new Date() }, io);
    return 0;
  },
};
