/**
 * GraphQL scalars of the field types (`FieldType.graphql`). Values are served as records carry
 * them (dates as ISO strings, numbers as numbers, JSON as is). Input scalars check the shape of a
 * value; the record's JSON Schema (Ajv, in RecordsService) checks the rest and names the field.
 */
import {
  GraphQLBoolean,
  GraphQLError,
  GraphQLFloat,
  GraphQLID,
  GraphQLInt,
  GraphQLScalarType,
  GraphQLString,
  Kind,
  valueFromASTUntyped,
  type ValueNode,
} from 'graphql';
import type { GraphqlScalar } from '../../metadata/field-type.ts';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const INTEGER = /^-?\d+$/;

function isoString(name: string, pattern: RegExp, format: string, fromDate: (d: Date) => string) {
  const parse = (value: unknown): string => {
    if (typeof value !== 'string' || !pattern.test(value))
      throw new GraphQLError(`${name} must be a string in the format ${format}`);
    return value;
  };
  return {
    serialize: (value: unknown): string => {
      if (value instanceof Date) return fromDate(value);
      if (typeof value === 'string') return value;
      throw new GraphQLError(`${name} cannot represent ${typeof value} value`);
    },
    parseValue: parse,
    parseLiteral: (ast: ValueNode): string => {
      if (ast.kind !== Kind.STRING)
        throw new GraphQLError(`${name} must be a string in the format ${format}`, { nodes: ast });
      return parse(ast.value);
    },
  };
}

export const GraphQLDate = new GraphQLScalarType({
  name: 'Date',
  description: 'A calendar date without time or zone, ISO 8601 YYYY-MM-DD.',
  ...isoString('Date', DATE, 'YYYY-MM-DD', (d) => d.toISOString().slice(0, 10)),
});

export const GraphQLDateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An instant, RFC 3339 with a zone offset; returned in UTC.',
  specifiedByURL: 'https://www.rfc-editor.org/rfc/rfc3339',
  ...isoString('DateTime', DATE_TIME, 'YYYY-MM-DDThh:mm:ss[.sss](Z|±hh:mm)', (d) => d.toISOString()),
});

export const GraphQLJSON = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables),
});

function safeInteger(value: unknown): number {
  const n = typeof value === 'string' && INTEGER.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
  if (typeof n === 'bigint' && n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER))
    return Number(n);
  throw new GraphQLError('BigInt must be a whole number within ±9007199254740991');
}

export const GraphQLBigInt = new GraphQLScalarType({
  name: 'BigInt',
  description:
    'A 64-bit whole number, exchanged as a JSON number within ±9007199254740991 (an integer string is accepted too).',
  // served as stored: a JSON number (whole, and exact within the range the API accepts)
  serialize: (value) => (typeof value === 'number' && Number.isInteger(value) ? value : safeInteger(value)),
  parseValue: safeInteger,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.INT && ast.kind !== Kind.STRING)
      throw new GraphQLError('BigInt must be a whole number', { nodes: ast });
    return safeInteger(ast.value);
  },
});

const SCALARS: Readonly<Record<GraphqlScalar, GraphQLScalarType>> = {
  String: GraphQLString,
  Int: GraphQLInt,
  Float: GraphQLFloat,
  Boolean: GraphQLBoolean,
  ID: GraphQLID,
  Date: GraphQLDate,
  DateTime: GraphQLDateTime,
  JSON: GraphQLJSON,
  BigInt: GraphQLBigInt,
};

export function scalarType(name: GraphqlScalar): GraphQLScalarType {
  return SCALARS[name];
}

/** Type names no entity may take: the scalars above and the shared types of the schema. */
export const RESERVED_TYPE_NAMES: ReadonlySet<string> = new Set([
  ...Object.keys(SCALARS),
  'PageInfo',
  'AuditHistoryConnection',
  'AuditHistoryEdge',
  'AuditEntry',
  'AuditChange',
  'RecordTargetInput',
  'Query',
  'Mutation',
  'Subscription',
]);
