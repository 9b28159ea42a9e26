/**
 * Validation and normalization of what an admin sends: names, options per field type,
 * references to other entities and choice sets. Output is a complete, immutable definition;
 * every problem is reported with a path into the request body.
 */
import { patternProblem } from './regex.ts';
import { createAjv, toFieldErrors, unstorable } from './ajv.ts';
import type { Catalog } from './catalog.ts';
import { invalid, XrmError, type FieldError } from './errors.ts';
import type { ValidateFunction } from 'ajv';
import {
  DEFINITION_DOCUMENT,
  DEFINITION_DOCUMENT_ID,
  ENTITY_INPUT,
  fieldInputName,
  MAX_ENTITY_FIELDS,
} from './definition-schemas.ts';
import type { JsonSchema } from './field-type.ts';
import { FIELD_TYPES, FIELD_TYPE_NAMES, takesChoices, typesWith } from './field-types/index.ts';
import { humanize, pluralize, pluralizeLabel } from './inflection.ts';
import { isMaintained, SIGNAL_FIELD_NAMES, withSignalFields } from './signal-fields.ts';
import { SYSTEM_COLUMNS, systemField } from './system-fields.ts';
import { nameProblem } from './naming.ts';
import { entityIndexColumns, fieldIndexes } from './ddl.ts';
import type {
  AlternateKeyDef,
  ChoiceSetDef,
  EntityDef,
  FieldDef,
  FieldTypeName,
  IndexDef,
  RelationshipDef,
  SignalSettings,
} from './types.ts';

export { MAX_ENTITY_FIELDS } from './definition-schemas.ts';

const ajv = createAjv();
ajv.addSchema(DEFINITION_DOCUMENT);

/**
 * A validator made on first use and kept: compiling them all at start took about 85 ms of every
 * start, for admin requests a server may not see for hours.
 */
function lazily(make: () => ValidateFunction): () => ValidateFunction {
  let validate: ValidateFunction | undefined;
  return () => (validate ??= make());
}

/** The validator of one of the definition schemas (definition-schemas.ts), by component name. */
function definitionValidator(name: string): () => ValidateFunction {
  return lazily(() => {
    const validate = ajv.getSchema(`${DEFINITION_DOCUMENT_ID}#/components/schemas/${name}`);
    if (!validate) throw new Error(`no definition schema ${name}`);
    return validate;
  });
}

const fieldValidators = Object.fromEntries(
  FIELD_TYPE_NAMES.map((t) => [t, definitionValidator(fieldInputName(t))]),
) as Record<FieldTypeName, () => ValidateFunction>;

// an entity's fields are validated one by one (normalizeField): each against its type's schema, with its own paths
const entityShape = lazily(() =>
  ajv.compile({
    ...ENTITY_INPUT,
    properties: {
      ...(ENTITY_INPUT.properties as Record<string, JsonSchema>),
      fields: { type: 'array', maxItems: MAX_ENTITY_FIELDS },
    },
  }),
);
const entityUpdateShape = definitionValidator('EntityChange');
const relationshipShape = definitionValidator('RelationshipInput');
const choiceSetShape = definitionValidator('ChoiceSetInput');
const alternateKeyShape = definitionValidator('AlternateKeyInput');
const indexShape = definitionValidator('IndexInput');

/** A name's pattern and length are in the schemas for clients; nameProblem checks them with a clearer message. */
const NAME_RULES = new Set(['pattern', 'maxLength']);

/** Ajv's errors as field errors, less the name rules at `names` (instance paths), which nameProblem reports. */
function shapeErrors(
  validate: ValidateFunction,
  input: unknown,
  prefix: string,
  names: readonly string[] = ['/name'],
): FieldError[] {
  if (validate(input)) return [];
  return toFieldErrors(
    validate.errors?.filter((e) => !(NAME_RULES.has(e.keyword) && names.includes(e.instancePath))),
    prefix,
  );
}

