/**
 * Keyset pages seek (issue 13), on both databases: a page deep in a sorted list reads from its
 * cursor on, not every row before it. The statement REST sends for such a page is run again under
 * EXPLAIN ANALYZE with the same parameters: where the first sort key bounds the rows after the
 * cursor (a descending key with NULLs first, a required key, NULLs last after a NULL cursor value),
 * the scan starts at the cursor and throws (almost) nothing away. (NULLs first on an ascending key,
 * or last on a descending one, is an order the field's `(value, id)` index does not give: sorted.)
 * Paging through every sort still lists each record exactly once, in the order of the same ORDER BY
 * straight in SQL.
 */
import { CompiledQuery, sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';
import { expectStatus, modelling } from './support/problems.ts';

const ROWS = 20_000;
const statements: { text: string; parameters: readonly unknown[] }[] = [];

interface Plan {
  'Rows Removed by Filter'?: number;
  'Actual Rows'?: number;
  Plans?: Plan[];
}

/** Rows the plan's nodes read and then discarded by a filter, summed over the whole plan. */
function discarded(plan: Plan): number {
  return (plan['Rows Removed by Filter'] ?? 0) + (plan.Plans ?? []).reduce((n, p) => n + discarded(p), 0);
}

describeEachDatabase(
  'keyset pages seek to their cursor',
  (get) => {
    const http = () => api(get().app);
    const { defineEntity } = modelling(http);
    const db = () => get().services.db;

    beforeAll(async () => {
      await defineEntity('ticket', [
        { name: 'title', type: 'text', required: true, indexed: true },
        { name: 'rank', type: 'integer', indexed: true },
      ]);
      // every third rank NULL; created_at spread over distinct instants, titles unique
      await sql`INSERT INTO data.ticket (title, rank, created_at)
        SELECT 'Ticket ' || lpad(g::text, 6, '0'), CASE WHEN g % 3 = 0 THEN NULL ELSE g % 500 END,
          timestamptz '2026-01-01' + g * interval '1 minute'
        FROM generate_series(1, ${ROWS}) g`.execute(db());
      await sql`ANALYZE data.ticket`.execute(db());
    });

    /** The list statement of one REST page, as sent, with its parameters. */
    async function page(query: Record<string, string>) {
      statements.length = 0;
      const body = expectStatus(await http().get(`/api/data/ticket?${new URLSearchParams(query)}`), 200) as {
        data: { id: string }[];
        nextCursor?: string;
      };
      const sent = statements.filter((s) => s.text.includes('"data"."ticket"'));
      expect(sent).toHaveLength(1);
      return { body, statement: sent[0]! };
    }

    /** The cursor `depth` records into the list sorted by `sort` (one large page, then its cursor). */
    async function cursorAt(sort: string, depth: number): Promise<string> {
      const { body } = await page({ sort, limit: String(depth), select: 'id' });
      expect(body.nextCursor).toEqual(expect.any(String));
      return body.nextCursor!;
    }

    async function rowsDiscarded(statement: { text: string; parameters: readonly unknown[] }): Promise<number> {
      const explain = CompiledQuery.raw(`EXPLAIN (ANALYZE, FORMAT JSON) ${statement.text}`, [...statement.parameters]);
      const { rows } = await db().executeQuery<{ 'QUERY PLAN': unknown }>(explain);
      const raw = rows[0]!['QUERY PLAN'];
      const [top] = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: Plan }[];
      return discarded(top!.Plan);
    }

    for (const [sort, depth] of [
      ['-created_at', 15_000], // descending, NULLs first: created_at <= cursor
      ['title', 15_000], // ascending, NULLs last, but required: title >= cursor
      ['-rank', 9_000], // descending, NULLs first: the cursor is past the NULLs, rank <= cursor
      ['rank', 18_000], // ascending, NULLs last, the cursor among the NULLs: rank IS NULL
    ] as const) {
      it(`a page ${depth} records into sort=${sort} starts at its cursor`, async () => {
        const cursor = await cursorAt(sort, depth);
        const { body, statement } = await page({ sort, limit: '20', select: 'id', cursor });
        expect(body.data).toHaveLength(20);
        // before the bound, the same page read and discarded every row before the cursor (≥ 9,000)
        expect(await rowsDiscarded(statement)).toBeLessThan(100);
      });
    }

    it('paging through every sort lists each record once, in the order SQL gives', async () => {
      const orders: Record<string, string> = {
        '-created_at': 'created_at DESC NULLS FIRST, id DESC',
        title: 'title ASC NULLS LAST, id ASC',
        '-rank': 'rank DESC NULLS FIRST, id DESC',
        rank: 'rank ASC NULLS LAST, id ASC',
        'rank:nullsfirst': 'rank ASC NULLS FIRST, id ASC',
        '-rank:nullslast': 'rank DESC NULLS LAST, id DESC',
      };
      for (const [sort, order] of Object.entries(orders)) {
        const expected = (
          await db().executeQuery<{ id: string }>(CompiledQuery.raw(`SELECT id FROM data.ticket ORDER BY ${order}`))
        ).rows.map((r) => r.id);
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const { body } = await page({ sort, limit: '1000', select: 'id', ...(cursor ? { cursor } : {}) });
          seen.push(...body.data.map((r) => r.id));
          cursor = body.nextCursor;
        } while (cursor);
        expect(seen.length, sort).toBe(ROWS);
        expect(seen, sort).toEqual(expected);
      }
    });
  },
  {
    config: { maxPageSize: ROWS },
    build: { onQuery: (text, parameters) => statements.push({ text, parameters }) },
  },
);
