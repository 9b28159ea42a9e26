/**
 * Route schemas are compiled on first use (lazy-validators.ts), and a lazily compiled validator
 * answers exactly as fastify's own: the same coercions (a root value included), the same errors.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazyValidators, type LazyValidators } from '../server/lazy-validators.ts';

const ajv = { customOptions: { coerceTypes: 'array' as const, removeAdditional: false, allErrors: true } };

function app(validators?: LazyValidators): FastifyInstance {
  const server = Fastify({
    ajv,
    ...(validators ? { schemaController: { compilersFactory: { buildValidator: validators.buildValidator } } } : {}),
  });
  server.post(
    '/things/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
        querystring: { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' } } } },
        body: { type: 'array', items: { type: 'integer', minimum: 0 } },
      },
    },
    async (request) => ({ params: request.params, query: request.query, body: request.body }),
  );
  server.get(
    '/other',
    { schema: { querystring: { type: 'object', properties: { n: { type: 'number' } } } } },
    async (request) => request.query,
  );
  return server;
}

describe('lazily compiled route schemas', () => {
  it('compiles a schema when a request first needs it, the rest when warmed', async () => {
    const validators = lazyValidators();
    const server = app(validators);
    await server.ready();
    // params, querystring and body of one route, the querystring of the other and of its HEAD route
    expect(validators.pending).toBe(5);
    const reply = await server.inject({ method: 'GET', url: '/other?n=2' });
    expect(reply.json()).toEqual({ n: 2 });
    expect(validators.pending).toBe(4);
    // a closing server stops warming
    await validators.warm(() => true);
    expect(validators.pending).toBe(4);
    await validators.warm();
    expect(validators.pending).toBe(0);
    await server.close();
  });

  it("answers every request as fastify's own compiler does", async () => {
    const lazy = app(lazyValidators());
    const eager = app();
    const requests = [
      // a root value coerced: one number for an array of them
      { method: 'POST' as const, url: '/things/7?tags=a', payload: '5' },
      { method: 'POST' as const, url: '/things/7?tags=a&tags=b', payload: '[1, 2]' },
      { method: 'POST' as const, url: '/things/x', payload: '[1]' },
      { method: 'POST' as const, url: '/things/7', payload: '[-1, "two"]' },
      { method: 'GET' as const, url: '/other?n=nope' },
    ];
    for (const request of requests) {
      const options = { ...request, headers: { 'content-type': 'application/json' } };
      const [a, b] = await Promise.all([lazy.inject(options), eager.inject(options)]);
      expect(a.statusCode, request.url).toBe(b.statusCode);
      expect(a.body, request.url).toBe(b.body);
    }
    expect((await lazy.inject({ ...requests[0]!, headers: { 'content-type': 'application/json' } })).json()).toEqual({
      params: { id: 7 },
      query: { tags: ['a'] },
      body: [5],
    });
    await Promise.all([lazy.close(), eager.close()]);
  });
});
