/**
 * An entity's fields of every value type (and a lookup to `parent`), for tests that compare two
 * ways of answering the same record: by-value equality must hold for each kind of value.
 */
export function everyValueType(parent: string) {
  const options = (...values: string[]) => values.map((value) => ({ value, label: value.toUpperCase() }));
  return [
    { name: 'title', type: 'text' },
    { name: 'body', type: 'longText' },
    { name: 'email', type: 'email' },
    { name: 'website', type: 'url' },
    { name: 'amount', type: 'money' },
    { name: 'ratio', type: 'decimal', precision: 10, scale: 4 },
    { name: 'share', type: 'percent' },
    { name: 'count', type: 'integer' },
    { name: 'big', type: 'bigInteger' },
    { name: 'flag', type: 'boolean' },
    { name: 'day', type: 'date' },
    { name: 'at', type: 'datetime' },
    { name: 'stage', type: 'choice', options: options('new', 'won') },
    { name: 'tags', type: 'multiChoice', options: options('a', 'b') },
    { name: 'payload', type: 'json' },
    { name: 'ref', type: 'uuid' },
    { name: 'ticket', type: 'autonumber', prefix: 'T-', digits: 4 },
    { name: 'parent', type: 'lookup', target: parent },
  ];
}

/** A record with a value in each of `everyValueType`'s fields (REST names: the lookup is `parent`). */
export function everyValue(parentId: string, title = 'Thing') {
  return {
    title,
    body: 'Long\ntext',
    email: 'a@example.com',
    website: 'https://example.com/x',
    amount: 1234.5,
    ratio: 0.125,
    share: 12.5,
    count: 7,
    big: 9007199254740991,
    flag: true,
    day: '2026-02-03',
    at: '2026-02-03T04:05:06.789+02:00',
    stage: 'won',
    tags: ['a', 'b'],
    payload: { nested: [1, 'two', null], ok: true },
    ref: '7b0c6a3e-2c1f-4d1e-9a7b-3f7c2e8d9a10',
    parent: parentId,
  };
}
