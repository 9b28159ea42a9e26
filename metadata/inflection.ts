/**
 * All naming derived from logical (lower snake_case) names goes through here: GraphQL types and
 * fields, SDK type names, REST paths and physical constraint names.
 */

export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function pascalCase(name: string): string {
  const camel = camelCase(name);
  return camel.charAt(0).toUpperCase() + camel.slice(1);
}

/** English plural of a lower snake_case name; only the last word is inflected. */
export function pluralize(name: string): string {
  const match = /^(.*?)([a-z0-9]+)$/.exec(name);
  if (!match) return `${name}s`;
  const [, head, word] = match as unknown as [string, string, string];
  return head + pluralWord(word);
}

const IRREGULAR: Record<string, string> = {
  person: 'people',
  child: 'children',
  man: 'men',
  woman: 'women',
  mouse: 'mice',
  goose: 'geese',
  tooth: 'teeth',
  foot: 'feet',
  datum: 'data',
  index: 'indices',
  status: 'statuses',
};
const UNCOUNTABLE = new Set(['equipment', 'information', 'data', 'series', 'species', 'news', 'metadata', 'staff']);

function pluralWord(word: string): string {
  if (IRREGULAR[word]) return IRREGULAR[word];
  if (UNCOUNTABLE.has(word)) return `${word}_items`;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  if (/[^aeiou]fe?$/.test(word) && !/(ff|ief|oof)$/.test(word)) return word.replace(/fe?$/, 'ves');
  return `${word}s`;
}

/** "IoT device" -> "IoT devices": pluralizes the last word of a label, keeping its case. */
export function pluralizeLabel(label: string): string {
  const match = /^(.*?)(\p{L}+)(\P{L}*)$/u.exec(label);
  if (!match) return label;
  const [, head, word, tail] = match as unknown as [string, string, string, string];
  const lower = word.toLowerCase();
  if (!/^[a-z]+$/.test(lower)) return label;
  const plural = pluralWord(lower);
  if (plural.includes('_')) return label; // uncountable: "Equipment" stays "Equipment"
  const cased =
    word === lower ? plural : word === word.toUpperCase() ? plural.toUpperCase() : word.charAt(0) + plural.slice(1);
  return head + cased + tail;
}

/** "iot_device" -> "Iot device": a default label from a logical name. */
export function humanize(name: string): string {
  const words = name.split('_').join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** GraphQL names for one entity. */
export function graphqlNames(entity: { name: string; pluralName: string }) {
  const type = pascalCase(entity.name);
  return {
    type,
    connection: `${type}Connection`,
    edge: `${type}Edge`,
    createInput: `${type}CreateInput`,
    updateInput: `${type}UpdateInput`,
    filter: `${type}Filter`,
    orderBy: `${type}OrderBy`,
    relationFilter: `${type}RelationFilter`,
    one: camelCase(entity.name),
    many: camelCase(entity.pluralName),
    create: `create${type}`,
    update: `update${type}`,
    delete: `delete${type}`,
    aggregate: `${camelCase(entity.pluralName)}Aggregate`,
  };
}

/** GraphQL field name of a lookup's raw id ("manager" -> "managerId"). */
export function lookupIdField(fieldName: string): string {
  return `${camelCase(fieldName)}Id`;
}
