/**
 * Security roles under /api/roles and teams under /api/teams (both need the `users` privilege,
 * principal-hook.ts API_GUARDS). Changes take effect on the next request of everyone holding them.
 */
import type { FastifyInstance } from 'fastify';
import { INVALID_REQUEST, JSON_BODY } from '../openapi/problems.ts';
import { createdResponse, jsonResponse, noContent } from '../openapi/responses.ts';
import { ROLE_INPUT, TEAM_INPUT } from '../openapi/security-schemas.ts';
import { nameParams } from '../rest/route-schemas.ts';
import type { Directory, RoleInput, TeamInput } from './directory.ts';

const tags = ['auth'];
const ROLE_ERRORS = [...JSON_BODY, 'XRM_ERR_RECORD_DUPLICATE'] as const;

export async function roleRoutes(app: FastifyInstance, { directory }: { directory: Directory }): Promise<void> {
  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'Every security role, the built-in System Administrator first',
        operationId: 'listRoles',
        'x-xrm-operation': { responses: { '200': jsonResponse('The roles', 'RoleList') }, errors: [] },
      },
    },
    async () => ({ data: await directory.listRoles() }),
  );

  app.post<{ Body: RoleInput }>(
    '/',
    {
      schema: {
        tags,
        summary: 'Create a role: privileges per entity at a level, row rules, field permissions, API privileges',
        operationId: 'createRole',
        body: ROLE_INPUT,
        'x-xrm-operation': {
          body: 'RoleInput',
          responses: { '201': createdResponse('The role', 'Role') },
          errors: [...ROLE_ERRORS],
        },
      },
    },
    async (req, reply) => {
      const role = await directory.createRole(req.body);
      req.log.info({ role: role.id, name: role.name }, 'role created');
      return reply.code(201).header('location', `/api/roles/${role.id}`).send(role);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'One role, by id or name',
        operationId: 'getRole',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The role', 'Role') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_ROLE_NOT_FOUND'],
        },
      },
    },
    async (req) => directory.role(req.params.id),
  );

  app.put<{ Params: { id: string }; Body: RoleInput }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Replace a role as a whole (effective on the next request of everyone holding it)',
        operationId: 'replaceRole',
        params: nameParams('id'),
        body: ROLE_INPUT,
        'x-xrm-operation': {
          body: 'RoleInput',
          responses: { '200': jsonResponse('The role, as it now is', 'Role') },
          errors: [...ROLE_ERRORS, 'XRM_ERR_ROLE_NOT_FOUND', 'XRM_ERR_ROLE_BUILT_IN'],
        },
      },
    },
    async (req) => {
      const role = await directory.replaceRole(req.params.id, req.body);
      req.log.info({ role: role.id, name: role.name }, 'role changed');
      return role;
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Delete a role; whoever held it loses what it granted on the next request',
        operationId: 'deleteRole',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '204': noContent('Deleted') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_ROLE_NOT_FOUND', 'XRM_ERR_ROLE_BUILT_IN'],
        },
      },
    },
    async (req, reply) => {
      await directory.deleteRole(req.params.id);
      req.log.info({ role: req.params.id }, 'role deleted');
      return reply.code(204).send();
    },
  );
}

export async function teamRoutes(app: FastifyInstance, { directory }: { directory: Directory }): Promise<void> {
  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'Every team with its members and roles',
        operationId: 'listTeams',
        'x-xrm-operation': { responses: { '200': jsonResponse('The teams', 'TeamList') }, errors: [] },
      },
    },
    async () => ({ data: await directory.listTeams() }),
  );

  app.post<{ Body: TeamInput }>(
    '/',
    {
      schema: {
        tags,
        summary: 'Create a team of users (ids) holding roles (names)',
        operationId: 'createTeam',
        body: { ...TEAM_INPUT, required: ['name'] },
        'x-xrm-operation': {
          body: 'TeamInput',
          responses: { '201': createdResponse('The team', 'Team') },
          errors: [...JSON_BODY, 'XRM_ERR_RECORD_DUPLICATE'],
        },
      },
    },
    async (req, reply) => {
      const team = await directory.createTeam(req.body);
      req.log.info({ team: team.id, name: team.name }, 'team created');
      return reply.code(201).header('location', `/api/teams/${team.id}`).send(team);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'One team, by id or name',
        operationId: 'getTeam',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The team', 'Team') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_TEAM_NOT_FOUND'],
        },
      },
    },
    async (req) => directory.team(req.params.id),
  );

  app.patch<{ Params: { id: string }; Body: TeamInput }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Rename a team, or set its members or roles (each replaced as a whole)',
        operationId: 'updateTeam',
        params: nameParams('id'),
        body: TEAM_INPUT,
        'x-xrm-operation': {
          body: 'TeamInput',
          responses: { '200': jsonResponse('The team, as it now is', 'Team') },
          errors: [...JSON_BODY, 'XRM_ERR_TEAM_NOT_FOUND', 'XRM_ERR_RECORD_DUPLICATE'],
        },
      },
    },
    async (req) => {
      const team = await directory.updateTeam(req.params.id, req.body);
      req.log.info({ team: team.id, changed: Object.keys(req.body) }, 'team changed');
      return team;
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Delete a team; records it owns keep their owner_id (reassign them first)',
        operationId: 'deleteTeam',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '204': noContent('Deleted') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_TEAM_NOT_FOUND'],
        },
      },
    },
    async (req, reply) => {
      await directory.deleteTeam(req.params.id);
      req.log.info({ team: req.params.id }, 'team deleted');
      return reply.code(204).send();
    },
  );
}