function fail(errors: FieldError[], what: string): never {
  throw invalid(
    'XRM_ERR_METADATA_INVALID',
    `The ${what} definition is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
    errors,
  );
}

/** Definitions are stored as jsonb and labels, options and defaults go into DDL: all must be storable text. */
function refuseUnstorable(input: unknown, prefix: string, what: string): void {
  const errors = unstorable(input, prefix);
  if (errors.length) fail(errors, what);
}

/** Types that can be a primary field or part of an alternate key (capabilities on each type). */
const PRIMARY_FIELD_TYPES = typesWith('primary');

/** Validates a field definition for `entity` (which may be being created alongside) and fills defaults. */
export function normalizeField(
  input: unknown,
  entity: { name: string; fields: readonly FieldDef[] },
  catalog: Catalog,
  path: string,
): FieldDef {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    fail([{ path: path || '/', message: 'must be an object' }], 'field');
  refuseUnstorable(input, path, 'field');
  const raw = input as Record<string, unknown>;
  const type = raw.type as FieldTypeName;
  if (!FIELD_TYPE_NAMES.includes(type)) {
    fail([{ path: `${path}/type`, message: `must be one of ${FIELD_TYPE_NAMES.join(', ')}` }], 'field');
  }
  const typeModule = FIELD_TYPES[type];
  const errors: FieldError[] = [];
  for (const e of shapeErrors(fieldValidators[type](), raw, path)) {
    const m = /unknown property "(.+)"/.exec(e.message);
    errors.push(m ? { path: e.path, message: `option "${m[1]}" does not apply to a ${type} field` } : e);
  }
  const nameError = nameProblem(raw.name, 'field');
  if (nameError) errors.push({ path: `${path}/name`, message: nameError });
  if (errors.length) fail(errors, 'field');

  const name = raw.name as string;
  const field: Record<string, unknown> = {
    ...raw,
    displayName: (raw.displayName as string | undefined) ?? humanize(name),
    required: raw.required === true,
    unique: raw.unique === true,
    // searchable is full-text; on a type without full text it is the older spelling of indexed
    indexed: raw.indexed === true || (raw.searchable === true && !typeModule.capabilities.fullText),
    searchable: raw.searchable === true && typeModule.capabilities.fullText,
  };
  if (raw.secured !== true) delete field.secured;

  Object.assign(field, FIELD_TYPES[type].forced);
  if (field.min !== undefined && field.max !== undefined && (field.min as number) > (field.max as number)) {
    errors.push({ path: `${path}/min`, message: 'min cannot exceed max' });
  }
  if (
    field.minLength !== undefined &&
    field.maxLength !== undefined &&
    (field.minLength as number) > (field.maxLength as number)
  ) {
    errors.push({ path: `${path}/minLength`, message: 'minLength cannot exceed maxLength' });
  }
  if (typeof field.pattern === 'string') {
    const problem = patternProblem(field.pattern);
    if (problem) errors.push({ path: `${path}/pattern`, message: problem });
  }
  if (takesChoices(type)) {
    if (!!field.options === !!field.choiceSet) {
      errors.push({ path: `${path}/options`, message: 'give either options or choiceSet (exactly one)' });
    } else if (field.choiceSet !== undefined && !catalog.choiceSets.has(field.choiceSet as string)) {
      errors.push({ path: `${path}/choiceSet`, message: `choice set "${String(field.choiceSet)}" does not exist` });
    } else if (field.options) {
      errors.push(...duplicateOptionErrors(field.options as { value: string }[], `${path}/options`));
    }
  }
  if (type === 'lookup') {
    const target = field.target as string | undefined;
    if (!target) errors.push({ path: `${path}/target`, message: 'is required for a lookup' });
    else if (target !== entity.name && !catalog.entities.has(target)) {
      errors.push({ path: `${path}/target`, message: `entity "${target}" does not exist` });
    }
    field.onDelete ??= field.required ? 'restrict' : 'setNull';
    if (field.onDelete === 'setNull' && field.required) {
      errors.push({ path: `${path}/onDelete`, message: 'setNull needs a field that is not required' });
    }
    if (field.inverseName !== undefined) {
      const problem = navigationProblem(field.inverseName) ?? nameProblem(field.inverseName, 'field');
      if (problem) errors.push({ path: `${path}/inverseName`, message: problem.replace('field name', 'inverse name') });
    }
  }
  for (const problem of typeModule.definitionProblems?.(field as unknown as FieldDef) ?? []) {
    errors.push({ path: path || '/', message: problem });
  }
  if (errors.length) fail(errors, 'field');

  const normalized = Object.freeze(field) as unknown as FieldDef;
  if (normalized.default !== undefined) {
    if (typeModule.readOnly || !typeModule.defaultSql) {
      fail([{ path: `${path}/default`, message: `a ${type} field takes no default` }], 'field');
    }
    const valueSchema = typeModule.valueSchema(normalized, { choiceOptions: (f) => catalog.choiceOptions(f) });
    const check = ajv.compile(valueSchema);
    if (!check(normalized.default)) {
      fail(toFieldErrors(check.errors, `${path}/default`), 'field');
    }
  }
  return normalized;
}

function duplicateOptionErrors(options: readonly { value: string }[], path: string): FieldError[] {
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  options.forEach((o, i) => {
    if (seen.has(o.value)) errors.push({ path: `${path}/${i}/value`, message: `duplicate option value "${o.value}"` });
    seen.add(o.value);
  });
  return errors;
}

/** A lookup's inverse navigation name on its target: the source's plural, unless taken. */
export function defaultInverseName(
  sourceEntity: { name: string; pluralName: string },
  field: FieldDef,
  taken: Set<string>,
): string {
  const plural = sourceEntity.pluralName;
  if (!taken.has(plural)) return plural;
  const candidate = `${plural}_by_${field.name}`;
  return Buffer.byteLength(candidate) <= 63 ? candidate : `${field.name}_of_${sourceEntity.name}`.slice(0, 63);
}

/**
 * Checks a member (field or navigation) name against the names already on an entity, including
 * the GraphQL `<lookup>Id` companions, and returns a problem message or undefined.
 */
/** The primary field names a record wherever it is shown or referenced: never hidden by field security. */
export const SECURED_PRIMARY = 'the primary field names the record everywhere: it cannot be secured';

/** Sub-resources of a record (`/api/data/{entity}/{id}/history`): not usable as a navigation's name. */
const RECORD_SUBRESOURCES = new Set(['history', 'share', 'shares']);

function navigationProblem(name: unknown): string | undefined {
  return typeof name === 'string' && RECORD_SUBRESOURCES.has(name)
    ? `"${name}" names a record's sub-resource (/api/data/{entity}/{id}/${name}); choose another name`
    : undefined;
}

export function memberClash(
  name: string,
  isLookup: boolean,
  members: readonly { name: string; type?: FieldTypeName }[],
): string | undefined {
  if (isLookup && SYSTEM_COLUMNS.includes(`${name}_id`)) {
    return `lookup "${name}" clashes with system column "${name}_id" (its API id member)`;
  }
  for (const m of members) {
    if (m.name === name) return `"${name}" is already used on this entity`;
    if (m.type === 'lookup' && `${m.name}_id` === name) return `"${name}" clashes with the id of lookup "${m.name}"`;
    if (isLookup && `${name}_id` === m.name) return `lookup "${name}" clashes with field "${m.name}"`;
  }
  return undefined;
}

/** The default plural, kept within 63 bytes (a 63-byte name still gets a distinct plural). */
function derivedPlural(name: string): string {
  const plural = pluralize(name);
  if (Buffer.byteLength(plural) <= 63) return plural;
  const stem = name.slice(0, 62).replace(/_+$/, '');
  return stem.endsWith('s') ? `${stem.slice(0, -1)}z` : `${stem}s`;
}

/** Validates an entity creation request; returns the entity and its fields. */
export function normalizeEntity(input: unknown, catalog: Catalog): EntityDef {
  const errors = shapeErrors(entityShape(), input, '', ['/name', '/pluralName']);
  if (errors.length) fail(errors, 'entity');
  refuseUnstorable(input, '', 'entity');
  const raw = input as Record<string, unknown>;
  const nameError = nameProblem(raw.name, 'entity');
  if (nameError) fail([{ path: '/name', message: nameError }], 'entity');
  const name = raw.name as string;
  const pluralName = (raw.pluralName as string | undefined) ?? derivedPlural(name);
  const pluralError = nameProblem(pluralName, 'entity');
  if (pluralError)
    fail([{ path: '/pluralName', message: pluralError.replace('entity name', 'plural name') }], 'entity');
  if (pluralName === name) fail([{ path: '/pluralName', message: 'must differ from the name' }], 'entity');
  assertEntityNameFree(catalog, name, pluralName);

  const fields: FieldDef[] = [];
  const rawFields = (raw.fields as unknown[] | undefined) ?? [];
  const draft = { name, pluralName, fields };
  rawFields.forEach((rf, i) => {
    const field = normalizeField(rf, draft, catalog, `/fields/${i}`);
    const clash = memberClash(field.name, field.type === 'lookup', fields);
    if (clash) fail([{ path: `/fields/${i}/name`, message: clash }], 'entity');
    fields.push(field);
  });

  let primaryField = raw.primaryField as string | undefined;
  if (primaryField === undefined) {
    primaryField = fields.find((f) => PRIMARY_FIELD_TYPES.includes(f.type))?.name;
    if (!primaryField) {
      fields.unshift(
        Object.freeze({
          name: 'name',
          type: 'text',
          displayName: 'Name',
          required: true,
          unique: false,
          searchable: true,
          indexed: true,
        }),
      );
      primaryField = 'name';
    }
  } else if (!fields.some((f) => f.name === primaryField)) {
    const problem = nameProblem(primaryField, 'field');
    if (problem) fail([{ path: '/primaryField', message: problem }], 'entity');
    fields.unshift(
      Object.freeze({
        name: primaryField,
        type: 'text',
        displayName: humanize(primaryField),
        required: true,
        unique: false,
        searchable: true,
        indexed: true,
      }),
    );
  }
  const primary = fields.find((f) => f.name === primaryField)!;
  if (!PRIMARY_FIELD_TYPES.includes(primary.type)) {
    fail([{ path: '/primaryField', message: `must be a field of type ${PRIMARY_FIELD_TYPES.join(', ')}` }], 'entity');
  }
  if (primary.secured) fail([{ path: '/primaryField', message: SECURED_PRIMARY }], 'entity');

  return Object.freeze({
    name,
    displayName: (raw.displayName as string | undefined) ?? humanize(name),
    pluralName,
    pluralDisplayName:
      (raw.pluralDisplayName as string | undefined) ??
      (raw.displayName !== undefined ? pluralizeLabel(raw.displayName as string) : humanize(pluralName)),
    ...(raw.description !== undefined ? { description: raw.description as string } : {}),
    primaryField,
    auditEnabled: raw.auditEnabled !== false,
    ...trackingOf(raw, fields, false),
    fields: Object.freeze(fields),
  });
}

/**
 * `trackActivities` and `signalSettings` as stored: tracking adds the signal fields (signal-fields.ts),
 * so no field of the entity's own may bear their names, and the factor weights must sum to 1.
 */
function trackingOf(
  raw: Record<string, unknown>,
  fields: readonly FieldDef[],
  builtIn: boolean,
): Pick<EntityDef, 'trackActivities' | 'signalSettings'> {
  const track = raw.trackActivities === true;
  if (track && builtIn) fail([{ path: '/trackActivities', message: 'activities cannot track activities' }], 'entity');
  if (track) {
    const clash = fields.find((f) => !f.maintainedBy && SIGNAL_FIELD_NAMES.includes(f.name));
    if (clash) {
      const message = `field "${clash.name}" has the name of a relationship signal; tracking needs it`;
      fail([{ path: '/trackActivities', message }], 'entity');
    }
  }
  const settings = raw.signalSettings as SignalSettings | null | undefined;
  if (settings?.weights) {
    const sum = Object.values(settings.weights).reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-9) {
      fail([{ path: '/signalSettings/weights', message: `must sum to 1 (they sum to ${sum})` }], 'entity');
    }
  }
  return {
    ...(track ? { trackActivities: true } : {}),
    ...(settings ? { signalSettings: settings } : {}),
  };
}

