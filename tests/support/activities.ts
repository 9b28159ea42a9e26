/**
 * The relationship layer's requests, shared by its tests: log an activity, read a record's
 * signals, and read a record with its instants in UTC.
 */
import { expectStatus } from './problems.ts';
import type { Reply } from './http.ts';

interface Client {
  get(url: string): Promise<Reply<any>>;
  post(url: string, body?: unknown): Promise<Reply<any>>;
}

export function activities(http: () => Client) {
  return {
    /** Creates an activity (internal, no parties, unless given): its body. */
    log: async (activity: Record<string, unknown>) =>
      expectStatus(await http().post('/api/data/activity', { direction: 'internal', parties: [], ...activity }), 201),
    /** GET /api/data/{entity}/{id}/signals. */
    signals: async (entity: string, id: string) =>
      expectStatus(await http().get(`/api/data/${entity}/${id}/signals`), 200),
    /** A record, its instants as ISO strings in UTC (the API answers them with an offset). */
    record: async (entity: string, id: string) => {
      const body = expectStatus(await http().get(`/api/data/${entity}/${id}`), 200) as Record<string, unknown>;
      for (const [k, v] of Object.entries(body))
        if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) body[k] = new Date(v).toISOString();
      return body as Record<string, any>;
    },
  };
}
