/**
 * The generator behind `xrm codegen`: a typed client of one running instance, self-contained (it
 * needs nothing but `fetch`). It holds the entity types (GET /api/metadata/typescript, verbatim),
 * the SDK runtime (the modules of sdk/, inlined), and `XrmSchema`: per entity its record types,
 * field types, lookup targets, to-many relations and alternate keys (from
 * GET /api/metadata/entities), registered as the default schema of `createClient`.
 *
 * As one file, everything shares one scope; as a directory, `xrm-types.ts` is the types file of
 * `xrm types` and `index.ts` the client, which re-exports those types. Relative specifiers end in
 * `.js` (the client's only import is type-only), so the output compiles under plain
 * `tsc --strict --module nodenext`, without `allowImportingTsExtensions`, and under bundlers.
 */
import { readFileSync } from 'node:fs';
import { XRM_FIELD_TYPES } from '../field-types.ts';
import { CliError } from './command.ts';

/** The SDK modules the generated client inlines, dependencies first. */
export const RUNTIME_MODULES = [
  'field-types.ts',
  'schema.ts',
  'filter.ts',
  'rows.ts',
  'query.ts',
  'aggregate.ts',
  'errors.ts',
  'http.ts',
  'graphql.ts',
  'automation.ts',
  'entity.ts',
  'client.ts',
] as const;

/** Field types the SDK knows (a field of a newer server's type is left out of `fields`). */
const FIELD_TYPES: ReadonlySet<string> = new Set(XRM_FIELD_TYPES);

/** An entity as GET /api/metadata/entities describes it (the parts codegen reads). */
export interface EntityInfo {
  name: string;
  fields: { name: string; type: string; target?: string }[];
  navigations?: (
    | { kind: 'inverse'; name: string; source: string }
    | { kind: 'manyToMany'; name: string; other: string }
  )[];
  alternateKeys?: { name: string }[];
}

export interface CodegenInput {
  /** GET /api/metadata/typescript. */
  types: string;
  /** GET /api/metadata/entities → data. */
  entities: readonly EntityInfo[];
  /** The server the client was generated from (for the banner and the example). */
  url: string;
  /** How a program imports the client (banner example), e.g. `./xrm.js` or `./xrm/index.js`. */
  importPath?: string;
}

export interface GeneratedFile {
  /** Relative to the output: `''` for the single file, else a file name in the directory. */
  name: string;
  content: string;
}

/**
 * The SDK runtime as one block of declarations: each module without its imports and re-exports
 * of siblings (in one scope, a sibling's declarations are already there).
 */
export function inlineRuntime(read: (module: string) => string = readModule): string {
  return RUNTIME_MODULES.map((module) => {
    const source = read(module).replace(/^(?:import|export)\s[^;]*?\sfrom\s+'\.\/[\w.-]+\.ts';[ \t]*\n/gm, '');
    if (/^\s*(import|export)\s[^;]*?\sfrom\s+'/m.test(source))
      throw new Error(`sdk/${module} imports something the generated client cannot inline`);
    return `// ─── sdk/${module} ${'─'.repeat(Math.max(3, 80 - module.length))}\n\n${source.trim()}\n`;
  }).join('\n');
}

/**
 * Where the SDK's TypeScript sources are: this module's parent folder when it runs from source
 * (sdk/cli/codegen.ts), the package's root when it runs built (dist/cli/codegen.js; the package
 * ships its sources next to dist/).
 */
const SOURCES = new URL(import.meta.url.endsWith('.ts') ? '../' : '../../', import.meta.url);

function readModule(module: string): string {
  return readFileSync(new URL(module, SOURCES), 'utf8');
}

const DECLARATION_MODIFIERS = /(?:export\s+)?(?:declare\s+)?(?:abstract\s+)?/.source;
const DECLARATION_KEYWORD = /(?:interface|type|class|enum|function\*?|const|let|var|async\s+function)/.source;
/** A top-level declaration, its name captured: `export declare const foo`, `interface Bar`. */
const DECLARATION = new RegExp(`^${DECLARATION_MODIFIERS}${DECLARATION_KEYWORD}\\s+(\\w+)`, 'gm');

/** Top-level names a source declares (types and values). */
export function declaredNames(source: string): Set<string> {
  return new Set([...source.matchAll(DECLARATION)].map((m) => m[1]!));
}

/** Entity names of the XrmEntities map in a types source. */
export function mappedEntities(types: string): string[] {
  const map = /export interface XrmEntities \{([\s\S]*?)\n\}/.exec(types)?.[1] ?? '';
  return [...map.matchAll(/^ {2}(\w+): \{$/gm)].map((m) => m[1]!);
}

const key = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));
const literal = (value: string) => `'${value.replace(/[\\']/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}'`;
const union = (values: readonly string[]) => (values.length ? values.map(literal).join(' | ') : 'never');
const members = (entries: readonly [string, string][]) =>
  entries.length ? `{ ${entries.map(([k, v]) => `${key(k)}: ${literal(v)}`).join('; ')} }` : '{}';

