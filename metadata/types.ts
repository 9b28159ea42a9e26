/**
 * Metadata is immutable plain data: what an admin defined, as stored in `xrm.*` and as carried by
 * the in-memory catalog. Everything else (DDL, JSON Schema, GraphQL, OpenAPI, TypeScript) is
 * derived from these shapes.
 */
import type { RegisteredTypeName } from './field-types/index.ts';

/** A field type's name: a key of the registry in field-types/index.ts (one line per type module). */
export type FieldTypeName = RegisteredTypeName;

export type OnDelete = 'restrict' | 'setNull' | 'cascade';

export interface ChoiceOption {
  readonly value: string;
  readonly label: string;
}

/** A field as an admin defines it. Type-specific options sit beside the common ones. */
export interface FieldDef {
  readonly name: string;
  readonly type: FieldTypeName;
  readonly displayName: string;
  readonly description?: string;
  readonly required: boolean;
  readonly unique: boolean;
  /** In the entity's full-text search (text-like types only). */
  readonly searchable: boolean;
  /** A plain B-tree index `(value, id)` serves filters and sorts on it (lookups always have one). */
  readonly indexed?: boolean;
  /** Field security: only roles granting read (update) on it may see (change) it. */
  readonly secured?: boolean;
  readonly default?: unknown;
  readonly min?: number;
  readonly max?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  /** decimal */
  readonly precision?: number;
  readonly scale?: number;
  /** choice, multiChoice: inline options, or the name of a shared choice set */
  readonly options?: readonly ChoiceOption[];
  readonly choiceSet?: string;
  /** lookup */
  readonly target?: string;
  readonly onDelete?: OnDelete;
  /** lookup: name of the one-to-many navigation on the target (default derived) */
  readonly inverseName?: string;
  /** autonumber */
  readonly prefix?: string;
  readonly digits?: number;
  /**
   * Values the platform keeps current (the relationship signals of a tracked entity): read-only in
   * every API, and the field itself comes and goes with what maintains it.
   */
  readonly maintainedBy?: 'relationships';
  /** Created by the platform (the activity entity's fields): cannot be dropped or retyped. */
  readonly builtIn?: boolean;
}

/** A set of fields whose values identify a record (unique together): used by upserts. */
export interface AlternateKeyDef {
  readonly name: string;
  readonly displayName: string;
  readonly fields: readonly string[];
}

/** Where an index declared on an entity stands (Dataverse's EntityKeyIndexStatus). */
export const INDEX_STATUSES = ['active', 'building', 'failed'] as const;
export type IndexStatus = (typeof INDEX_STATUSES)[number];

/**
 * A B-tree index an admin declared on an entity: its fields in order (then `id` unless unique, so a
 * keyset page sorted by them is read from the index alone). A large table's index is built by a job
 * (`building`), and ends `active` or `failed` with why.
 */
export interface IndexDef {
  readonly name: string;
  readonly displayName: string;
  readonly fields: readonly string[];
  readonly unique: boolean;
  readonly status: IndexStatus;
  /** Why the build failed (status `failed`). */
  readonly error?: string;
}

export interface EntityDef {
  readonly name: string;
  readonly displayName: string;
  readonly pluralName: string;
  readonly pluralDisplayName: string;
  readonly description?: string;
  readonly primaryField: string;
  /** Every write of its records appends to the audit trail (default true for new entities). */
  readonly auditEnabled?: boolean;
  /** Activities count toward its records' relationship signals (server/relationships). */
  readonly trackActivities?: boolean;
  /** How a tracked entity's relationship strength is computed (defaults in relationships/formula.ts). */
  readonly signalSettings?: SignalSettings;
  /** Created by the platform (the activity entity): cannot be deleted. */
  readonly builtIn?: boolean;
  readonly fields: readonly FieldDef[];
  readonly alternateKeys?: readonly AlternateKeyDef[];
  /** Indexes declared through the metadata API (absent on entities stored before them: none). */
  readonly indexes?: readonly IndexDef[];
}

