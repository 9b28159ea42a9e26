/**
 * The typed client of an xrm-platform server: `createClient<Entities>({ baseUrl })`, then
 * `client.entity('partner').list(…)` and friends, and `client.graphql(…)`. `Entities` is the
 * `XrmSchema` written by `xrm codegen` (the default when its file is imported) or the
 * `XrmEntities` map of `xrm types`.
 */
import { automationClient, type XrmAutomationClient } from './automation.ts';
import { entityClient, type EntityClient } from './entity.ts';
import { graphqlRequest } from './graphql.ts';
import { createTransport, type ClientOptions, type HttpRequest, type HttpResponse } from './http.ts';
import type { EntityMap, EntityName, RegisteredEntities } from './schema.ts';

export interface XrmClient<E> {
  /**
   * The client of one entity.
   *
   * @example
   * const partners = client.entity('partner');
   * const gold = await partners.list({ filter: { tier: { eq: 'gold' } }, sort: ['name'] });
   */
  entity<N extends EntityName<E>>(name: N): EntityClient<E, N>;

  /**
   * A GraphQL request: resolves to `data`; errors throw an XrmApiError with the first error's code.
   *
   * @example
   * const data = await client.graphql<{ employees: { totalCount: number; nodes: { fullName: string }[] } }>(
   *   'query ($first: Int) { employees(first: $first) { totalCount nodes { fullName } } }',
   *   { first: 10 },
   * );
   * const count: number = data.employees.totalCount;
   */
  graphql<T = unknown>(query: string, variables?: { [name: string]: unknown }): Promise<T>;

  /**
   * Runs a plugin's custom message (POST /api/messages/{name}); bound messages take the record as
   * `target`. Resolves to the message's output.
   *
   * @example
   * const { stage } = await client.execute<{ stage: string }>('win_deal', { note: 'signed' }, {
   *   entity: 'deal',
   *   id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
   * });
   */
  execute<O = unknown>(
    message: string,
    input?: { [name: string]: unknown },
    target?: { entity: string; id: string },
  ): Promise<O>;

  /**
   * Automation for the signed-in user: run a manual rule on a record, dry-run a rule, and work
   * your suggestions and notifications.
   *
   * @example
   * for (const s of await client.automation.suggestions({ status: 'pending' }))
   *   if (s.rule.name === 'Follow up stale deals') await client.automation.approve(s.id);
   */
  automation: XrmAutomationClient;

  /** Any other request (e.g. the metadata API): the JSON body of a 2xx answer, else an XrmApiError. */
  request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>>;
}

/**
 * Creates a client. Without a type argument it is typed by the registered schema (the file
 * `xrm codegen` writes registers its `XrmSchema`), else loosely.
 *
 * @example
 * const client = createClient({ baseUrl: 'http://127.0.0.1:3000', headers: { 'x-request-source': 'docs' } });
 * const partner = await client.entity('partner').create({ name: 'Acme Corp', region: 'emea' });
 */
export function createClient<E extends EntityMap<E> = RegisteredEntities>(options: ClientOptions): XrmClient<E> {
  const transport = createTransport(options);
  return {
    entity: <N extends EntityName<E>>(name: N) => entityClient<E, N>(transport, name),
    graphql: <T>(query: string, variables?: { [name: string]: unknown }) =>
      graphqlRequest<T>(transport, query, variables),
    request: <T>(request: HttpRequest) => transport.request<T>(request),
    automation: automationClient(transport),
    async execute<O>(
      message: string,
      input: { [name: string]: unknown } = {},
      target?: { entity: string; id: string },
    ) {
      const body = target ? { input, target } : { input };
      const path = `/api/messages/${encodeURIComponent(message)}`;
      return (await transport.request<{ output: O }>({ method: 'POST', path, body })).body.output;
    },
  };
}
