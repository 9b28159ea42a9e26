/**
 * The OpenAPI operations of GET and POST /graphql. mercurius registers those routes, so they
 * cannot declare them themselves: the GraphQL plugin attaches these to its routes as they are
 * registered (an onRoute hook), and the document builder reads them like any route's.
 */
import type { FastifySchema } from 'fastify';
import { jsonResponse } from './responses.ts';

const OPERATIONS: Readonly<Record<'GET' | 'POST', FastifySchema>> = {
  GET: {
    tags: ['data'],
    operationId: 'graphqlGet',
    'x-xrm-operation': {
      responses: {
        '200': jsonResponse('The GraphQL result (a query; mutations need POST)', 'GraphqlResponse'),
        '400': jsonResponse('The query does not parse or validate, or its variables are wrong', 'GraphqlResponse'),
      },
      errors: [],
    },
  },
  POST: {
    tags: ['data'],
    operationId: 'graphqlPost',
    'x-xrm-operation': {
      responses: {
        '200': jsonResponse(
          'The GraphQL result; errors of resolvers carry `extensions.code` (an XRM_ERR_ code)',
          'GraphqlResponse',
        ),
        '400': jsonResponse('The query does not parse or validate, or the body is malformed', 'GraphqlResponse'),
      },
      errors: [],
    },
  },
};

/** The documentation of a GraphQL route, to add to its schema (none for other methods). */
export function graphqlOperation(method: string | readonly string[]): FastifySchema {
  return typeof method === 'string' && (method === 'GET' || method === 'POST') ? OPERATIONS[method] : {};
}
