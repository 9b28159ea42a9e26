/**
 * values.ts coerces a variable and serializes a result as graphql-js does, and refuses (answers
 * undefined) exactly where graphql-js reports an error: each case below runs through both.
 */
import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLFloat,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  coerceInputValue,
  execute,
  parse,
  type GraphQLOutputType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { GraphQLBigInt, GraphQLDate, GraphQLDateTime, GraphQLJSON } from '../server/graphql/scalars.ts';
import { coerceInput, serializeOutput } from '../server/graphql/values.ts';

const Stage = new GraphQLEnumType({ name: 'Stage', values: { NEW: { value: 'new' }, WON: { value: 'won' } } });
const Inner = new GraphQLInputObjectType({ name: 'Inner', fields: { n: { type: new GraphQLNonNull(GraphQLInt) } } });
const Input = new GraphQLNonNull(
  new GraphQLInputObjectType({
    name: 'Input',
    fields: {
      title: { type: new GraphQLNonNull(GraphQLString) },
      count: { type: GraphQLInt },
      ratio: { type: GraphQLFloat },
      flag: { type: GraphQLBoolean },
      ref: { type: GraphQLID },
      big: { type: GraphQLBigInt },
      day: { type: GraphQLDate },
      at: { type: GraphQLDateTime },
      payload: { type: GraphQLJSON },
      stage: { type: Stage },
      tags: { type: new GraphQLList(new GraphQLNonNull(GraphQLString)) },
      maybe: { type: new GraphQLList(GraphQLInt) },
      inner: { type: Inner },
      kind: { type: GraphQLString, defaultValue: 'plain' },
    },
  }),
);

/** graphql-js' coercion: the value, or undefined when it reports an error. */
function graphqlCoerce(value: unknown): unknown {
  let failed = false;
  const coerced = coerceInputValue(value, Input, () => {
    failed = true;
  });
  return failed ? undefined : coerced;
}

describe('values.ts against graphql-js', () => {
  it('coerces variables to the same values, and refuses the same ones', () => {
    const cases: unknown[] = [
      { title: 'x' },
      { title: 'x', count: 7, ratio: 1.5, flag: false, ref: 12, big: '9007199254740991', day: '2026-02-03' },
      { title: 'x', at: '2026-02-03T04:05:06.789+02:00', payload: { a: [1, null] }, stage: 'WON', kind: null },
      { title: 'x', tags: 'one', maybe: [1, null, 3], inner: { n: 1 } },
      { title: 'x', tags: [], maybe: 2, count: null, payload: null },
      {},
      null,
      undefined,
      [{ title: 'x' }],
      'x',
      { title: 5 },
      { title: 'x', nope: 1 },
      { title: 'x', count: 1.5 },
      { title: 'x', count: 2 ** 31 },
      { title: 'x', ratio: 'NaN' },
      { title: 'x', flag: 1 },
      { title: 'x', ref: true },
      { title: 'x', big: 2 ** 60 },
      { title: 'x', day: '2026-2-3' },
      { title: 'x', at: '2026-02-03' },
      { title: 'x', stage: 'won' },
      { title: 'x', stage: ['WON'] },
      { title: 'x', tags: [null] },
      { title: 'x', tags: [1] },
      { title: 'x', inner: {} },
      { title: 'x', inner: [{ n: 1 }] },
      { title: 'x', inner: { n: 1, m: 2 } },
    ];
    for (const value of cases) {
      const expected = graphqlCoerce(value);
      expect(coerceInput(value, Input), JSON.stringify(value)).toEqual(expected);
    }
    // the cases cover both outcomes
    expect(cases.filter((value) => graphqlCoerce(value) === undefined).length).toBeGreaterThan(15);
  });

  it('serializes results to the same values, and refuses the same ones', async () => {
    const cases: [GraphQLOutputType, unknown][] = [
      [GraphQLString, 'x'],
      [GraphQLString, 5],
      [new GraphQLNonNull(GraphQLString), null],
      [GraphQLString, undefined],
      [GraphQLInt, 7],
      [GraphQLInt, 2 ** 40],
      [GraphQLInt, 'seven'],
      [GraphQLFloat, 1.25],
      [GraphQLFloat, Number.NaN],
      [GraphQLBoolean, true],
      [GraphQLID, 12],
      [GraphQLBigInt, 9007199254740991],
      [GraphQLBigInt, '12'],
      [GraphQLDate, new Date('2026-02-03T00:00:00Z')],
      [GraphQLDate, 5],
      [GraphQLDateTime, new Date('2026-02-03T04:05:06.789Z')],
      [GraphQLJSON, { a: [1, null] }],
      [Stage, 'won'],
      [Stage, 'lost'],
      [new GraphQLList(new GraphQLNonNull(GraphQLString)), ['a', 'b']],
      [new GraphQLList(new GraphQLNonNull(GraphQLString)), ['a', null]],
      [new GraphQLList(GraphQLString), ['a', null]],
      [new GraphQLList(GraphQLString), 'a'],
    ];
    for (const [type, value] of cases) {
      const schema = new GraphQLSchema({
        query: new GraphQLObjectType({ name: 'Query', fields: { v: { type, resolve: () => value } } }),
      });
      const result = await execute({ schema, document: parse('{ v }') });
      const expected = result.errors ? undefined : (result.data as { v: unknown }).v;
      expect(serializeOutput(value, type), `${type} ${String(value)}`).toEqual(expected);
    }
  });
});
