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

/** A B-tree index declared on an entity: active, building (by a job, with progress) or failed. */
export type IndexDef = Schemas['Index'];

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

/** One record's shares and why the caller can or cannot use each privilege on it. */
export type Share = Schemas['Share'];
export type ShareInput = Schemas['ShareInput'];
export type ShareRight = ShareInput['rights'][number];
export type AccessExplanation = Schemas['AccessExplanation'];

/** Request bodies of the metadata API that the UI sends whole. */
export type AlternateKeyInput = Schemas['AlternateKeyInput'];
export type IndexInput = Schemas['IndexInput'];
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

/**
 * Security (issue 8): sign-in, the caller's privileges, users, teams, roles and API keys, as the
 * security API contract describes them (hand-written until the OpenAPI document publishes them).
 */
export type PrivilegeLevel = 'none' | 'own' | 'team' | 'all';
export type EntityPrivilege = 'create' | 'read' | 'update' | 'delete' | 'append' | 'appendTo' | 'assign' | 'share';
/** The switches of a role beyond entity privileges. */
export type RoleSwitch = 'metadata' | 'users' | 'plugins';

export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
}

export interface LoginResult {
  token: string;
  expiresAt: string;
  user: SessionUser;
}

/** GET /api/auth/me: who the caller is and what they may do. */
export interface Me {
  user: SessionUser | null;
  principal: { kind: 'user' | 'apiKey' | 'system'; id: string };
  /** Role names. */
  roles: string[];
  teams: { id: string; name: string }[];
  privileges: Record<RoleSwitch, boolean> & {
    entities: Record<string, Record<EntityPrivilege, PrivilegeLevel>>;
  };
  /** Secured fields only. */
  fields: Record<string, Record<string, { read: boolean; update: boolean }>>;
}

export interface SetupInput {
  token: string;
  email: string;
  password: string;
  displayName?: string;
}

export interface UserAccount {
  id: string;
  email: string;
  displayName: string;
  disabled: boolean;
  roles: string[];
  /** Team names. */
  teams: string[];
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface UserInput {
  email: string;
  displayName?: string;
  password: string;
  roles?: string[];
  teams?: string[];
  attributes?: Record<string, unknown>;
}

export type UserChange = Partial<
  Pick<UserInput, 'displayName' | 'password' | 'roles' | 'teams' | 'attributes'> & { disabled: boolean }
>;

export interface Team {
  id: string;
  name: string;
  /** User ids. */
  members: string[];
  /** Role names. */
  roles: string[];
  createdAt: string;
  updatedAt: string;
}

export type TeamInput = Pick<Team, 'name'> & Partial<Pick<Team, 'members' | 'roles'>>;

/** One entity's row of a role's privilege grid; a privilege left out is 'none'. */
export type RolePrivilege = { entity: string } & Partial<Record<EntityPrivilege, PrivilegeLevel>>;

export interface RowRule {
  entity: string;
  privilege: EntityPrivilege;
  /** A JSON filter, which may use "$user.id", "$user.teams" and "$user.<attribute>". */
  filter: unknown;
}

export interface FieldPermission {
  entity: string;
  field: string;
  read: boolean;
  update: boolean;
}

export interface RoleInput extends Record<RoleSwitch, boolean> {
  name: string;
  description?: string;
  privileges: RolePrivilege[];
  rowRules: RowRule[];
  fieldPermissions: FieldPermission[];
}

export interface Role extends RoleInput {
  id: string;
  builtIn: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ApiKeyInput {
  name: string;
  expiresAt?: string;
  /** A subset of the owner's roles; absent: all of them. */
  roles?: string[];
}

export interface ApiKey {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** The roles the key is limited to; null: all of its owner's. */
  roles: string[] | null;
}

/** POST /api/api-keys: the key itself, answered this once. */
export interface ApiKeyCreated {
  id: string;
  name: string;
  key: string;
  expiresAt: string | null;
  createdAt: string;
}
