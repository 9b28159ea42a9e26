/**
 * The JSON Schemas of the metadata API's request bodies, each declared once: the metadata service
 * validates with them (definitions.ts) and the OpenAPI document publishes them unchanged as
 * components (server/openapi/metadata-schemas.ts). They refer to each other as the document does,
 * `#/components/schemas/<Name>`; `DEFINITION_DOCUMENT` is where those references resolve for Ajv.
 *
 * A field definition has one schema per field type, `<Type>FieldInput`, with only that type's
 * options; `FieldInput` is their union, told apart by `type`. Names carry the pattern and length
 * of naming.ts, which nameProblem checks (with a clearer message than the pattern's).
 */
import type { FieldOptionName, JsonSchema } from './field-type.ts';
import { FIELD_TYPES, FIELD_TYPE_NAMES } from './field-types/index.ts';
import { MAX_TEXT_MAX_LENGTH } from './field-types/text.ts';
import { pascalCase } from './inflection.ts';
import { MAX_NAME_BYTES, NAME_PATTERN } from './naming.ts';
import type { FieldTypeName } from './types.ts';

/** Fields one entity may have (PostgreSQL allows 1,600 columns per table, dropped ones included). */
export const MAX_ENTITY_FIELDS = 1000;

/** Options one choice field or choice set may have. */
export const MAX_CHOICE_OPTIONS = 1000;

/** A reference to another schema of the document. */
const component = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const logicalName = (what: string): JsonSchema => ({
  type: 'string',
  pattern: NAME_PATTERN.source,
  maxLength: MAX_NAME_BYTES,
  description: `Logical ${what} name (lower snake_case); the stable API and table/column name`,
});
const label: JsonSchema = { type: 'string', minLength: 1, maxLength: 255 };
const description: JsonSchema = { type: 'string', maxLength: 4000 };

const CHOICE_OPTION: JsonSchema = {
  type: 'object',
  properties: { value: { type: 'string', minLength: 1, maxLength: 100 }, label },
  required: ['value', 'label'],
  additionalProperties: false,
};

const choiceOptions: JsonSchema = {
  type: 'array',
  items: component('ChoiceOption'),
  minItems: 1,
  maxItems: MAX_CHOICE_OPTIONS,
};

/** JSON Schema of each option a field definition may carry; which ones a type takes is its module's `options`. */
export const OPTION_SCHEMAS: Readonly<Record<FieldOptionName, JsonSchema>> = {
  unique: { type: 'boolean', description: 'Values must be unique (a unique index)' },
  searchable: {
    type: 'boolean',
    description:
      'In the full-text search (text-like types). Elsewhere the older spelling of indexed: the answer says indexed',
  },
  indexed: { type: 'boolean', description: 'A B-tree index (value, id): fast filters and sorts on this field' },
  default: { description: "Default value, of the field's own value type" },
  min: { type: 'number', description: 'Smallest allowed value' },
  max: { type: 'number', description: 'Largest allowed value' },
  minLength: { type: 'integer', minimum: 0, maximum: MAX_TEXT_MAX_LENGTH, description: 'Fewest characters' },
  maxLength: { type: 'integer', minimum: 1, maximum: MAX_TEXT_MAX_LENGTH, description: 'Most characters' },
  pattern: {
    type: 'string',
    minLength: 1,
    maxLength: 1000,
    description: 'Regular expression (Unicode) values must match',
  },
  precision: { type: 'integer', minimum: 1, maximum: 38, description: 'decimal: total digits' },
  scale: { type: 'integer', minimum: 0, maximum: 38, description: 'decimal: digits after the point' },
  options: { ...choiceOptions, description: 'choice, multiChoice: inline options' },
  choiceSet: { type: 'string', description: 'choice, multiChoice: name of a shared choice set (instead of options)' },
  target: { type: 'string', description: 'lookup: the entity referenced' },
  onDelete: {
    type: 'string',
    enum: ['restrict', 'setNull', 'cascade'],
    description: 'lookup: what deleting the referenced record does',
  },
  inverseName: { type: 'string', description: 'lookup: name of the one-to-many navigation on the target' },
  prefix: {
    type: 'string',
    maxLength: 32,
    pattern: '^[^\\u0000-\\u001f]*$',
    description: 'autonumber: text before the number',
  },
  digits: { type: 'integer', minimum: 1, maximum: 18, description: 'autonumber: zero-padded width' },
};

