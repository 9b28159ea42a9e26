/**
 * Shapes of the platform's API, as the admin UI reads them. Those of the metadata API are the
 * OpenAPI document's own (api-schema.ts, generated from it: `npx vitest run
 * tests/generated.test.ts -u`); the ones below them are the UI's: records of any entity, their
 * JSON Schemas as forms read them, and problems as the UI shows them (network failures included).
 */
import type { components } from './api-schema.ts';

type Schemas = components['schemas'];

export type FieldTypeInfo = Schemas['FieldType'];
export type FieldTypeName = FieldTypeInfo['name'];
export type FieldOptionName = FieldTypeInfo['options'][number];
export type FilterOperator = FieldTypeInfo['filterOperators'][number];
/** What the platform does with a type's values (declared by its module on the server). */
export type FieldCapability = keyof FieldTypeInfo['capabilities'];

export type ChoiceOption = Schemas['ChoiceOption'];
export type FieldDef = Schemas['Field'];
export type OnDelete = NonNullable<FieldDef['onDelete']>;
export type AlternateKeyDef = Schemas['AlternateKey'];
export type Navigation = Schemas['Navigation'];
export type EntityDef = Schemas['Entity'];
export type RelationshipDef = Schemas['Relationship'];
export type ChoiceSetDef = Schemas['ChoiceSet'];
export type ChangeEntry = Schemas['SchemaChange'];

/** The write pipeline: plugins, the job queue, webhooks and records' audit history. */
export type PluginInfo = Schemas['Plugin'];
export type Job = Schemas['Job'];
export type JobState = Job['state'];
export type JobKind = Job['kind'];
export type JobSummary = Record<JobState, number>;
export type Webhook = Schemas['Webhook'];
export type WebhookInput = Schemas['WebhookInput'];
export type WebhookChange = Schemas['WebhookChange'];
export type WebhookCreated = Schemas['WebhookCreated'];
export type WebhookMessage = Webhook['messages'][number];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type WebhookSecret = Schemas['WebhookSecret'];
export type HistoryEntry = Schemas['HistoryEntry'];

/** Request bodies of the metadata API that the UI sends whole. */
export type AlternateKeyInput = Schemas['AlternateKeyInput'];
export type RelationshipInput = Schemas['RelationshipInput'];
export type ChoiceSetInput = Schemas['ChoiceSetInput'];
export type ChoiceSetChange = Schemas['ChoiceSetChange'];

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
