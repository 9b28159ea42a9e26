/** Assertions on RFC 9457 problem+json replies and on successful replies, with the body in the message. */
import { expect } from 'vitest';
import type { Reply } from './http.ts';

/** Asserts a problem reply with this status and code; each given path must appear in `errors[].path`. */
export function expectProblem(reply: Reply, status: number, code: string, ...paths: string[]): Reply {
  const context = `${reply.status} ${reply.text.slice(0, 2000)}`;
  expect(reply.status, context).toBe(status);
  expect(String(reply.headers['content-type']), context).toMatch(/^application\/problem\+json/);
  expect(reply.body.code, context).toBe(code);
  expect(reply.body.status, context).toBe(status);
  expect(typeof reply.body.title, context).toBe('string');
  expect(typeof reply.body.detail, context).toBe('string');
  if (paths.length) {
    const got = ((reply.body.errors ?? []) as { path: string }[]).map((e) => e.path);
    for (const path of paths) expect(got, context).toContain(path);
  }
  return reply;
}

/** Asserts the status of a reply and returns its body. */
export function expectStatus<T = any>(reply: Reply<T>, status: number): T {
  expect(reply.status, `${reply.status} ${reply.text.slice(0, 2000)}`).toBe(status);
  return reply.body;
}

/** What a response must never show: stack frames, source paths, SQL the server wrote, system table names. */
const LEAKS: readonly RegExp[] = [
  /\n\s+at\s/,
  /\bat [\w.<>]+ \(/,
  /node_modules/,
  /\.ts:\d+/,
  /\.js:\d+/,
  /"data"\./,
  /\brow_to_json\b/i,
  /\bRETURNING\b/,
  /\bALTER TABLE\b/i,
  /\bCREATE (UNIQUE )?INDEX\b/i,
  /\bINSERT INTO\b/i,
  /\bpg_advisory/i,
  /\bxrm\.(entities|fields|schema_changes|schema_state|choice_sets|relationships)\b/,
];

/** The leak patterns a text matches (empty when clean). */
export function leaksIn(text: string): string[] {
  return LEAKS.filter((re) => re.test(text)).map(String);
}

/** Creating entities and records in tests, failing with the server's answer when refused. */
export function modelling(http: () => { post: (url: string, body?: unknown) => Promise<Reply<any>> }) {
  return {
    async defineEntity(name: string, fields: unknown[], extra: Record<string, unknown> = {}): Promise<any> {
      return expectStatus(await http().post('/api/metadata/entities', { name, fields, ...extra }), 201);
    },
    async createRecord(entity: string, body: Record<string, unknown>): Promise<any> {
      return expectStatus(await http().post(`/api/data/${entity}`, body), 201);
    },
  };
}