/** Every option name, in declaration order. */
export const FIELD_OPTION_NAMES = Object.freeze(Object.keys(OPTION_SCHEMAS) as FieldOptionName[]);

const COMMON_FIELD_PROPERTIES: Readonly<Record<string, JsonSchema>> = {
  name: logicalName('field'),
  type: { type: 'string', enum: [...FIELD_TYPE_NAMES] },
  displayName: label,
  description,
  required: { type: 'boolean' },
  secured: {
    type: 'boolean',
    description:
      'Field security: only roles granting read on it see it (in every response, schema and filter), ' +
      'only roles granting update change it',
  },
};

/** A field's properties whatever its type: the common ones and every option (a stored field, a field change). */
export const FIELD_PROPERTIES: Readonly<Record<string, JsonSchema>> = { ...COMMON_FIELD_PROPERTIES, ...OPTION_SCHEMAS };

/** Component name of a field type's definition schema: `TextFieldInput`, `MultiChoiceFieldInput`, ... */
export function fieldInputName(type: FieldTypeName): string {
  return `${pascalCase(type)}FieldInput`;
}

function fieldInput(type: FieldTypeName): JsonSchema {
  const options = Object.fromEntries(FIELD_TYPES[type].options.map((option) => [option, OPTION_SCHEMAS[option]]));
  return {
    type: 'object',
    description: `A ${type} field: ${FIELD_TYPES[type].description}`,
    properties: { ...COMMON_FIELD_PROPERTIES, type: { const: type }, ...options },
    required: ['name', 'type'],
    additionalProperties: false,
  };
}

const auditEnabled: JsonSchema = {
  type: 'boolean',
  description: 'Every create, update, delete and link of its records appends to the audit trail (default true)',
};

const trackActivities: JsonSchema = {
  type: 'boolean',
  description:
    'Activities (emails, calls, meetings) regarding or involving its records count toward read-only ' +
    'relationship signals the platform keeps current (last_contact_at, relationship_strength, …); default false',
};

const share: JsonSchema = { type: 'number', minimum: 0, maximum: 1 };
const positive: JsonSchema = { type: 'number', exclusiveMinimum: 0, maximum: 10 };

