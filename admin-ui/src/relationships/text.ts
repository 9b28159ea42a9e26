/**
 * Values of the relationship layer's field types in words (`reference`, `partyList`) and the
 * flags the platform sets on its own entities and fields; no React here (records/values.ts uses it).
 */
import type { Party, PartyRole, RecordRef } from './types.ts';

const PARTY_ROLES: readonly PartyRole[] = ['from', 'to', 'cc', 'attendee'];

export function isRef(value: unknown): value is RecordRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RecordRef).entity === 'string' &&
    typeof (value as RecordRef).id === 'string'
  );
}

function isParty(value: unknown): value is Party {
  return typeof value === 'object' && value !== null && PARTY_ROLES.includes((value as Party).role);
}

/** The parties of a `partyList` value (anything else: none). */
export function partiesOf(value: unknown): Party[] {
  return Array.isArray(value) ? value.filter(isParty) : [];
}

/** A `reference` value in a few words ("partner/1b2c…"), for tooltips and exports. */
export function referenceText(value: unknown): string {
  return isRef(value) ? `${value.entity}/${value.id}` : JSON.stringify(value);
}

/** A `partyList` value in a line ("from: a@x.org → partner/…; to: …"). */
export function partiesText(value: unknown): string {
  return partiesOf(value)
    .map((p) => {
      const who = p.address || p.name || '';
      const record = p.entity && p.id ? ` → ${p.entity}/${p.id}` : '';
      return `${p.role}: ${who}${record}`;
    })
    .join('; ');
}

/** Whether the platform keeps a field's values (a tracked entity's signals): read-only everywhere. */
export function isMaintained(field: object): boolean {
  return 'maintainedBy' in field && field.maintainedBy !== undefined && field.maintainedBy !== null;
}

/** Whether an entity or field is built into the platform (the activity entity): only labels change. */
export function isBuiltIn(def: object): boolean {
  return 'builtIn' in def && def.builtIn === true;
}
