/**
 * The field-type registry: one line per type module. The type names (`FieldTypeName`,
 * `FIELD_TYPE_NAMES`) are derived from it, and so is every capability list (`typesWith`).
 */
import type { FieldCapabilities, FieldType } from '../field-type.ts';
import type { FieldTypeName } from '../types.ts';
import { autonumber } from './autonumber.ts';
import { bigInteger } from './big-integer.ts';
import { boolean } from './boolean.ts';
import { choice } from './choice.ts';
import { date } from './date.ts';
import { datetime } from './datetime.ts';
import { decimal } from './decimal.ts';
import { email } from './email.ts';
import { integer } from './integer.ts';
import { json } from './json.ts';
import { longText } from './long-text.ts';
import { lookup } from './lookup.ts';
import { money } from './money.ts';
import { multiChoice } from './multi-choice.ts';
import { percent } from './percent.ts';
import { partyList } from './party-list.ts';
import { phone } from './phone.ts';
import { reference } from './reference.ts';
import { text } from './text.ts';
import { url } from './url.ts';
import { uuid } from './uuid.ts';

const REGISTRY = {
  text,
  longText,
  email,
  phone,
  url,
  integer,
  bigInteger,
  decimal,
  money,
  percent,
  boolean,
  date,
  datetime,
  choice,
  multiChoice,
  lookup,
  reference,
  partyList,
  json,
  uuid,
  autonumber,
} as const;

/** The registry's keys: every type name (the order is the API's and the admin UI's order). */
export type RegisteredTypeName = keyof typeof REGISTRY;

export const FIELD_TYPES: Readonly<Record<FieldTypeName, FieldType>> = Object.freeze(REGISTRY);

export const FIELD_TYPE_NAMES = Object.freeze(Object.keys(REGISTRY) as FieldTypeName[]);

/** The names of the types that have a capability, in registry order. */
export function typesWith(capability: keyof FieldCapabilities): readonly FieldTypeName[] {
  return FIELD_TYPE_NAMES.filter((name) => FIELD_TYPES[name].capabilities[capability]);
}

/** Whether fields of this type pick from choices (take `options` or a shared `choiceSet`). */
export function takesChoices(name: FieldTypeName): boolean {
  return FIELD_TYPES[name].options.includes('choiceSet');
}

export function fieldType(name: FieldTypeName): FieldType {
  return FIELD_TYPES[name];
}