/** Entity, its plural and relationship names share one namespace: the tables in schema `data`. */
export function assertEntityNameFree(catalog: Catalog, ...names: string[]): void {
  for (const n of names) {
    for (const e of catalog.entities.values()) {
      if (e.name === n || e.pluralName === n) {
        throw new XrmError('XRM_ERR_METADATA_NAME_TAKEN', `"${n}" is already used by entity "${e.name}"`, {
          errors: [{ path: '/name', message: 'is taken' }],
        });
      }
    }
    if (catalog.relationships.has(n)) {
      throw new XrmError('XRM_ERR_METADATA_NAME_TAKEN', `"${n}" is already used by relationship "${n}"`, {
        errors: [{ path: '/name', message: 'is taken' }],
      });
    }
  }
}

export interface EntityPatch {
  displayName?: string;
  pluralDisplayName?: string;
  description?: string;
  primaryField?: string;
  auditEnabled?: boolean;
  trackActivities?: boolean;
  signalSettings?: SignalSettings | null;
}

export function normalizeEntityPatch(input: unknown, entity: EntityDef): EntityDef {
  const errors = shapeErrors(entityUpdateShape(), input, '');
  if (errors.length) fail(errors, 'entity');
  refuseUnstorable(input, '', 'entity');
  const patch = input as EntityPatch;
  if (patch.primaryField !== undefined) {
    const f = entity.fields.find((x) => x.name === patch.primaryField);
    if (!f || !PRIMARY_FIELD_TYPES.includes(f.type)) {
      fail(
        [{ path: '/primaryField', message: `must name a field of type ${PRIMARY_FIELD_TYPES.join(', ')}` }],
        'entity',
      );
    }
    if (f.secured) fail([{ path: '/primaryField', message: SECURED_PRIMARY }], 'entity');
  }
  const { trackActivities: _t, signalSettings: _s, ...rest } = patch;
  const { trackActivities: _bt, signalSettings: _bs, ...kept } = entity;
  const merged = { ...kept, ...rest };
  const raw = input as Record<string, unknown>;
  const tracking = trackingOf(
    {
      trackActivities: 'trackActivities' in raw ? raw.trackActivities : entity.trackActivities,
      signalSettings: 'signalSettings' in raw ? raw.signalSettings : entity.signalSettings,
    },
    entity.fields,
    entity.builtIn === true,
  );
  return withSignalFields(Object.freeze({ ...merged, ...tracking }));
}

