/**
 * Component schemas of identity: sign-in, the caller (`/api/auth/me`) and API keys. The request
 * bodies double as the routes' Fastify schemas.
 */
import { schemaRef, type JsonSchema } from './types.ts';

const time = { type: 'string', format: 'date-time' } as const;

export const LOGIN_INPUT = {
  type: 'object',
  properties: {
    email: { type: 'string', minLength: 1, maxLength: 320 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
  required: ['email', 'password'],
  additionalProperties: false,
} as const;

export const API_KEY_INPUT = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200, description: 'What the key is for' },
    expiresAt: { ...time, description: 'When the key stops working; absent: never' },
  },
  required: ['name'],
  additionalProperties: false,
} as const;

export const USER_INPUT = {
  type: 'object',
  properties: {
    email: { type: 'string', minLength: 3, maxLength: 320 },
    displayName: { type: 'string', minLength: 1, maxLength: 200 },
    password: { type: 'string', minLength: 1, maxLength: 1024, description: 'At least 12 characters' },
  },
  required: ['email', 'password'],
  additionalProperties: false,
} as const;

export const USER_CHANGE = {
  type: 'object',
  properties: {
    displayName: { type: 'string', minLength: 1, maxLength: 200 },
    disabled: { type: 'boolean', description: 'true: every session and key of the user stops working at once' },
    password: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      description: 'A new password (at least 12 characters); sessions signed in before it stop working',
    },
  },
  additionalProperties: false,
} as const;

export function securityComponents(): Record<string, JsonSchema> {
  return {
    LoginInput: structuredClone(LOGIN_INPUT) as JsonSchema,
    User: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        email: { type: 'string' },
        displayName: { type: 'string' },
      },
      required: ['id', 'email', 'displayName'],
    },
    Principal: {
      type: 'object',
      description: 'Who acts on a request',
      properties: { kind: { type: 'string', enum: ['system', 'user', 'apiKey'] }, id: { type: 'string' } },
      required: ['kind', 'id'],
    },
    LoginResult: {
      type: 'object',
      properties: {
        token: {
          type: 'string',
          description: 'Send as Authorization: Bearer <token>; also set as the xrm_session cookie',
        },
        expiresAt: time,
        user: schemaRef('User'),
      },
      required: ['token', 'expiresAt', 'user'],
    },
    Me: {
      type: 'object',
      properties: {
        user: { oneOf: [schemaRef('User'), { type: 'null' }], description: "The user, or an API key's owner" },
        principal: schemaRef('Principal'),
      },
      required: ['user', 'principal'],
    },
    ApiKeyInput: structuredClone(API_KEY_INPUT) as JsonSchema,
    ApiKeyCreated: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        name: { type: 'string' },
        key: { type: 'string', description: 'xrm_…: answered this once, only its hash is stored' },
        expiresAt: { type: ['string', 'null'], format: 'date-time' },
        createdAt: time,
      },
      required: ['id', 'name', 'key', 'expiresAt', 'createdAt'],
    },
    ApiKey: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        name: { type: 'string' },
        createdAt: time,
        expiresAt: { type: ['string', 'null'], format: 'date-time' },
        revokedAt: { type: ['string', 'null'], format: 'date-time' },
        lastUsedAt: { type: ['string', 'null'], format: 'date-time', description: 'Updated at most once a minute' },
      },
      required: ['id', 'name', 'createdAt', 'expiresAt', 'revokedAt', 'lastUsedAt'],
    },
    ApiKeyList: { type: 'object', properties: { data: { type: 'array', items: schemaRef('ApiKey') } } },
    UserInput: structuredClone(USER_INPUT) as JsonSchema,
    UserChange: structuredClone(USER_CHANGE) as JsonSchema,
    UserAccount: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        email: { type: 'string' },
        displayName: { type: 'string' },
        disabled: { type: 'boolean' },
        createdAt: time,
        updatedAt: time,
      },
      required: ['id', 'email', 'displayName', 'disabled', 'createdAt', 'updatedAt'],
    },
    UserAccountList: { type: 'object', properties: { data: { type: 'array', items: schemaRef('UserAccount') } } },
  };
}
