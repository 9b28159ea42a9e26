/**
 * Full-text search over an entity's searchable text fields (plus its primary field): one
 * expression shared by the GIN index the DDL planner creates and the queries that use it, so
 * PostgreSQL can use the index. The 'simple' configuration: no stemming, any language.
 */
import { sql, type RawBuilder } from 'kysely';
import { FIELD_TYPES } from './field-types/index.ts';
import type { EntityDef, FieldDef } from './types.ts';

/** The fields full-text search covers: the primary field and every searchable text-like field. */
export function searchFields(entity: EntityDef): FieldDef[] {
  return entity.fields.filter(
    (f) => FIELD_TYPES[f.type].capabilities.fullText && (f.searchable || f.name === entity.primaryField),
  );
}

/** `to_tsvector('simple', coalesce(a,'') || ' ' || coalesce(b,''))` over a table alias (or none). */
export function searchDocument(entity: EntityDef, alias?: string): RawBuilder<unknown> | undefined {
  const fields = searchFields(entity);
  if (!fields.length) return undefined;
  const parts = fields.map((f) => sql`coalesce(${alias ? sql.ref(`${alias}.${f.name}`) : sql.id(f.name)}::text, '')`);
  return sql`to_tsvector('simple'::regconfig, ${sql.join(parts, sql` || ' ' || `)})`;
}

/** The words of a search, each matched as a prefix: "ada love" -> 'ada:* & love:*'. */
export function searchQueryText(text: string): string | undefined {
  const words = text
    .toLowerCase()
    .match(/[\p{L}\p{N}]+/gu)
    ?.slice(0, 16);
  return words?.length ? words.map((w) => `${w}:*`).join(' & ') : undefined;
}