export function normalizeRelationship(input: unknown, catalog: Catalog): RelationshipDef {
  const errors = shapeErrors(relationshipShape(), input, '');
  if (errors.length) fail(errors, 'relationship');
  refuseUnstorable(input, '', 'relationship');
  const raw = input as Record<string, string>;
  const nameError = navigationProblem(raw.name) ?? nameProblem(raw.name, 'relationship');
  if (nameError) fail([{ path: '/name', message: nameError }], 'relationship');
  for (const side of ['from', 'to'] as const) {
    if (!catalog.entities.has(raw[side]!))
      fail([{ path: `/${side}`, message: `entity "${raw[side]}" does not exist` }], 'relationship');
  }
  assertEntityNameFree(catalog, raw.name!);
  for (const side of new Set([raw.from!, raw.to!])) {
    const clash = memberClash(raw.name!, false, [...catalog.entity(side)!.fields, ...catalog.navigations(side)]);
    if (clash) fail([{ path: '/name', message: `${clash} (entity "${side}")` }], 'relationship');
  }
  return Object.freeze({
    name: raw.name!,
    type: 'manyToMany',
    from: raw.from!,
    to: raw.to!,
    displayName: raw.displayName ?? humanize(raw.name!),
    ...(raw.description !== undefined ? { description: raw.description } : {}),
  });
}

