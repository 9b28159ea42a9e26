/**
 * Values as graphql-js takes and gives them, without executing an operation (direct.ts): a
 * variable's JSON value coerced to its input type, and a resolved value serialized to its output
 * type, each by the same scalar and enum functions graphql-js calls. Either answers `undefined`
 * where graphql-js would report an error, and for the few shapes it does not take on (an array
 * where an object is expected, a oneOf input): the caller then leaves the operation to graphql-js,
 * which reports it as before.
 */
import {
  type GraphQLInputType,
  type GraphQLOutputType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
} from 'graphql';

/** `value` coerced to `type` as graphql-js' `coerceInputValue` does; `undefined` where it refuses. */
export function coerceInput(value: unknown, type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return value == null ? undefined : coerceInput(value, type.ofType);
  if (value === null) return null;
  if (isListType(type)) {
    // a single value stands for a list of one
    if (!Array.isArray(value)) {
      const one = coerceInput(value, type.ofType);
      return one === undefined ? undefined : [one];
    }
    return everyItem(value, (item) => coerceInput(item, type.ofType));
  }
  if (isInputObjectType(type)) {
    if (typeof value !== 'object' || Array.isArray(value) || type.isOneOf) return undefined;
    const given = value as Record<string, unknown>;
    const fields = type.getFields();
    const coerced: Record<string, unknown> = {};
    let known = 0;
    for (const name in fields) {
      const field = fields[name]!;
      // read as graphql-js reads it (an inherited member included)
      const member = given[name];
      if (member === undefined) {
        if (field.defaultValue !== undefined) coerced[name] = field.defaultValue;
        else if (isNonNullType(field.type)) return undefined;
        continue;
      }
      known++;
      const item = coerceInput(member, field.type);
      if (item === undefined) return undefined;
      coerced[name] = item;
    }
    // a member the type does not have is refused (an own member set to undefined cannot come from JSON)
    return Object.keys(given).length === known ? coerced : undefined;
  }
  if (isLeafType(type)) {
    try {
      return type.parseValue(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * A resolved leaf value (or a list of them) serialized to `type` as graphql-js completes it;
 * `undefined` where it reports an error (a null for a non-null type, a scalar refusing the value).
 */
export function serializeOutput(value: unknown, type: GraphQLOutputType): unknown {
  if (isNonNullType(type)) return value == null ? undefined : serializeOutput(value, type.ofType);
  if (value == null) return null;
  if (isListType(type)) {
    if (!Array.isArray(value)) return undefined;
    return everyItem(value, (item) => serializeOutput(item, type.ofType));
  }
  if (isLeafType(type)) {
    try {
      return type.serialize(value) ?? undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Each item through `each`; undefined as soon as one is. */
function everyItem(items: readonly unknown[], each: (item: unknown) => unknown): unknown[] | undefined {
  const done = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = each(items[i]);
    if (item === undefined) return undefined;
    done[i] = item;
  }
  return done;
}
