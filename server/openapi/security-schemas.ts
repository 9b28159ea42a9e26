/**
 * Component schemas of identity: sign-in, the caller (`/api/auth/me`) and API keys. The request
 * bodies double as the routes' Fastify schemas.
 */
import { ACCESS_LEVELS, API_PRIVILEGES, PRIVILEGES, SHARE_RIGHTS } from '../security/policy.ts';
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
    roles: {
      type: 'array',
      items: { type: 'string' },
      maxItems: 100,
      description: "Restrict the key to these of its user's roles (names); absent: it acts with all of them",
    },
  },
  required: ['name'],
  additionalProperties: false,
} as const;

/** A user's roles and teams (by name) and attributes, as user creation and changes take them. */
const MEMBERSHIPS = {
  roles: { type: 'array', items: { type: 'string' }, maxItems: 100, description: 'Role names held directly' },
  teams: { type: 'array', items: { type: 'string' }, maxItems: 100, description: 'Team names' },
  attributes: {
    type: 'object',
    description: 'What row rules read as $user.<name> (e.g. region)',
    maxProperties: 100,
  },
} as const;

export const USER_INPUT = {
  type: 'object',
  properties: {
    email: { type: 'string', minLength: 3, maxLength: 320 },
    displayName: { type: 'string', minLength: 1, maxLength: 200 },
    password: { type: 'string', minLength: 1, maxLength: 1024, description: 'At least 12 characters' },
    ...MEMBERSHIPS,
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
    ...MEMBERSHIPS,
  },
  additionalProperties: false,
} as const;

export const SETUP_INPUT = {
  type: 'object',
  properties: {
    token: { type: 'string', minLength: 1, maxLength: 200, description: 'The token of the printed setup link' },
    email: { type: 'string', minLength: 3, maxLength: 320 },
    password: { type: 'string', minLength: 1, maxLength: 1024, description: 'At least 12 characters' },
    displayName: { type: 'string', minLength: 1, maxLength: 200 },
  },
  required: ['token', 'email', 'password'],
  additionalProperties: false,
} as const;

const level = { type: 'string', enum: [...ACCESS_LEVELS] } as const;
const entityName = { type: 'string', minLength: 1, maxLength: 63 } as const;

export const ROLE_INPUT = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100 },
    description: { type: 'string', maxLength: 4000 },
    privileges: {
      type: 'array',
      maxItems: 1000,
      description: 'Per entity, each privilege at a level (a privilege left out is none)',
      items: {
        type: 'object',
        properties: { entity: entityName, ...Object.fromEntries(PRIVILEGES.map((p) => [p, level])) },
        required: ['entity'],
        additionalProperties: false,
      },
    },
    rowRules: {
      type: 'array',
      maxItems: 1000,
      description: 'Conditions records must also meet for a privilege: JSON filters with $user.* variables',
      items: {
        type: 'object',
        properties: {
          entity: entityName,
          privilege: { type: 'string', enum: [...PRIVILEGES] },
          filter: { type: 'object', description: "The query engine's JSON filter" },
        },
        required: ['entity', 'privilege', 'filter'],
        additionalProperties: false,
      },
    },
    fieldPermissions: {
      type: 'array',
      maxItems: 10000,
      description: 'Read and update of secured fields',
      items: {
        type: 'object',
        properties: {
          entity: entityName,
          field: { type: 'string', minLength: 1, maxLength: 63 },
          read: { type: 'boolean' },
          update: { type: 'boolean' },
        },
        required: ['entity', 'field', 'read', 'update'],
        additionalProperties: false,
      },
    },
    ...Object.fromEntries(
      API_PRIVILEGES.map((p) => [
        p,
        {
          type: 'boolean',
          description: {
            metadata: 'Change entities, fields, relationships (the metadata API)',
            users: 'Manage users, teams, roles',
            plugins: 'Manage plugins, jobs and webhooks',
          }[p],
        },
      ]),
    ),
  },
  required: ['name'],
  additionalProperties: false,
} as const;

export const TEAM_INPUT = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100 },
    members: { type: 'array', items: { type: 'string' }, maxItems: 10000, description: 'User ids' },
    roles: { type: 'array', items: { type: 'string' }, maxItems: 100, description: 'Role names' },
  },
  additionalProperties: false,
} as const;

