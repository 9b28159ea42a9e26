/**
 * GraphQL names of every entity (from metadata/inflection.ts), made collision-free. Metadata
 * names are unique as logical names, but their GraphQL forms can still meet: an entity `date`
 * would be type `Date` (a scalar), `page_info` would be `PageInfo`, `order_line_connection` would
 * be the connection type of `order_line`. Entities claim names in catalog order (creation order),
 * so an existing entity keeps its names when a later one would clash; the later one gets a
 * `_record` suffix (`date` -> `DateRecord`, `dateRecord`, `dateRecords`) and a warning is logged.
 */
import type { Catalog } from '../../metadata/catalog.ts';
import { graphqlNames, pluralize } from '../../metadata/inflection.ts';
import type { EntityDef } from '../../metadata/types.ts';
import { OPERATOR_TYPE_NAMES } from './filter-types.ts';
import { RESERVED_TYPE_NAMES } from './scalars.ts';

export type EntityNames = ReturnType<typeof graphqlNames>;

/** Root fields every schema has. */
export const SCHEMA_VERSION_FIELD = '_schemaVersion';

function candidate(entity: EntityDef, attempt: number): EntityNames {
  if (attempt === 0) return graphqlNames(entity);
  const suffix = attempt === 1 ? '_record' : `_record${attempt}`;
  return graphqlNames({ name: entity.name + suffix, pluralName: pluralize(entity.name + suffix) });
}

function claims(names: EntityNames): { types: string[]; fields: string[] } {
  return {
    types: [
      names.type,
      names.connection,
      names.edge,
      names.createInput,
      names.updateInput,
      names.filter,
      names.orderBy,
      names.relationFilter,
    ],
    fields: [names.one, names.many, names.create, names.update, names.delete, names.aggregate],
  };
}

export function assignEntityNames(catalog: Catalog, warn: (message: string) => void): Map<string, EntityNames> {
  const types = new Set([...RESERVED_TYPE_NAMES, ...OPERATOR_TYPE_NAMES]);
  const fields = new Set([SCHEMA_VERSION_FIELD]);
  const result = new Map<string, EntityNames>();
  for (const entity of catalog.entities.values()) {
    for (let attempt = 0; ; attempt++) {
      const names = candidate(entity, attempt);
      const claim = claims(names);
      const free = (list: string[], taken: Set<string>) =>
        new Set(list).size === list.length && list.every((n) => !taken.has(n));
      if (free(claim.types, types) && free(claim.fields, fields)) {
        claim.types.forEach((n) => types.add(n));
        claim.fields.forEach((n) => fields.add(n));
        result.set(entity.name, names);
        if (attempt > 0)
          warn(
            `GraphQL names of entity "${entity.name}" clash with existing names; it is served as type ${names.type}`,
          );
        break;
      }
      if (attempt > 100) throw new Error(`no free GraphQL names for entity "${entity.name}"`);
    }
  }
  return result;
}
