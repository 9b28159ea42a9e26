/**
 * The durable job queue under /api/jobs: what is queued, running, failing or dead-lettered, and
 * running a failed or dead job again.
 */
import type { FastifyInstance } from 'fastify';
import { INVALID_REQUEST } from '../openapi/problems.ts';
import { jsonResponse } from '../openapi/responses.ts';
import { JOB_KINDS, JOB_STATES, type JobKind, type JobState } from '../jobs/queue.ts';
import type { Services } from '../services.ts';
import { cursorQuery, nameParams } from './route-schemas.ts';

const tags = ['jobs'];

export async function jobRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { jobs } = services;

  app.get<{ Querystring: { state?: JobState; kind?: JobKind; limit?: number; cursor?: string } }>(
    '/',
    {
      schema: {
        tags,
        summary: 'Jobs, newest first: async plugin steps and webhook deliveries, by state',
        operationId: 'listJobs',
        querystring: cursorQuery({
          state: { type: 'string', enum: [...JOB_STATES] },
          kind: { type: 'string', enum: [...JOB_KINDS] },
        }),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('A page of jobs', 'JobPage') },
          errors: [...INVALID_REQUEST],
        },
      },
    },
    async (req) => jobs.list({ ...req.query, limit: req.query.limit ?? 50 }),
  );

  app.get(
    '/summary',
    {
      schema: {
        tags,
        summary: 'How many jobs are in each state',
        operationId: 'getJobSummary',
        'x-xrm-operation': {
          responses: {
            '200': jsonResponse('Counts per state', {
              type: 'object',
              properties: Object.fromEntries(JOB_STATES.map((s) => [s, { type: 'integer' }])),
            }),
          },
          errors: [],
        },
      },
    },
    async () => jobs.counts(),
  );

  app.get<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags,
        summary: 'One job',
        operationId: 'getJob',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The job', 'Job') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_JOB_NOT_FOUND'],
        },
      },
    },
    async (req) => jobs.get(req.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/:id/retry',
    {
      schema: {
        tags,
        summary: 'Run a failed or dead job again now, with a fresh set of attempts',
        operationId: 'retryJob',
        params: nameParams('id'),
        'x-xrm-operation': {
          responses: { '200': jsonResponse('The job, queued again', 'Job') },
          errors: [...INVALID_REQUEST, 'XRM_ERR_JOB_NOT_FOUND', 'XRM_ERR_JOB_NOT_RETRYABLE'],
        },
      },
    },
    async (req) => {
      const job = await jobs.retry(req.params.id);
      services.worker?.wake();
      req.log.info({ job: job.id }, 'job queued again by hand');
      return job;
    },
  );
}
