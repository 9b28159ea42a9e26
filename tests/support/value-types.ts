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
