/**
 * Shapes of the relationship layer as the UI reads them: signals, the today list and alert
 * templates are the OpenAPI document's own (api-schema.ts); activities, parties, the tracking
 * settings and import jobs (whose schemas leave them open objects) are spelled out here.
 */
import type { components } from '../api-schema.ts';
import type { EntityDef, FieldDef, Job } from '../types.ts';

type Schemas = components['schemas'];

export type Signals = Schemas['RelationshipSignals'];
export type HealthBand = Signals['health'];
export type Factor = keyof Signals['factors'];
export type SignalInputs = Signals['inputs'];

export type TodayItem = Schemas['TodayList']['data'][number];
export type TodayReason = TodayItem['reasons'][number];
export type TodayReasonKind = TodayReason['kind'];

export type AlertTemplate = Schemas['AlertTemplateList']['data'][number];
export type AlertInput = Schemas['AlertInput'];

export type ActivityKind = 'email' | 'call' | 'meeting' | 'note' | 'task';
export type ActivityDirection = 'inbound' | 'outbound' | 'internal';
export type PartyRole = 'from' | 'to' | 'cc' | 'attendee';

/** A `reference` field's value: one record of any entity. */
export interface RecordRef {
  entity: string;
  id: string;
}

/** One party of a `partyList` field: who, in which role, and the record it resolved to (if any). */
export interface Party {
  role: PartyRole;
  address?: string | null;
  name?: string | null;
  entity?: string | null;
  id?: string | null;
}

/** A record of the built-in `activity` entity as the timeline answers it. */
export interface Activity {
  id: string;
  version?: number;
  subject: string | null;
  kind: ActivityKind;
  direction: ActivityDirection;
  occurred_at: string;
  duration_minutes: number | null;
  body: string | null;
  due_at: string | null;
  completed_at: string | null;
  in_reply_to: string | null;
  message_id: string | null;
  regarding: RecordRef | null;
  parties: Party[] | null;
}

export interface TimelinePage {
  data: Activity[];
  nextCursor?: string;
}

/** What the "Log activity" dialog sends to POST /api/data/activity. */
export interface ActivityInput {
  kind: ActivityKind;
  direction: ActivityDirection;
  subject?: string;
  occurred_at: string;
  duration_minutes?: number | string;
  body?: string;
  regarding: RecordRef;
}

export type SignalSettings = NonNullable<Schemas['Entity']['signalSettings']>;
export type Weights = NonNullable<SignalSettings['weights']>;
export type InteractionWeights = NonNullable<SignalSettings['interactionWeights']>;

/** PATCH /api/metadata/entities/{name}: tracking and its formula (null: the defaults again). */
export interface TrackingChange {
  trackActivities?: boolean;
  signalSettings?: SignalSettings | null;
}

/** Entities and fields as the server sends them, with the relationship layer's flags. */
export type RelationshipEntity = EntityDef & { builtIn?: boolean };
export type RelationshipField = FieldDef & { builtIn?: boolean; maintainedBy?: 'relationships' };

export type ImportFormat = 'mbox' | 'ics' | 'csv';

/** How far an import got (null on the job until it starts). */
export interface ImportProgress {
  bytes: number;
  totalBytes: number;
  imported: number;
  problems: number;
  done: boolean;
  /** The first problems, in words ("#3: …"). */
  problemSamples?: string[];
}

/** GET /api/activities/import/{id}: the import job as its uploader follows it. */
export interface ImportJob {
  id: string;
  format: string;
  state: Job['state'];
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  runAt: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  progress: ImportProgress | null;
}

export interface ImportRequest {
  format: ImportFormat;
  /** The importer's own addresses (they decide inbound vs outbound). */
  own: string[];
  /** `entity:id` of a record every imported activity regards. */
  regarding?: string;
}
