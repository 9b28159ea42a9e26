/**
 * The per-request GraphQL context: the services resolvers call, and the operation's transaction.
 * A mutation operation is ONE transaction: the first write starts it, every later root field
 * writes and reads back inside it, and it commits only when the whole operation succeeded. If any
 * field fails, nothing the operation wrote is kept (as with a bulk request); the fields after the
 * failing one do not run (GraphQL executes mutation fields in order and stops at a non-null error).
 * An operation of one root field writes as REST does (the pipeline's own transaction, or one
 * statement): no BEGIN and COMMIT around it, the same all-or-nothing.
 */
import { Kind, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import type { ControlledTransaction } from 'kysely';
import type { Db } from '../../metadata/database.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';
import type { Relationships } from '../relationships/relationships.ts';
import type { QueryService } from '../query/query-service.ts';
import type { Access } from '../security/access.ts';
import type { WriteContext, WriteMessage, WriteOutcome, WritePipeline } from '../records/pipeline.ts';

export interface GraphqlContext {
  readonly query: QueryService;
  /** Who runs the operation: every read passes it to the query service. */
  readonly access?: Access;
  /** Record histories (committed writes). */
  readonly audit: Pick<AuditTrail, 'history'>;
  /** Tracked records' timelines. */
  readonly relationships?: Pick<Relationships, 'timeline'>;
  /**
   * Runs write messages through the pipeline, inside the operation's transaction; the one field
   * of an operation (`info` tells) writes on its own.
   */
  write(messages: readonly WriteMessage[], info?: Pick<GraphQLResolveInfo, 'operation'>): Promise<WriteOutcome[]>;
  /** The operation's transaction, started on first use. */
  transaction(): Promise<Db>;
  /** The operation's transaction if one was started (reads after a write of its own see its rows). */
  current(): Promise<Db> | undefined;
  /** Commits (or rolls back) the transaction if one was started; idempotent. */
  finish(outcome: 'commit' | 'rollback'): Promise<void>;
}

export function createContext(
  db: Db,
  pipeline: WritePipeline,
  query: QueryService,
  writer: WriteContext,
  audit: Pick<AuditTrail, 'history'>,
  relationships?: Pick<Relationships, 'timeline'>,
): GraphqlContext {
  let started: Promise<ControlledTransaction<any>> | undefined;
  let finished: Promise<void> | undefined;
  const committed: (() => void)[] = [];
  const transaction = (): Promise<Db> => {
    if (finished) throw new Error('the operation has already finished');
    started ??= db.startTransaction().execute();
    return started;
  };
  return {
    query,
    access: writer.access,
    audit,
    relationships,
    async write(messages, info) {
      if (!started && info && alone(info)) return pipeline.execute(writer, messages);
      const afterCommit = (work: () => void) => committed.push(work);
      return pipeline.execute({ ...writer, db: await transaction(), afterCommit }, messages);
    },
    transaction,
    current: () => started,
    finish(outcome) {
      if (!started) return Promise.resolve();
      finished ??= started.then(
        async (trx) => {
          if (outcome === 'rollback') return trx.rollback().execute();
          await trx.commit().execute();
          for (const work of committed) work();
        },
        // the transaction never started (no connection): nothing to end
        () => undefined,
      );
      return finished;
    },
  };
}

/** Whether the field is its operation's only root field (a fragment at the root counts as more). */
function alone(info: Pick<GraphQLResolveInfo, 'operation'>): boolean {
  const roots = info.operation.selectionSet.selections;
  return roots.length === 1 && roots[0]!.kind === Kind.FIELD;
}

/** The catalog version a schema was built from (set by the schema builder); reads are checked against it. */
export function schemaVersionOf(schema: GraphQLSchema): number | undefined {
  return (schema.extensions as { xrm?: { version: number } }).xrm?.version;
}
