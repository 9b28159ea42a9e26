/**
 * Component schemas of the relationship layer: timelines, signals with their formula, the today
 * list, alert templates, and activity ingestion.
 */
import { HEALTH_BANDS, SIGNAL_FIELDS } from '../../metadata/signal-fields.ts';
import { PARTY_ROLES } from '../../metadata/field-types/party-list.ts';
import { ALERT_TEMPLATES } from '../relationships/relationships.ts';
import type { JsonSchema } from './types.ts';

const time = { type: 'string', format: 'date-time' } as const;
const uuid = { type: 'string', format: 'uuid' } as const;
const factor = { type: 'number', minimum: 0, maximum: 1 } as const;
const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });

const factors = (description: string, item: JsonSchema = factor): JsonSchema => ({
  type: 'object',
  description,
  properties: { recency: item, frequency: item, reciprocity: item, depth: item },
  required: ['recency', 'frequency', 'reciprocity', 'depth'],
  additionalProperties: false,
});

const signalValues: JsonSchema = {
  type: 'object',
  description: 'Every signal field as of asOf',
  properties: Object.fromEntries(
    SIGNAL_FIELDS.map((f) => [
      f.name,
      f.type === 'datetime'
        ? nullable(time)
        : f.type === 'choice'
          ? { type: 'string', enum: HEALTH_BANDS.map((b) => b.value) }
          : f.default === undefined
            ? nullable({ type: 'integer' })
            : { type: 'integer' },
    ]),
  ),
  additionalProperties: false,
};

const activityInput: JsonSchema = {
  type: 'object',
  description:
    'An activity as a connector sends it: the activity fields, `message_id` required (the idempotency key); ' +
    '`in_reply_to` may be the Message-ID of the activity it answers',
  properties: {
    message_id: { type: 'string', minLength: 1, maxLength: 998 },
    in_reply_to: { type: 'string', maxLength: 998 },
    kind: { type: 'string', enum: ['email', 'call', 'meeting', 'note', 'task'] },
    direction: { type: 'string', enum: ['inbound', 'outbound', 'internal'] },
    subject: { type: 'string' },
    body: { type: 'string' },
    occurred_at: time,
    duration_minutes: { type: 'integer', minimum: 0 },
    due_at: time,
    completed_at: time,
    regarding: {
      type: 'object',
      properties: { entity: { type: 'string' }, id: uuid },
      required: ['entity', 'id'],
    },
    parties: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          role: { type: 'string', enum: [...PARTY_ROLES] },
          address: { type: 'string' },
          name: { type: 'string' },
          entity: { type: 'string' },
          id: uuid,
        },
        required: ['role'],
      },
    },
  },
  required: ['message_id', 'kind', 'occurred_at'],
  additionalProperties: true,
};

