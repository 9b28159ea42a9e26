import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';

/** Placeholder replaced by the GraphQL schema builder. */
export async function graphqlPlugin(_app: FastifyInstance, _opts: { services: Services }): Promise<void> {}