/** A tracked entity's relationship-strength settings; what is left out takes the default. */
export interface SignalSettings {
  /** Expected days between two contacts (recency's half-life; 90 ÷ cadence two-way contacts is full frequency). */
  readonly cadenceDays?: number;
  /** Each factor's share of the strength; they sum to 1. */
  readonly weights?: Readonly<{ recency: number; frequency: number; reciprocity: number; depth: number }>;
  /** What one two-way interaction of each kind adds to depth (a meeting's is divided by √(people − 1)). */
  readonly interactionWeights?: Readonly<{ meeting: number; call: number; email: number }>;
}

export interface RelationshipDef {
  readonly name: string;
  readonly type: 'manyToMany';
  readonly from: string;
  readonly to: string;
  readonly displayName: string;
  readonly description?: string;
}

export interface ChoiceSetDef {
  readonly name: string;
  readonly displayName: string;
  readonly description?: string;
  readonly options: readonly ChoiceOption[];
}

/** The messages that change records: what the audit trail records and webhooks subscribe to. */
export const CHANGE_MESSAGES = ['create', 'update', 'delete', 'associate', 'disassociate'] as const;
export type ChangeMessage = (typeof CHANGE_MESSAGES)[number];

/** A webhook subscription (Standard Webhooks); its signing secrets live in xrm.webhooks, not here. */
export interface WebhookDef {
  readonly id: string;
  readonly url: string;
  /** An entity's name, or `*` for every entity. */
  readonly entity: string;
  readonly messages: readonly ChangeMessage[];
  /** The query engine's JSON filter, tested on the post-image (the pre-image for a delete). */
  readonly filter?: unknown;
  readonly description?: string;
  readonly enabled: boolean;
  /** Why the platform turned it off (the receiver answered 410 Gone). */
  readonly disabledReason?: string;
}

export const RULE_STATUSES = ['active', 'disabled', 'invalid'] as const;
export type RuleStatus = (typeof RULE_STATUSES)[number];

/**
 * An automation rule (server/automation): when it runs (an event on a record, a schedule over the
 * records matching its condition, or by hand), the condition a record must meet, and the actions
 * it takes. Definitions live in `xrm.automation_rules`; the catalog carries them so every
 * instance sees the same rules, and the ledger records their changes.
 */
export interface AutomationRuleDef {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly entity: string;
  readonly trigger: RuleTrigger;
  /** The query engine's JSON filter, plus olderThan / withinNext / withinLast and changedFrom / changedTo. */
  readonly condition?: unknown;
  readonly actions: readonly RuleAction[];
  /** 1 when created; every change adds one. */
  readonly version: number;
  readonly status: RuleStatus;
  /** Why the rule is invalid (the schema change that broke it), or why the platform turned it off. */
  readonly statusReason?: string;
  /** The user whose roles the rule's actions run with (who saved it last). */
  readonly runAs?: string;
  /** Runs per minute past which the rule stops and reports (loops); default 60. */
  readonly maxRunsPerMinute?: number;
}

export type RuleTrigger =
  | {
      readonly type: 'event';
      /** create, update, delete, associate, disassociate, or a plugin's custom message bound to the entity. */
      readonly messages: readonly string[];
      /** Update only: at least one of these fields changed. */
      readonly changed?: readonly string[];
    }
  | { readonly type: 'schedule'; readonly cron: string; readonly timeZone: string }
  | { readonly type: 'manual' };

export type RuleAction =
  | { readonly type: 'update'; readonly values: Readonly<Record<string, unknown>>; readonly via?: string }
  | { readonly type: 'create'; readonly entity: string; readonly values: Readonly<Record<string, unknown>> }
  | { readonly type: 'webhook'; readonly url: string }
  | { readonly type: 'message'; readonly name: string; readonly input?: Readonly<Record<string, unknown>> }
  | { readonly type: 'email'; readonly to: string; readonly subject: string; readonly body: string }
  | { readonly type: 'notify'; readonly to: string; readonly text: string }
  | { readonly type: 'suggest'; readonly reason: string; readonly actions: readonly RuleAction[] };

/** Schemas (PostgreSQL namespaces) used by the platform. */
export const SYSTEM_SCHEMA = 'xrm';
export const DATA_SCHEMA = 'data';