/** `XrmSchema`: one member per entity, and its registration as createClient's default. */
export function schemaSource(input: CodegenInput): string {
  const known = new Set(mappedEntities(input.types));
  const lines = [
    '/** Every entity of the instance: record types, field types, lookups, to-many relations, alternate keys. */',
    'export interface XrmSchema {',
  ];
  for (const entity of [...input.entities]
    .filter((e) => known.has(e.name))
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const ref = `XrmEntities[${literal(entity.name)}]`;
    const navigations = (entity.navigations ?? []).map(
      (n) => [n.name, n.kind === 'inverse' ? n.source : n.other] as [string, string],
    );
    const fields = entity.fields
      .filter((f) => FIELD_TYPES.has(f.type))
      .map((f) => [f.name, f.type] as [string, string]);
    const lookups = entity.fields
      .filter((f) => f.type === 'lookup' && f.target && known.has(f.target))
      .map((f) => [f.name, f.target!] as [string, string]);
    lines.push(
      `  ${key(entity.name)}: {`,
      `    read: ${ref}['read'];`,
      `    create: ${ref}['create'];`,
      `    update: ${ref}['update'];`,
      `    fields: ${members(fields)};`,
      `    lookups: ${members(lookups)};`,
      `    relations: ${members(navigations.filter(([, target]) => known.has(target)))};`,
      `    manyToMany: ${union((entity.navigations ?? []).filter((n) => n.kind === 'manyToMany').map((n) => n.name))};`,
      `    keys: ${union((entity.alternateKeys ?? []).map((k) => k.name))};`,
      '  };',
    );
  }
  lines.push(
    '}',
    '',
    '/** Makes XrmSchema the default of createClient. */',
    'export interface XrmRegister {',
    '  schema: XrmSchema;',
    '}',
    '',
    '/** The client of this instance. */',
    'export type XrmInstanceClient = XrmClient<XrmSchema>;',
  );
  return lines.join('\n');
}

function banner(input: CodegenInput, importFrom: string): string {
  const version = /schema version (\d+)/.exec(input.types)?.[1] ?? '?';
  const example = literal(mappedEntities(input.types)[0] ?? '<entity>');
  return [
    '/* eslint-disable */',
    `/**`,
    ` * Typed client of the xrm-platform server at ${input.url} (schema version ${version}).`,
    ' * Generated by `xrm codegen`. Do not edit: regenerate after a schema change.',
    ' *',
    ` *   import { createClient, XrmApiError } from '${importFrom}';`,
    ` *   const client = createClient({ baseUrl: ${literal(input.url)} });`,
    ` *   const page = await client.entity(${example}).list({ sort: ['-created_at'], limit: 20 });`,
    ' */',
  ].join('\n');
}

/** The types source without its own banner. */
function typesBody(types: string): string {
  return types
    .replace(/^\/\* eslint-disable \*\/\n/, '')
    .replace(/^\/\*\* Generated by xrm-platform[^\n]*\*\/\n/, '')
    .trim();
}

/**
 * The generated client: one file (`name: ''`), or `xrm-types.ts` and `index.ts` for a directory.
 * A single file refuses entity type names that clash with the SDK's own names.
 */
export function generateClient(
  input: CodegenInput,
  layout: 'file' | 'directory',
  runtime: string = inlineRuntime(),
): GeneratedFile[] {
  const schema = schemaSource(input);
  if (layout === 'directory') {
    const index = [
      banner(input, input.importPath ?? './xrm/index.js'),
      '',
      "import type { XrmEntities } from './xrm-types.js';",
      "export type * from './xrm-types.js';",
      '',
      runtime,
      '// ─── this instance ' + '─'.repeat(74),
      '',
      schema,
      '',
    ].join('\n');
    return [
      { name: 'xrm-types.ts', content: input.types },
      { name: 'index.ts', content: index },
    ];
  }
  const types = typesBody(input.types);
  const clashes = [...declaredNames(types)].filter(
    (name) => declaredNames(runtime).has(name) || name === 'XrmSchema' || name === 'XrmInstanceClient',
  );
  if (clashes.length) {
    throw new CliError(
      `the entity types ${clashes.join(', ')} clash with names of the SDK in one file; ` +
        'write a directory instead (--out <dir>)',
    );
  }
  return [
    {
      name: '',
      content: [
        banner(input, input.importPath ?? './xrm.js'),
        '',
        types,
        '',
        runtime,
        '// ─── this instance ' + '─'.repeat(74),
        '',
        schema,
        '',
      ].join('\n'),
    },
  ];
}