export function normalizeChoiceSet(input: unknown): ChoiceSetDef {
  const errors = shapeErrors(choiceSetShape(), input, '');
  if (errors.length) fail(errors, 'choice set');
  refuseUnstorable(input, '', 'choice set');
  const raw = input as Record<string, unknown>;
  const nameError = nameProblem(raw.name, 'choice set');
  if (nameError) fail([{ path: '/name', message: nameError }], 'choice set');
  const options = raw.options as { value: string; label: string }[];
  const dupes = duplicateOptionErrors(options, '/options');
  if (dupes.length) fail(dupes, 'choice set');
  return Object.freeze({
    name: raw.name as string,
    displayName: (raw.displayName as string | undefined) ?? humanize(raw.name as string),
    ...(raw.description !== undefined ? { description: raw.description as string } : {}),
    options: Object.freeze(options.map((o) => Object.freeze({ value: o.value, label: o.label }))),
  });
}

const KEY_FIELD_TYPES = typesWith('key');

/** Validates an alternate key of `entity`: a name, and fields of types that compare by value. */
export function normalizeAlternateKey(input: unknown, entity: EntityDef): AlternateKeyDef {
  const errors = shapeErrors(alternateKeyShape(), input, '');
  if (errors.length) fail(errors, 'alternate key');
  const raw = input as { name: string; displayName?: string; fields: string[] };
  const nameError = nameProblem(raw.name, 'field');
  if (nameError) fail([{ path: '/name', message: nameError.replace('field name', 'key name') }], 'alternate key');
  if (entity.alternateKeys?.some((k) => k.name === raw.name)) {
    throw new XrmError('XRM_ERR_METADATA_NAME_TAKEN', `Entity "${entity.name}" already has a key "${raw.name}"`, {
      errors: [{ path: '/name', message: 'is taken' }],
    });
  }
  raw.fields.forEach((name, i) => {
    const field = entity.fields.find((f) => f.name === name);
    if (!field) fail([{ path: `/fields/${i}`, message: `"${entity.name}" has no field "${name}"` }], 'alternate key');
    if (!KEY_FIELD_TYPES.includes(field.type)) {
      fail(
        [
          {
            path: `/fields/${i}`,
            message: `a ${field.type} field cannot be part of a key (use ${KEY_FIELD_TYPES.join(', ')})`,
          },
        ],
        'alternate key',
      );
    }
  });
  return Object.freeze({
    name: raw.name,
    displayName: raw.displayName ?? humanize(raw.name),
    fields: Object.freeze([...raw.fields]),
  });
}

