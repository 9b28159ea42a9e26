/** A record id as every API takes it: a UUID, or a 400 naming where it came from. */
import { XrmError } from '../metadata/errors.ts';
import { UUID_PATTERN } from '../metadata/field-type.ts';

const UUID = new RegExp(UUID_PATTERN);

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

export function assertUuid(id: unknown, path = '/id'): asserts id is string {
  if (!isUuid(id)) {
    throw new XrmError('XRM_ERR_REQUEST_INVALID', `${JSON.stringify(id)} is not a record id (a UUID)`, {
      errors: [{ path, message: 'must be a UUID' }],
    });
  }
}
