/**
 * GraphQL over the same transport: POST /graphql with `{ query, variables }`; `data` comes back,
 * and a response with `errors` (whatever its status) throws an XrmApiError carrying the first
 * error's code and status (from its extensions) and every error in `graphqlErrors`.
 */
import { XrmApiError, problemOf, type XrmFieldError, type XrmGraphqlError } from './errors.ts';
import type { Transport } from './http.ts';

interface GraphqlResponse<T> {
  data?: T | null;
  errors?: XrmGraphqlError[];
}

export async function graphqlRequest<T>(
  transport: Transport,
  query: string,
  variables?: { [name: string]: unknown },
): Promise<T> {
  const response = await transport.send({
    method: 'POST',
    path: '/graphql',
    body: variables ? { query, variables } : { query },
  });
  let body: GraphqlResponse<T> | undefined;
  try {
    body = JSON.parse(response.text) as GraphqlResponse<T>;
  } catch {
    /* not JSON: reported below */
  }
  const errors = body?.errors;
  if (Array.isArray(errors) && errors.length) throw graphqlError(errors, response.status);
  if (response.status < 200 || response.status > 299 || !body || !('data' in body)) {
    throw new XrmApiError(problemOf(response.status, response.statusText, response.text, response.target));
  }
  return body.data as T;
}

function graphqlError(errors: readonly XrmGraphqlError[], status: number): XrmApiError {
  const first = errors[0]!;
  const fieldErrors: XrmFieldError[] = errors.flatMap((e) => e.extensions?.errors ?? []);
  return new XrmApiError(
    {
      type: 'urn:xrm:problem:graphql',
      title: 'GraphQL error',
      status: first.extensions?.status ?? Math.max(status, 400),
      detail: errors.map((e) => e.message).join('; '),
      code: first.extensions?.code ?? 'XRM_ERR_GRAPHQL',
      errors: fieldErrors,
    },
    errors,
  );
}