/** Types a declared index may span: those records can be sorted by, which is what a B-tree orders. */
const INDEX_FIELD_TYPES = typesWith('indexable');

/** Why `field` cannot be part of a declared index, or undefined when it can. */
export function indexFieldProblem(field: FieldDef): string | undefined {
  if (!INDEX_FIELD_TYPES.includes(field.type)) {
    return `a ${field.type} field cannot be indexed (B-tree indexes take ${INDEX_FIELD_TYPES.join(', ')})`;
  }
  if (isMaintained(field)) {
    return `"${field.name}" is a relationship signal: signals stay unindexed so activity writes update them in place`;
  }
  return undefined;
}

/** An index's identity for comparison: unique or not, and its columns in order. */
const indexKey = (unique: boolean, columns: readonly string[]) => `${unique ? 'u' : 'i'}:${columns.join(',')}`;

/**
 * The index the platform already keeps with exactly a declared index's columns (entityIndexColumns)
 * and uniqueness, if any: the primary key, `created_at`'s, an alternate key's, or a field's own
 * (fieldIndexes: a unique field's, an `indexed` field's `(value, id)`).
 */
function builtInIndex(entity: EntityDef, fields: readonly string[], unique: boolean): string | undefined {
  const columns = entityIndexColumns({ fields, unique });
  if (columns.join(',') === 'id') return 'the primary key is an index on id';
  if (!unique && columns.join(',') === 'created_at,id') return 'every entity has an index on created_at';
  const key = unique ? entity.alternateKeys?.find((k) => k.fields.join(',') === fields.join(',')) : undefined;
  if (key) return `alternate key "${key.name}" is a unique index on these fields`;
  const wanted = indexKey(unique, columns);
  const owner = entity.fields.find((f) => fieldIndexes(f).some((i) => indexKey(i.unique, i.columns) === wanted));
  if (!owner) return undefined;
  return unique ? `"${owner.name}" is unique (unique: true)` : `"${owner.name}" is indexed (indexed: true)`;
}

