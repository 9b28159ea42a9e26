/**
 * Component schemas of the write pipeline's resources: plugins and their steps, custom messages,
 * jobs, webhooks and their deliveries, and a record's audit history.
 */
import { JOB_KINDS, JOB_STATES } from '../jobs/queue.ts';
import { STAGES } from '../../plugins/api.ts';
import { CHANGE_MESSAGES } from '../../metadata/types.ts';
import { WARNINGS } from './metadata-schemas.ts';
import { schemaRef, type JsonSchema } from './types.ts';

/** A keyset page of `item`s: `data`, and `nextCursor` until the last page. */
export const pageOf = (item: string): JsonSchema => ({
  type: 'object',
  properties: {
    data: { type: 'array', items: schemaRef(item) },
    nextCursor: { type: 'string', description: 'Pass as cursor= for the next page; absent on the last' },
  },
  required: ['data'],
});

const time = { type: 'string', format: 'date-time' } as const;

const webhookProperties: Record<string, JsonSchema> = {
  url: { type: 'string', maxLength: 2048, description: 'http(s) receiver; internal addresses are refused' },
  entity: { type: 'string', description: 'An entity, or * for every entity' },
  messages: {
    type: 'array',
    items: { type: 'string', enum: [...CHANGE_MESSAGES] },
    minItems: 1,
    description: 'Default: create, update, delete',
  },
  filter: { description: "The query engine's JSON filter, tested on the post-image (the pre-image of a delete)" },
  description: { type: 'string' },
  enabled: { type: 'boolean' },
};

export function pipelineComponents(): Record<string, JsonSchema> {
  return {
    Plugin: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        version: { type: 'string' },
        description: { type: 'string' },
        enabled: { type: 'boolean', description: 'false: its steps and messages do not run' },
        builtIn: { type: 'boolean', description: 'Shipped with the platform; cannot be turned off' },
        steps: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              message: { type: 'string' },
              entity: { type: 'string', description: 'An entity, or * for all' },
              stage: { type: 'string', enum: [...STAGES] },
              rank: { type: 'integer' },
              fields: { type: 'array', items: { type: 'string' } },
            },
            required: ['message', 'entity', 'stage'],
          },
        },
        messages: { type: 'array', items: { type: 'string' }, description: 'Custom messages it defines' },
        warnings: WARNINGS,
      },
      required: ['name', 'enabled', 'builtIn', 'steps', 'messages'],
    },
    PluginList: { type: 'object', properties: { data: { type: 'array', items: schemaRef('Plugin') } } },
    CustomMessage: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        plugin: { type: 'string' },
        description: { type: 'string' },
        entity: { type: 'string', description: 'Bound: called on one record of this entity' },
        input: { type: 'object', description: 'JSON Schema of the input' },
        output: { type: 'object', description: 'JSON Schema of the output' },
      },
      required: ['name', 'plugin', 'input', 'output'],
    },
    CustomMessageList: { type: 'object', properties: { data: { type: 'array', items: schemaRef('CustomMessage') } } },
    MessageCall: {
      type: 'object',
      properties: {
        input: { type: 'object', description: "Checked against the message's input schema" },
        target: {
          type: 'object',
          properties: { entity: { type: 'string' }, id: { type: 'string', format: 'uuid' } },
          required: ['entity', 'id'],
          additionalProperties: false,
          description: 'The record a bound message runs on',
        },
      },
      additionalProperties: false,
    },
    MessageResult: {
      type: 'object',
      properties: { output: { description: "The handler's output, checked against the message's output schema" } },
    },
    Job: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        kind: { type: 'string', enum: [...JOB_KINDS] },
        target: { type: 'string', description: 'The async step (plugin#n) or the webhook id' },
        eventId: { type: 'string', format: 'uuid', description: 'The change it follows; stable across retries' },
        payload: { type: 'object' },
        state: { type: 'string', enum: [...JOB_STATES] },
        attempts: { type: 'integer' },
        maxAttempts: { type: 'integer' },
        runAt: time,
        lockedBy: { type: ['string', 'null'] },
        lockedUntil: { type: ['string', 'null'], format: 'date-time' },
        lastError: { type: ['string', 'null'] },
        createdAt: time,
        updatedAt: time,
        finishedAt: { type: ['string', 'null'], format: 'date-time' },
        progress: {
          type: ['object', 'null'],
          description: 'How far a long job got (an import: bytes, totalBytes, imported, problems, done)',
          additionalProperties: true,
        },
      },
      required: ['id', 'kind', 'target', 'eventId', 'state', 'attempts', 'maxAttempts', 'runAt', 'createdAt'],
    },
    JobPage: pageOf('Job'),
    WebhookInput: {
      type: 'object',
      properties: webhookProperties,
      required: ['url', 'entity'],
      additionalProperties: false,
    },
    WebhookChange: { type: 'object', properties: webhookProperties, additionalProperties: false },
    Webhook: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        ...webhookProperties,
        disabledReason: { type: 'string', description: 'Why the platform turned it off (410 Gone)' },
      },
      required: ['id', 'url', 'entity', 'messages', 'enabled'],
    },
    WebhookCreated: {
      allOf: [
        schemaRef('Webhook'),
        {
          type: 'object',
          properties: {
            secret: { type: 'string', description: 'whsec_…: shown this once; verify signatures with it' },
          },
          required: ['secret'],
        },
      ],
    },
    WebhookList: { type: 'object', properties: { data: { type: 'array', items: schemaRef('Webhook') } } },
    WebhookSecret: {
      type: 'object',
      properties: {
        secret: { type: 'string' },
        previousSecretExpiresAt: { ...time, description: 'Until then deliveries carry both signatures' },
      },
      required: ['secret', 'previousSecretExpiresAt'],
    },
    WebhookDelivery: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        jobId: { type: ['string', 'null'] },
        messageId: { type: 'string', description: 'The webhook-id header: the same on every retry' },
        eventType: { type: 'string' },
        attempt: { type: 'integer' },
        status: { type: ['integer', 'null'], description: "The receiver's HTTP status; null: no answer" },
        error: { type: ['string', 'null'] },
        durationMs: { type: 'integer' },
        success: { type: 'boolean' },
        createdAt: time,
      },
      required: ['id', 'messageId', 'eventType', 'attempt', 'durationMs', 'success', 'createdAt'],
    },
    WebhookDeliveryPage: pageOf('WebhookDelivery'),
    HistoryEntry: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        message: { type: 'string', enum: [...CHANGE_MESSAGES] },
        actor: { type: 'string' },
        correlationId: { type: 'string', description: 'The request id of the write (and of what it caused)' },
        depth: { type: 'integer', description: '1: asked for by a client; more: written by a plugin step' },
        at: time,
        changes: {
          type: 'array',
          items: {
            type: 'object',
            properties: { field: { type: 'string' }, old: {}, new: {} },
            required: ['field'],
          },
        },
      },
      required: ['id', 'message', 'actor', 'correlationId', 'depth', 'at', 'changes'],
    },
    HistoryPage: pageOf('HistoryEntry'),
  };
}
