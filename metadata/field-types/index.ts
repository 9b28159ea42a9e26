/**
 * The field-type registry. Dispatch is a `Record<FieldTypeName, FieldType>`, so a new type name in
 * `FIELD_TYPE_NAMES` fails to compile until its module is registered here.
 */
import type { FieldType } from '../field-type.ts';
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
import { phone } from './phone.ts';
import { text } from './text.ts';
import { url } from './url.ts';
import { uuid } from './uuid.ts';

export const FIELD_TYPES: Readonly<Record<FieldTypeName, FieldType>> = Object.freeze({
  text,
  longText,
  email,
  phone,
  url,
  integer,
  bigInteger,
  decimal,
  money,
  boolean,
  date,
  datetime,
  choice,
  multiChoice,
  lookup,
  json,
  uuid,
  autonumber,
});

export function fieldType(name: FieldTypeName): FieldType {
  return FIELD_TYPES[name];
}
