/**
 * Imports of mailbox (mbox), calendar (.ics) and CSV exports: the upload is streamed to a file
 * under the data folder and an `import` job is queued; the job streams the file through its
 * parser (import/), ingests the activities in batches of IMPORT_BATCH (idempotent by message id,
 * so a retried job or a re-imported file adds nothing twice) as the user who uploaded it, and
 * reports its progress on the job (`GET /api/jobs/{id}`: bytes, totalBytes, imported, problems).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline as pump } from 'node:stream/promises';
import type { FastifyBaseLogger } from 'fastify';
import { XrmError } from '../../metadata/errors.ts';
import type { Principal } from '../../plugins/api.ts';
import type { Job, JobQueue } from '../jobs/queue.ts';
import type { JobRun } from '../jobs/worker.ts';
import type { AccessService } from '../security/access.ts';
import { addressKey } from '../../metadata/signal-fields.ts';
import { type ImportFormat, isProblem, type ParsedActivity, parseImport } from './import/index.ts';
import type { Relationships } from './relationships.ts';

/** An import job as its uploader sees it: no server paths, no payload. */
export interface ImportJobView {
  readonly id: string;
  readonly format: string;
  readonly state: Job['state'];
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly lastError: string | null;
  /** When it runs (next): a failed attempt's retry time. */
  readonly runAt: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  readonly progress: Record<string, unknown> | null;
}

export function importJobView(job: Job): ImportJobView {
  return {
    id: job.id,
    format: job.target,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    lastError: job.lastError,
    runAt: job.runAt,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    finishedAt: job.finishedAt,
    progress: job.progress,
  };
}

/** Whether this principal uploaded the import of this job. */
export function uploadedBy(job: Job, principal: Principal): boolean {
  const by = (job.payload as { principal?: Principal }).principal;
  return job.kind === 'import' && by?.kind === principal.kind && by.id === principal.id;
}

/** A refusal of the user's data (4xx), as opposed to the platform failing (retried). */
function isUsersMistake(error: unknown): boolean {
  return error instanceof XrmError && error.status < 500 && error.status !== 429 && error.status !== 409;
}

/** Activities ingested per transaction. */
export const IMPORT_BATCH = 500;
/** Problems kept on the job for people to read (they are all counted). */
const KEPT_PROBLEMS = 50;

export interface ImportRequest {
  readonly format: ImportFormat;
  /** The importing side's addresses (decide inbound vs outbound). */
  readonly own: readonly string[];
  /** Every imported activity regards this record. */
  readonly regarding?: { readonly entity: string; readonly id: string };
  readonly principal: Principal;
}

interface ImportPayload extends Omit<ImportRequest, 'principal'> {
  readonly file: string;
  readonly principal: Principal;
}

export class ActivityImporter {
  readonly #dir: string;
  readonly #queue: JobQueue;
  readonly #relationships: Relationships;
  readonly #access: AccessService;
  readonly #log: FastifyBaseLogger;
  /** Called once an import is queued (wakes the local worker). */
  onQueued: () => void = () => undefined;

  constructor(
    dataDir: string,
    queue: JobQueue,
    relationships: Relationships,
    access: AccessService,
    log: FastifyBaseLogger,
  ) {
    this.#dir = !dataDir || dataDir.startsWith('memory://') ? join(tmpdir(), 'xrm-imports') : join(dataDir, 'imports');
    this.#queue = queue;
    this.#relationships = relationships;
    this.#access = access;
    this.#log = log.child({ component: 'activity-import' });
  }

