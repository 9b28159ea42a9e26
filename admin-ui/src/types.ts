/** Shapes of the platform's metadata and data API, as the admin UI reads them. */

export type FieldTypeName =
  | 'text' | 'longText' | 'email' | 'phone' | 'url' | 'integer' | 'bigInteger' | 'decimal' | 'money' | 'boolean'
  | 'date' | 'datetime' | 'choice' | 'multiChoice' | 'lookup' | 'json' | 'uuid' | 'autonumber';

export type OnDelete = 'restrict' | 'setNull' | 'cascade';

export interface ChoiceOption {
  value: string;
  label: string;
}

export interface FieldDef {
  name: string;
  type: FieldTypeName;
  displayName: string;
  description?: string;
  required: boolean;
  unique?: boolean;
  searchable?: boolean;
  default?: unknown;
  min?: number;
  max?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  precision?: number;
  scale?: number;
  options?: ChoiceOption[];
  choiceSet?: string;
  target?: string;
  onDelete?: OnDelete;
  inverseName?: string;
  prefix?: string;
  digits?: number;
}

export interface AlternateKeyDef {
  name: string;
  displayName: string;
  fields: string[];
}

export type Navigation =
  | { kind: 'inverse'; name: string; source: string; field: string }
  | { kind: 'manyToMany'; name: string; relationship: string; other: string; selfColumn: string; otherColumn: string };

export interface EntityDef {
  name: string;
  displayName: string;
  pluralName: string;
  pluralDisplayName: string;
  description?: string;
  primaryField: string;
  fields: FieldDef[];
  alternateKeys?: AlternateKeyDef[];
  navigations: Navigation[];
}

export interface RelationshipDef {
  name: string;
  type: 'manyToMany';
  from: string;
  to: string;
  displayName: string;
  description?: string;
}

export interface ChoiceSetDef {
  name: string;
  displayName: string;
  description?: string;
  options: ChoiceOption[];
}

export type FieldOptionName =
  | 'unique' | 'searchable' | 'default' | 'min' | 'max' | 'minLength' | 'maxLength' | 'pattern' | 'precision' | 'scale'
  | 'options' | 'choiceSet' | 'target' | 'onDelete' | 'inverseName' | 'prefix' | 'digits';

export type FilterOperator =
  | 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'isNull' | 'between'
  | 'contains' | 'startsWith' | 'endsWith' | 'icontains' | 'istartsWith' | 'iendsWith'
  | 'containsAny' | 'containsAll' | 'jsonPathEq';

export interface FieldTypeInfo {
  name: FieldTypeName;
  description: string;
  options: FieldOptionName[];
  readOnly: boolean;
  filterOperators: FilterOperator[];
  /** What the platform does with the type's values (declared by its module on the server). */
  capabilities: Record<FieldCapability, boolean>;
}

export type FieldCapability = 'primary' | 'key' | 'fullText' | 'sortable' | 'ordered' | 'groupable' | 'numeric' | 'list' | 'sequence';

export interface ChangeEntry {
  id: number;
  version: number;
  operation: string;
  target: string;
  actor: string;
  createdAt: string;
  before: unknown;
  after: unknown;
  statements: string[];
}

export interface ListResponse<T> {
  data: T[];
  totalCount?: number;
  nextCursor?: string;
}

export type DataRecord = Record<string, unknown> & { id: string; version?: number };

/** A JSON Schema property of an entity's create/update schema, with the platform's annotations. */
export interface PropertySchema {
  type?: string | string[];
  title?: string;
  description?: string;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  default?: unknown;
  readOnly?: boolean;
  items?: PropertySchema;
  'x-xrm-type'?: FieldTypeName;
  'x-xrm-options'?: ChoiceOption[];
  'x-xrm-target'?: string;
}

export interface EntitySchema {
  title: string;
  properties: Record<string, PropertySchema>;
  required?: string[];
}

/** RFC 9457 problem document as the platform sends it. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  instance?: string;
  errors?: { path: string; message: string }[];
  offendingRows?: number;
}
