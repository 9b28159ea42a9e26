import type { MetadataService } from '../metadata/service.ts';
import type { Database, Db } from '../metadata/database.ts';
import type { QueryService } from './query/query-service.ts';
import type { RecordsService } from './records/service.ts';
import type { Runtime } from './runtime.ts';

/** The domain services the HTTP layers call. */
export interface Services {
  readonly database: Database;
  readonly db: Db;
  readonly runtime: Runtime;
  readonly metadata: MetadataService;
  readonly records: RecordsService;
  readonly query: QueryService;
}
