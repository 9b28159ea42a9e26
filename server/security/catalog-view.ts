/**
 * The principal's view of the catalog: the catalog without the secured fields their roles do not
 * let them read (and so without those lookups' inverse navigations). What is generated from a
 * catalog — the GraphQL schema, the OpenAPI document, JSON Schemas, TypeScript declarations — is
 * generated from the view, so a hidden field is absent from all of them, not merely refused.
 * Views are derived per catalog version and set of hidden fields (every user of the same roles
 * shares one), on the ApiState, so a metadata change drops them with everything else.
 */
import { Catalog } from '../../metadata/catalog.ts';
import type { ApiState } from '../runtime.ts';
import type { Access } from './access.ts';

const keys = new WeakMap<object, { catalog: Catalog; key: string }>();

/** `entity.field` of every secured field hidden from the caller, sorted; '' when none. */
export function hiddenKey(access: Access | undefined, catalog: Catalog): string {
  const policy = access?.policy;
  if (!policy || policy.unrestricted) return '';
  const known = keys.get(policy);
  if (known?.catalog === catalog) return known.key;
  const hidden: string[] = [];
  for (const entity of catalog.entities.values()) {
    for (const field of entity.fields)
      if (field.secured && !policy.field(entity.name, field).read) hidden.push(`${entity.name}.${field.name}`);
  }
  const key = hidden.sort().join(',');
  keys.set(policy, { catalog, key });
  return key;
}

/** The catalog as the caller may see it (the catalog itself when nothing is hidden). */
export function catalogView(state: ApiState, access: Access | undefined): Catalog {
  const key = hiddenKey(access, state.catalog);
  if (!key) return state.catalog;
  return state.derived(`view:${key}`, (catalog) => {
    const hidden = new Set(key.split(','));
    const data = catalog.toJSON();
    return new Catalog({
      ...data,
      entities: data.entities.map((e) => ({
        ...e,
        fields: e.fields.filter((f) => !hidden.has(`${e.name}.${f.name}`)),
        // an index or an alternate key names its fields: one over a hidden field is hidden with it
        ...(e.indexes && { indexes: e.indexes.filter((i) => !i.fields.some((f) => hidden.has(`${e.name}.${f}`))) }),
        ...(e.alternateKeys && {
          alternateKeys: e.alternateKeys.filter((k) => !k.fields.some((f) => hidden.has(`${e.name}.${f}`))),
        }),
      })),
    });
  });
}