/**
 * The declared index that an index a field change gives the field (fieldIndexes: turning on
 * `unique` or `indexed`) would duplicate, with the path of the flag: the reverse of builtInIndex.
 */
export function declaredTwin(
  entity: EntityDef,
  before: FieldDef,
  after: FieldDef,
): { index: IndexDef; path: '/indexed' | '/unique' } | undefined {
  const had = new Set(fieldIndexes(before).map((i) => indexKey(i.unique, i.columns)));
  for (const own of fieldIndexes(after)) {
    const key = indexKey(own.unique, own.columns);
    if (had.has(key)) continue;
    const index = entity.indexes?.find((i) => indexKey(i.unique === true, entityIndexColumns(i)) === key);
    if (index) return { index, path: own.unique ? '/unique' : '/indexed' };
  }
  return undefined;
}

/**
 * Validates an index declared on `entity`: fields (system ones too) whose types a B-tree orders, a
 * name (default: the fields joined by "_") no other index of the entity has, and a field list no
 * other index has, declared or the platform's own (builtInIndex). A field the entity cannot index
 * is a 422 naming it (`/fields/<i>`).
 */
export function normalizeIndex(input: unknown, entity: EntityDef): IndexDef {
  const errors = shapeErrors(indexShape(), input, '');
  if (errors.length) fail(errors, 'index');
  refuseUnstorable(input, '', 'index');
  const raw = input as { name?: string; displayName?: string; fields: string[]; unique?: boolean };
  const name = raw.name ?? raw.fields.join('_');
  const nameError = nameProblem(name, 'index');
  if (nameError) {
    const hint = raw.name === undefined ? ' (the default: the fields joined by "_"); give the index a name' : '';
    fail([{ path: '/name', message: nameError + hint }], 'index');
  }
  const indexes = entity.indexes ?? [];
  if (indexes.some((i) => i.name === name)) {
    throw new XrmError('XRM_ERR_METADATA_NAME_TAKEN', `Entity "${entity.name}" already has an index "${name}"`, {
      errors: [{ path: '/name', message: 'is taken' }],
    });
  }
  const refusals: FieldError[] = [];
  raw.fields.forEach((fieldName, i) => {
    const field = entity.fields.find((f) => f.name === fieldName) ?? systemField(fieldName);
    const problem = field ? indexFieldProblem(field) : `"${entity.name}" has no field "${fieldName}"`;
    if (problem) refusals.push({ path: `/fields/${i}`, message: problem });
  });
  const same = indexes.find((i) => i.fields.join(',') === raw.fields.join(','));
  if (same) refusals.push({ path: '/fields', message: `index "${same.name}" has these fields in this order` });
  const builtIn = builtInIndex(entity, raw.fields, raw.unique === true);
  if (builtIn) refusals.push({ path: '/fields', message: `${builtIn} already: a second index would only slow writes` });
  if (refusals.length) {
    throw new XrmError(
      'XRM_ERR_METADATA_CHANGE_REFUSED',
      `The index cannot be made: ${refusals.map((e) => `${e.path} ${e.message}`).join('; ')}`,
      { errors: refusals },
    );
  }
  return Object.freeze({
    name,
    displayName: raw.displayName ?? humanize(name),
    fields: Object.freeze([...raw.fields]),
    unique: raw.unique === true,
    status: 'active',
  });
}