const signalSettings: JsonSchema = {
  type: 'object',
  description: "A tracked entity's relationship-strength formula: cadence and weights (defaults when absent)",
  properties: {
    cadenceDays: {
      type: 'number',
      minimum: 1,
      maximum: 365,
      description:
        'Expected days between contacts: the half-life of recency; 90 ÷ cadence contacts is full frequency (14)',
    },
    weights: {
      type: 'object',
      description: "Each factor's share of the strength (0.35, 0.25, 0.2, 0.2); they sum to 1",
      properties: { recency: share, frequency: share, reciprocity: share, depth: share },
      required: ['recency', 'frequency', 'reciprocity', 'depth'],
      additionalProperties: false,
    },
    interactionWeights: {
      type: 'object',
      description: 'Depth one two-way interaction adds: meeting (÷ √(people − 1)) 1, call 0.7, email 0.3',
      properties: { meeting: positive, call: positive, email: positive },
      required: ['meeting', 'call', 'email'],
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

const entityProperties: Readonly<Record<string, JsonSchema>> = {
  name: logicalName('entity'),
  displayName: label,
  pluralName: { ...logicalName('entity'), description: 'Plural logical name (default: the English plural of name)' },
  pluralDisplayName: label,
  description,
  primaryField: { type: 'string', description: 'The field naming a record (text-like); created as text when absent' },
  auditEnabled,
  trackActivities,
  signalSettings,
};

export const ENTITY_INPUT: JsonSchema = {
  type: 'object',
  properties: {
    ...entityProperties,
    fields: { type: 'array', items: component('FieldInput'), maxItems: MAX_ENTITY_FIELDS },
  },
  required: ['name'],
  additionalProperties: false,
};

export const ENTITY_CHANGE: JsonSchema = {
  type: 'object',
  properties: {
    displayName: label,
    pluralDisplayName: label,
    description,
    primaryField: { type: 'string' },
    auditEnabled,
    trackActivities,
    signalSettings: { anyOf: [signalSettings, { type: 'null' }] },
  },
  additionalProperties: false,
};

export const RELATIONSHIP_INPUT: JsonSchema = {
  type: 'object',
  properties: {
    name: logicalName('relationship'),
    type: { const: 'manyToMany' },
    from: { type: 'string', description: 'Entity on the "from" side' },
    to: { type: 'string', description: 'Entity on the "to" side' },
    displayName: label,
    description,
  },
  required: ['name', 'type', 'from', 'to'],
  additionalProperties: false,
};

export const CHOICE_SET_INPUT: JsonSchema = {
  type: 'object',
  properties: { name: logicalName('choice set'), displayName: label, description, options: choiceOptions },
  required: ['name', 'options'],
  additionalProperties: false,
};

export const ALTERNATE_KEY_INPUT: JsonSchema = {
  type: 'object',
  properties: {
    name: { ...logicalName('key'), description: 'Logical key name (lower snake_case)' },
    displayName: label,
    fields: {
      type: 'array',
      items: { type: 'string' },
      minItems: 1,
      maxItems: 16,
      uniqueItems: true,
      description: 'Fields whose values are unique together',
    },
  },
  required: ['name', 'fields'],
  additionalProperties: false,
};

/** Fields one declared index may span. */
export const MAX_INDEX_FIELDS = 8;

export const INDEX_INPUT: JsonSchema = {
  type: 'object',
  properties: {
    name: {
      ...logicalName('index'),
      description: 'Logical index name (lower snake_case); default: the fields joined by "_"',
    },
    displayName: label,
    fields: {
      type: 'array',
      items: { type: 'string' },
      minItems: 1,
      maxItems: MAX_INDEX_FIELDS,
      uniqueItems: true,
      description:
        'Fields in index order (types records can be sorted by); id is appended unless unique, ' +
        'so keyset pages sorted by these fields read the index alone',
    },
    unique: { type: 'boolean', description: 'Values are unique together (refused while records share them)' },
  },
  required: ['fields'],
  additionalProperties: false,
};

/**
 * A field change is applied to the stored definition (null removes an option), and the result is
 * validated against its type's `<Type>FieldInput`; a choice set change likewise against
 * `ChoiceSetInput`. These two describe what may be sent.
 */
export const FIELD_CHANGE: JsonSchema = {
  type: 'object',
  description:
    'A partial field change: labels, safe options, lossless type changes; null removes an option. ' +
    'The name cannot change',
  properties: Object.fromEntries(
    Object.entries(FIELD_PROPERTIES).map(([k, v]) => [k, k === 'name' ? v : { anyOf: [v, { type: 'null' }] }]),
  ),
  additionalProperties: false,
};

export const CHOICE_SET_CHANGE: JsonSchema = {
  type: 'object',
  description: 'Relabel, add or (when unused) remove options; fields using the set follow',
  properties: { displayName: label, description, options: choiceOptions },
  additionalProperties: false,
};

/** Every request-body schema of the metadata API, by component name (the document's order). */
export const DEFINITION_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  ChoiceOption: CHOICE_OPTION,
  FieldInput: {
    description:
      'A field definition: the schema of its type, which takes only its own options (GET /api/metadata/field-types)',
    oneOf: FIELD_TYPE_NAMES.map((t) => component(fieldInputName(t))),
    discriminator: {
      propertyName: 'type',
      mapping: Object.fromEntries(FIELD_TYPE_NAMES.map((t) => [t, `#/components/schemas/${fieldInputName(t)}`])),
    },
  },
  ...Object.fromEntries(FIELD_TYPE_NAMES.map((t) => [fieldInputName(t), fieldInput(t)])),
  FieldChange: FIELD_CHANGE,
  EntityInput: ENTITY_INPUT,
  EntityChange: ENTITY_CHANGE,
  AlternateKeyInput: ALTERNATE_KEY_INPUT,
  IndexInput: INDEX_INPUT,
  RelationshipInput: RELATIONSHIP_INPUT,
  ChoiceSetInput: CHOICE_SET_INPUT,
  ChoiceSetChange: CHOICE_SET_CHANGE,
};

/** The schemas as one document whose `#/components/schemas/...` references resolve (Ajv's `addSchema`). */
export const DEFINITION_DOCUMENT_ID = 'https://xrm-platform.local/schemas/metadata-definitions.json';
export const DEFINITION_DOCUMENT: JsonSchema = {
  $id: DEFINITION_DOCUMENT_ID,
  components: { schemas: DEFINITION_SCHEMAS },
};

/** Properties shared by definitions as sent and as returned (server/openapi/metadata-schemas.ts). */
export const DEFINITION_PROPERTIES = {
  entity: entityProperties,
  relationship: RELATIONSHIP_INPUT.properties as Record<string, JsonSchema>,
  choiceSet: CHOICE_SET_INPUT.properties as Record<string, JsonSchema>,
} as const;
