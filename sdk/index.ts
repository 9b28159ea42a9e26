/**
 * The typed TypeScript SDK of xrm-platform. Generate your instance's client with
 * `xrm codegen --url http://127.0.0.1:3000 --out src/xrm` and import `createClient` from there, or
 * use this module with the `XrmEntities` map of `xrm types`: `createClient<XrmEntities>({ baseUrl })`.
 */
export { createClient, type XrmClient } from './client.ts';
export type {
  XrmAutomationAction,
  XrmAutomationClient,
  XrmAutomationRun,
  XrmDryRun,
  XrmNotification,
  XrmSuggestion,
} from './automation.ts';
export type {
  BulkItem,
  BulkOperation,
  BulkResult,
  EntityClient,
  HistoryEntry,
  HistoryPage,
  UpsertResult,
  WriteOptions,
} from './entity.ts';
export { XrmApiError, type XrmFieldError, type XrmGraphqlError, type XrmProblem } from './errors.ts';
export type {
  Condition,
  FieldFilter,
  Filter,
  FilterOperator,
  JsonPathFilter,
  Operands,
  OperatorsByFieldType,
  RelationFilter,
} from './filter.ts';
export type { ClientOptions, FetchLike, FetchResponse, HeadersOption, HttpRequest, HttpResponse } from './http.ts';
export type { GetOptions, ListOptions, ListResult } from './query.ts';
export type { AggregateOptions, AggregateRow, AggregateSpec, GroupKey } from './aggregate.ts';
export type { Expansion, LookupExpansion, ManyExpansion, Row, Selection, Sort, SortKey } from './rows.ts';
export type {
  AnyEntities,
  CreateOf,
  EntityMap,
  EntityTypes,
  FieldOf,
  ReadOf,
  UpdateOf,
  XrmFieldType,
  XrmRecord,
  XrmRegister,
} from './schema.ts';