export function relationshipComponents(): Record<string, JsonSchema> {
  return {
    TimelinePage: {
      type: 'object',
      description: 'Activities regarding or involving the record, newest first',
      properties: {
        data: { type: 'array', items: { type: 'object', additionalProperties: true } },
        nextCursor: { type: 'string', description: 'Pass as `cursor` for the next page' },
      },
      required: ['data'],
    },
    RelationshipSignals: {
      type: 'object',
      description:
        'The strength as of asOf with its parts: score = round(100 × Σ weights[f] × factors[f]) exactly; ' +
        'contributions[f] = 100 × weights[f] × factors[f]',
      properties: {
        entity: { type: 'string' },
        id: uuid,
        asOf: time,
        formula: { type: 'string' },
        score: { type: 'integer', minimum: 0, maximum: 100 },
        health: { type: 'string', enum: HEALTH_BANDS.map((b) => b.value) },
        cadenceDays: { type: 'number' },
        weights: factors('Each factor’s share (they sum to 1)'),
        interactionWeights: {
          type: 'object',
          properties: { meeting: { type: 'number' }, call: { type: 'number' }, email: { type: 'number' } },
          required: ['meeting', 'call', 'email'],
        },
        factors: factors('Each factor, 0–1'),
        contributions: factors('100 × weight × factor', { type: 'number' }),
        inputs: {
          type: 'object',
          properties: {
            daysSinceLastTwoWay: nullable({ type: 'number' }),
            twoWay90d: { type: 'integer' },
            inbound90d: { type: 'integer' },
            outbound90d: { type: 'integer' },
            depthSum: { type: 'number' },
          },
          required: ['daysSinceLastTwoWay', 'twoWay90d', 'inbound90d', 'outbound90d', 'depthSum'],
        },
        activityIds: { type: 'array', items: uuid, description: 'The activities that count' },
        signals: signalValues,
      },
      required: [
        'entity',
        'id',
        'asOf',
        'formula',
        'score',
        'health',
        'cadenceDays',
        'weights',
        'interactionWeights',
        'factors',
        'contributions',
        'inputs',
        'activityIds',
        'signals',
      ],
    },
    TodayList: {
      type: 'object',
      properties: {
        data: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              entity: { type: 'string' },
              entityDisplayName: { type: 'string' },
              id: uuid,
              name: nullable({ type: 'string' }),
              priority: { type: 'number' },
              reason: { type: 'string', description: 'The first reason, in words' },
              reasons: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    kind: { type: 'string', enum: ['drift', 'meeting_follow_up', 'at_risk', 'stale'] },
                    text: { type: 'string' },
                  },
                  required: ['kind', 'text'],
                },
              },
              signals: { type: 'object', additionalProperties: true },
            },
            required: ['entity', 'entityDisplayName', 'id', 'name', 'priority', 'reason', 'reasons', 'signals'],
          },
        },
      },
      required: ['data'],
    },
    AlertTemplateList: {
      type: 'object',
      properties: {
        data: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              name: { type: 'string', enum: ALERT_TEMPLATES.map((t) => t.name) },
              title: { type: 'string' },
              description: { type: 'string' },
            },
            required: ['name', 'title', 'description'],
          },
        },
      },
      required: ['data'],
    },
    AlertInput: {
      type: 'object',
      properties: {
        entity: { type: 'string', description: 'A tracked entity' },
        template: { type: 'string', enum: ALERT_TEMPLATES.map((t) => t.name) },
        drop: { type: 'integer', minimum: 1, maximum: 100, description: 'at_risk: points lost in 30 days (20)' },
        cron: { type: 'string', description: 'When the rule looks (default hourly: 0 * * * *)' },
        timeZone: { type: 'string', description: 'The cron’s IANA time zone (UTC)' },
      },
      required: ['entity', 'template'],
      additionalProperties: false,
    },
    ImportJob: {
      type: 'object',
      description: 'An import job as its uploader follows it',
      properties: {
        id: { type: 'string' },
        format: { type: 'string' },
        state: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed', 'dead'] },
        attempts: { type: 'integer' },
        maxAttempts: { type: 'integer' },
        lastError: { type: ['string', 'null'] },
        runAt: time,
        createdAt: time,
        updatedAt: time,
        finishedAt: { type: ['string', 'null'], format: 'date-time' },
        progress: {
          type: ['object', 'null'],
          properties: {
            bytes: { type: 'integer' },
            totalBytes: { type: 'integer' },
            imported: { type: 'integer' },
            problems: { type: 'integer' },
            problemSamples: { type: 'array', items: { type: 'string' } },
            done: { type: 'boolean' },
          },
        },
      },
      required: ['id', 'format', 'state', 'attempts', 'maxAttempts', 'runAt', 'createdAt', 'progress'],
    },
    ImportStarted: {
      type: 'object',
      properties: { job: { $ref: '#/components/schemas/ImportJob' } },
      required: ['job'],
    },
    ActivityIngestInput: {
      type: 'object',
      properties: { activities: { type: 'array', items: activityInput, minItems: 1, maxItems: 1000 } },
      required: ['activities'],
      additionalProperties: false,
    },
    ActivityIngestResult: {
      type: 'object',
      properties: {
        data: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: { ...nullable(uuid), description: 'null: stored already, by someone whose activity you cannot read' },
              message_id: { type: 'string' },
              created: { type: 'boolean', description: 'false: the message was stored already and is left as it is' },
            },
            required: ['id', 'message_id', 'created'],
          },
        },
      },
      required: ['data'],
    },
  };
}