  /** Stores the upload and queues its job; answers the job's id. */
  async start(db: Parameters<JobQueue['enqueueOne']>[0], upload: Readable, request: ImportRequest): Promise<string> {
    await mkdir(this.#dir, { recursive: true });
    const file = join(this.#dir, `${randomUUID()}.${request.format}`);
    try {
      await pump(upload, createWriteStream(file));
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
    const payload: ImportPayload = { ...request, file };
    const id = await this.#queue.enqueueOne(db, {
      kind: 'import',
      target: request.format,
      eventId: randomUUID(),
      payload: payload as unknown as Record<string, unknown>,
    });
    this.onQueued();
    return id;
  }

  /** The job: parse, ingest by batches, report progress; the file goes when the job succeeds. */
  async run(job: Job, run: JobRun): Promise<void> {
    const payload = job.payload as unknown as ImportPayload;
    const totalBytes = await stat(payload.file).then(
      (s) => s.size,
      () => {
        throw new XrmError(
          'XRM_ERR_RECORD_INVALID',
          'The uploaded file is not on this instance (imports need the data folder this instance wrote)',
        );
      },
    );
    const access = await this.#access.forPrincipal(payload.principal);
    if (!access) throw new XrmError('XRM_ERR_FORBIDDEN', 'The user who uploaded this import can no longer sign in');
    const ctx = { principal: payload.principal, access, correlationId: job.eventId, log: this.#log };
    const own = new Set(payload.own.map(addressKey));
    const progress = { bytes: 0, totalBytes, imported: 0, problems: 0, problemSamples: [] as string[], done: false };
    const report = () => this.#queue.setProgress(job.id, progress);
    await report();
    let batch: { activity: Record<string, unknown>; position: number }[] = [];
    const problem = (position: number, message: string) => {
      progress.problems++;
      if (progress.problemSamples.length < KEPT_PROBLEMS) progress.problemSamples.push(`#${position}: ${message}`);
    };
    const flush = async () => {
      if (!batch.length) return;
      try {
        await this.#relationships.ingest(
          ctx,
          batch.map((b) => b.activity),
        );
        progress.imported += batch.length;
      } catch (error) {
        if (!isUsersMistake(error)) throw error;
        // one refused item refuses its batch: once more one by one, each refusal a problem of its own
        for (const b of batch) {
          try {
            await this.#relationships.ingest(ctx, [b.activity]);
            progress.imported++;
          } catch (one) {
            if (!isUsersMistake(one)) throw one;
            const e = one as XrmError;
            const where = e.errors?.[0]?.path.replace(/^\/activities\/0|^\/records\/0/, '') ?? '';
            problem(b.position, `${where ? `${where} ` : ''}${e.errors?.[0]?.message ?? e.message}`);
          }
        }
      }
      batch = [];
      await report();
    };
    const items = parseImport(payload.format, createReadStream(payload.file), {
      own: (address) => own.has(addressKey(address)),
      onBytes: (bytes) => {
        progress.bytes = bytes;
      },
    });
    let position = 0;
    for await (const item of items) {
      if (run.signal.aborted) throw new Error('the import was stopped (its lease ended)');
      position++;
      if (isProblem(item)) {
        problem(item.position, item.message);
        continue;
      }
      batch.push({ activity: activityOf(item, payload.regarding), position });
      if (batch.length >= IMPORT_BATCH) await flush();
    }
    await flush();
    progress.bytes = totalBytes;
    progress.done = true;
    await report();
    await rm(payload.file, { force: true });
    this.#log.info({ job: job.id, imported: progress.imported, problems: progress.problems }, 'import done');
  }

  /** A job that failed for good: its file goes (the upload can be sent again). */
  async dead(job: Job): Promise<void> {
    await rm((job.payload as unknown as ImportPayload).file, { force: true });
  }
}

/**
 * An activity to ingest from a parsed one: a source without message ids gets one from its content,
 * so importing the same file again adds nothing.
 */
export function activityOf(item: ParsedActivity, regarding?: ImportRequest['regarding']): Record<string, unknown> {
  const messageId =
    item.message_id ??
    `import:${createHash('sha1')
      .update(
        JSON.stringify([
          item.kind,
          item.direction,
          item.occurred_at,
          item.subject ?? '',
          item.parties.map((p) => p.address),
        ]),
      )
      .digest('hex')}`;
  const { message_id: _m, in_reply_to, ...rest } = item;
  return {
    ...rest,
    message_id: messageId,
    ...(in_reply_to ? { in_reply_to } : {}),
    ...(regarding ? { regarding } : {}),
  };
}