export const SHARE_INPUT = {
  type: 'object',
  properties: {
    principal: {
      type: 'object',
      description: 'A user or a team, by id',
      properties: { user: { type: 'string', format: 'uuid' }, team: { type: 'string', format: 'uuid' } },
      minProperties: 1,
      maxProperties: 1,
      additionalProperties: false,
    },
    rights: {
      type: 'array',
      items: { type: 'string', enum: [...SHARE_RIGHTS] },
      uniqueItems: true,
      description: 'What the share grants on this record; [] removes the share',
    },
  },
  required: ['principal', 'rights'],
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
        roles: { type: 'array', items: { type: 'string' }, description: 'Role names held (directly or by a team)' },
        teams: {
          type: 'array',
          items: {
            type: 'object',
            properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string' } },
            required: ['id', 'name'],
          },
        },
        privileges: {
          type: 'object',
          properties: {
            ...Object.fromEntries(API_PRIVILEGES.map((p) => [p, { type: 'boolean' }])),
            entities: {
              type: 'object',
              description: 'Per entity, the highest level each privilege reaches',
              additionalProperties: {
                type: 'object',
                properties: Object.fromEntries(PRIVILEGES.map((p) => [p, level])),
              },
            },
          },
          required: [...API_PRIVILEGES, 'entities'],
        },
        fields: {
          type: 'object',
          description: 'Per entity, the secured fields and whether the caller may read and update them',
          additionalProperties: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              properties: { read: { type: 'boolean' }, update: { type: 'boolean' } },
              required: ['read', 'update'],
            },
          },
        },
      },
      required: ['user', 'principal', 'roles', 'teams', 'privileges', 'fields'],
    },
    SetupInput: structuredClone(SETUP_INPUT) as JsonSchema,
    SetupState: {
      type: 'object',
      properties: { required: { type: 'boolean', description: 'true while no user exists' } },
      required: ['required'],
    },
    RoleInput: structuredClone(ROLE_INPUT) as JsonSchema,
    Role: {
      allOf: [
        schemaRef('RoleInput'),
        {
          type: 'object',
          properties: {
            id: { type: 'string', format: 'uuid' },
            builtIn: { type: 'boolean', description: 'The System Administrator role: every privilege, unchangeable' },
            createdAt: time,
            updatedAt: time,
          },
          required: ['id', 'builtIn', 'createdAt', 'updatedAt'],
        },
      ],
    },
    RoleList: { type: 'object', properties: { data: { type: 'array', items: schemaRef('Role') } } },
    TeamInput: structuredClone(TEAM_INPUT) as JsonSchema,
    Team: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        name: { type: 'string' },
        members: { type: 'array', items: { type: 'string', format: 'uuid' } },
        roles: { type: 'array', items: { type: 'string' } },
        createdAt: time,
        updatedAt: time,
      },
      required: ['id', 'name', 'members', 'roles', 'createdAt', 'updatedAt'],
    },
    TeamList: { type: 'object', properties: { data: { type: 'array', items: schemaRef('Team') } } },
    ShareInput: structuredClone(SHARE_INPUT) as JsonSchema,
    Share: {
      type: 'object',
      properties: {
        principal: {
          type: 'object',
          properties: { user: { type: 'string', format: 'uuid' }, team: { type: 'string', format: 'uuid' } },
        },
        rights: { type: 'array', items: { type: 'string' } },
        createdAt: time,
      },
      required: ['principal', 'rights', 'createdAt'],
    },
    ShareList: { type: 'object', properties: { data: { type: 'array', items: schemaRef('Share') } } },
    AccessExplanation: {
      type: 'object',
      properties: {
        entity: { type: 'string' },
        id: { type: 'string', format: 'uuid' },
        privileges: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            properties: {
              allowed: { type: 'boolean' },
              reason: { type: 'string' },
              role: { type: 'string' },
              level: level,
              rule: { type: 'boolean', description: 'A row rule decided it' },
              share: { type: 'boolean', description: 'A share grants it' },
            },
            required: ['allowed', 'reason'],
          },
        },
        hiddenFields: {
          type: 'array',
          items: { type: 'string' },
          description: 'Secured fields hidden from the explained user, named only to holders of the metadata privilege',
        },
        readOnlyFields: {
          type: 'array',
          items: { type: 'string' },
          description: 'Secured fields the explained user reads but may not change',
        },
      },
      required: ['entity', 'id', 'privileges', 'hiddenFields', 'readOnlyFields'],
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
        roles: {
          type: ['array', 'null'],
          items: { type: 'string' },
          description: "Role names the key is restricted to; null: all of its user's roles",
        },
      },
      required: ['id', 'name', 'createdAt', 'expiresAt', 'revokedAt', 'lastUsedAt', 'roles'],
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
        roles: { type: 'array', items: { type: 'string' }, description: 'Role names held directly' },
        teams: { type: 'array', items: { type: 'string' }, description: 'Team names' },
        attributes: { type: 'object', description: 'What row rules read as $user.<name>' },
        createdAt: time,
        updatedAt: time,
      },
      required: ['id', 'email', 'displayName', 'disabled', 'roles', 'teams', 'attributes', 'createdAt', 'updatedAt'],
    },
    UserAccountList: { type: 'object', properties: { data: { type: 'array', items: schemaRef('UserAccount') } } },
  };
}
