/** The per-request GraphQL context: the services resolvers call. */
import type { QueryService } from '../query/query-service.ts';
import type { RecordsService } from '../records/service.ts';

export interface GraphqlContext {
  readonly records: RecordsService;
  readonly query: QueryService;
}

export function createContext(records: RecordsService, query: QueryService): GraphqlContext {
  return { records, query };
}
