/**
 * The platform's HTTP API. Every refusal arrives as an RFC 9457 problem and is thrown as an
 * ApiError carrying it, so forms can show `detail` and map `errors[].path` to their controls.
 */
import type {
  AccessExplanation,
  AlternateKeyDef,
  AlternateKeyInput,
  ApiKey,
  ApiKeyCreated,
  ApiKeyInput,
  ChangeEntry,
  ChoiceSetChange,
  ChoiceSetDef,
  ChoiceSetInput,
  DataRecord,
  EntityDef,
  EntitySchema,
  FieldDef,
  FieldTypeInfo,
  HistoryEntry,
  IndexDef,
  IndexInput,
  Job,
  JobKind,
  JobState,
  JobSummary,
  ListResponse,
  LoginResult,
  Me,
  PluginInfo,
  Problem,
  RelationshipDef,
  RelationshipInput,
  Role,
  RoleInput,
  SetupInput,
  Share,
  ShareInput,
  Team,
  TeamInput,
  UserAccount,
  UserChange,
  UserInput,
  Webhook,
  WebhookChange,
  WebhookCreated,
  WebhookDelivery,
  WebhookInput,
  WebhookSecret,
} from './types.ts';

export class ApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiError';
    this.problem = problem;
  }
  get status(): number {
    return this.problem.status;
  }
}

/** Any thrown value as a problem document (network failures included). */
export function toProblem(error: unknown): Problem {
  if (error instanceof ApiError) return error.problem;
  if (error instanceof TypeError)
    return { title: 'Network error', status: 0, detail: `The server could not be reached (${error.message}).` };
  return { title: 'Unexpected error', status: 0, detail: error instanceof Error ? error.message : String(error) };
}

const unauthorized = new Set<(problem: Problem) => void>();

/**
 * Calls `listener` with every 401 outside /api/auth/ (whose own 401s are a form's answer: wrong
 * password, wrong setup token): the session ended, or there never was one. Returns the unsubscribe.
 */
export function onUnauthorized(listener: (problem: Problem) => void): () => void {
  unauthorized.add(listener);
  return () => unauthorized.delete(listener);
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(path, { method, headers, body, signal: options.signal });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const problem = (parsed && typeof parsed === 'object' && 'title' in parsed ? parsed : undefined) as
      | Problem
      | undefined;
    const error = new ApiError(
      problem ?? {
        title: response.statusText || 'Request failed',
        status: response.status,
        detail: text.slice(0, 500) || undefined,
      },
    );
    if (response.status === 401 && !path.startsWith('/api/auth/')) unauthorized.forEach((l) => l(error.problem));
    throw error;
  }
  return parsed as T;
}

const enc = encodeURIComponent;

export function query(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}

export interface ListParams {
  select?: string;
  expand?: string;
  filter?: string;
  search?: string;
  sort?: string;
  limit?: number;
  cursor?: string;
  count?: boolean;
}

// metadata bodies the forms assemble key by key (what was filled in) travel as `unknown`; the
// server validates every body against its schema (EntityInput, FieldInput, FieldChange, ...)
export const api = {
  // metadata
  fieldTypes: () => request<{ data: FieldTypeInfo[] }>('GET', '/api/metadata/field-types').then((r) => r.data),
  entities: () => request<{ data: EntityDef[] }>('GET', '/api/metadata/entities').then((r) => r.data),
  entity: (name: string) => request<EntityDef>('GET', `/api/metadata/entities/${enc(name)}`),
  createEntity: (body: unknown) => request<EntityDef>('POST', '/api/metadata/entities', { body }),
  updateEntity: (name: string, body: unknown) =>
    request<EntityDef>('PATCH', `/api/metadata/entities/${enc(name)}`, { body }),
  deleteEntity: (name: string) => request<void>('DELETE', `/api/metadata/entities/${enc(name)}`),
  schema: (name: string, variant: 'create' | 'update' | 'read') =>
    request<EntitySchema>('GET', `/api/metadata/entities/${enc(name)}/schema?variant=${variant}`),
  addField: (entity: string, body: unknown) =>
    request<FieldDef>('POST', `/api/metadata/entities/${enc(entity)}/fields`, { body }),
  updateField: (entity: string, field: string, body: unknown) =>
    request<FieldDef>('PATCH', `/api/metadata/entities/${enc(entity)}/fields/${enc(field)}`, { body }),
  dropField: (entity: string, field: string) =>
    request<void>('DELETE', `/api/metadata/entities/${enc(entity)}/fields/${enc(field)}`),
  addKey: (entity: string, body: AlternateKeyInput) =>
    request<AlternateKeyDef>('POST', `/api/metadata/entities/${enc(entity)}/keys`, { body }),
  dropKey: (entity: string, key: string) =>
    request<void>('DELETE', `/api/metadata/entities/${enc(entity)}/keys/${enc(key)}`),
  indexes: (entity: string) =>
    request<{ data: IndexDef[] }>('GET', `/api/metadata/entities/${enc(entity)}/indexes`).then((r) => r.data),
  /** One index; while it builds, with its progress. */
  index: (entity: string, index: string) =>
    request<IndexDef>('GET', `/api/metadata/entities/${enc(entity)}/indexes/${enc(index)}`),
  /** 201: built (active); 202: building, with `job` (a large PostgreSQL table). */
  addIndex: (entity: string, body: IndexInput) =>
    request<IndexDef>('POST', `/api/metadata/entities/${enc(entity)}/indexes`, { body }),
  dropIndex: (entity: string, index: string) =>
    request<void>('DELETE', `/api/metadata/entities/${enc(entity)}/indexes/${enc(index)}`),
  relationships: () => request<{ data: RelationshipDef[] }>('GET', '/api/metadata/relationships').then((r) => r.data),
  createRelationship: (body: RelationshipInput) =>
    request<RelationshipDef>('POST', '/api/metadata/relationships', { body }),
  deleteRelationship: (name: string) => request<void>('DELETE', `/api/metadata/relationships/${enc(name)}`),
  choiceSets: () => request<{ data: ChoiceSetDef[] }>('GET', '/api/metadata/choice-sets').then((r) => r.data),
  createChoiceSet: (body: ChoiceSetInput) => request<ChoiceSetDef>('POST', '/api/metadata/choice-sets', { body }),
  updateChoiceSet: (name: string, body: ChoiceSetChange) =>
    request<ChoiceSetDef>('PATCH', `/api/metadata/choice-sets/${enc(name)}`, { body }),
  deleteChoiceSet: (name: string) => request<void>('DELETE', `/api/metadata/choice-sets/${enc(name)}`),
  changes: (params: { target?: string; limit?: number; offset?: number }) =>
    request<ListResponse<ChangeEntry>>('GET', `/api/metadata/changes${query(params)}`),

  // data
  list: (entity: string, params: ListParams, signal?: AbortSignal) =>
    request<ListResponse<DataRecord>>(
      'GET',
      `/api/data/${enc(entity)}${query({ ...params, count: params.count ? 'true' : undefined })}`,
      { signal },
    ),
  get: (entity: string, id: string, params: { select?: string; expand?: string } = {}) =>
    request<DataRecord>('GET', `/api/data/${enc(entity)}/${enc(id)}${query(params)}`),
  create: (entity: string, body: unknown) => request<DataRecord>('POST', `/api/data/${enc(entity)}`, { body }),
  update: (entity: string, id: string, body: unknown, version?: number) =>
    request<DataRecord>('PATCH', `/api/data/${enc(entity)}/${enc(id)}`, {
      body,
      headers: version === undefined ? {} : { 'if-match': `"${version}"` },
    }),
  remove: (entity: string, id: string, version?: number) =>
    request<void>('DELETE', `/api/data/${enc(entity)}/${enc(id)}`, {
      headers: version === undefined ? {} : { 'if-match': `"${version}"` },
    }),
  related: (entity: string, id: string, relation: string, params: ListParams) =>
    request<ListResponse<DataRecord>>(
      'GET',
      `/api/data/${enc(entity)}/${enc(id)}/${enc(relation)}` +
        query({ ...params, count: params.count ? 'true' : undefined }),
    ),
  associate: (entity: string, id: string, relation: string, otherId: string) =>
    request<void>('POST', `/api/data/${enc(entity)}/${enc(id)}/${enc(relation)}`, { body: { id: otherId } }),
  disassociate: (entity: string, id: string, relation: string, otherId: string) =>
    request<void>('DELETE', `/api/data/${enc(entity)}/${enc(id)}/${enc(relation)}/${enc(otherId)}`),
  /** How many records an entity has (for confirmations of destructive changes). */
  count: (entity: string, filter?: string) =>
    request<ListResponse<DataRecord>>(
      'GET',
      `/api/data/${enc(entity)}${query({ select: 'id', limit: 1, count: 'true', filter })}`,
    ).then((r) => r.totalCount ?? 0),

  /** A record's audit trail, newest first. */
  history: (entity: string, id: string, params: { limit?: number; cursor?: string } = {}) =>
    request<ListResponse<HistoryEntry>>('GET', `/api/data/${enc(entity)}/${enc(id)}/history${query(params)}`),

  /** Who a record is shared with; sharing (rights: [] withdraws a share) answers them all. */
  shares: (entity: string, id: string) =>
    request<{ data?: Share[] }>('GET', `/api/data/${enc(entity)}/${enc(id)}/shares`).then((r) => r.data ?? []),
  share: (entity: string, id: string, body: ShareInput) =>
    request<{ data?: Share[] }>('POST', `/api/data/${enc(entity)}/${enc(id)}/share`, { body }).then(
      (r) => r.data ?? [],
    ),
  /** Why the caller can or cannot use each privilege on one record. */
  explain: (entity: string, id: string) =>
    request<AccessExplanation>('GET', `/api/security/explain${query({ entity, id })}`),

  // the write pipeline
  plugins: () => request<{ data?: PluginInfo[] }>('GET', '/api/plugins').then((r) => r.data ?? []),
  setPluginEnabled: (name: string, enabled: boolean) =>
    request<PluginInfo>('POST', `/api/plugins/${enc(name)}/${enabled ? 'enable' : 'disable'}`),
  jobs: (params: { state?: JobState; kind?: JobKind; limit?: number; cursor?: string }) =>
    request<ListResponse<Job>>('GET', `/api/jobs${query(params)}`),
  jobSummary: () => request<JobSummary>('GET', '/api/jobs/summary'),
  retryJob: (id: string) => request<Job>('POST', `/api/jobs/${enc(id)}/retry`),
  webhooks: () => request<{ data?: Webhook[] }>('GET', '/api/webhooks').then((r) => r.data ?? []),
  createWebhook: (body: WebhookInput) => request<WebhookCreated>('POST', '/api/webhooks', { body }),
  updateWebhook: (id: string, body: WebhookChange) => request<Webhook>('PATCH', `/api/webhooks/${enc(id)}`, { body }),
  deleteWebhook: (id: string) => request<void>('DELETE', `/api/webhooks/${enc(id)}`),
  webhookDeliveries: (id: string, params: { limit?: number; cursor?: string } = {}) =>
    request<ListResponse<WebhookDelivery>>('GET', `/api/webhooks/${enc(id)}/deliveries${query(params)}`),
  testWebhook: (id: string) => request<WebhookDelivery>('POST', `/api/webhooks/${enc(id)}/test`),
  rotateWebhookSecret: (id: string) => request<WebhookSecret>('POST', `/api/webhooks/${enc(id)}/rotate-secret`),

  // security: sign-in, setup, the caller, users, teams, roles and the caller's API keys
  login: (email: string, password: string) =>
    request<LoginResult>('POST', '/api/auth/login', { body: { email, password } }),
  logout: () => request<void>('POST', '/api/auth/logout'),
  me: () => request<Me>('GET', '/api/auth/me'),
  setupState: () => request<{ required: boolean }>('GET', '/api/auth/setup'),
  setup: (body: SetupInput) => request<LoginResult>('POST', '/api/auth/setup', { body }),
  users: () => request<{ data?: UserAccount[] }>('GET', '/api/users').then((r) => r.data ?? []),
  createUser: (body: UserInput) => request<UserAccount>('POST', '/api/users', { body }),
  updateUser: (id: string, body: UserChange) => request<UserAccount>('PATCH', `/api/users/${enc(id)}`, { body }),
  teams: () => request<{ data?: Team[] }>('GET', '/api/teams').then((r) => r.data ?? []),
  createTeam: (body: TeamInput) => request<Team>('POST', '/api/teams', { body }),
  updateTeam: (id: string, body: Partial<TeamInput>) => request<Team>('PATCH', `/api/teams/${enc(id)}`, { body }),
  deleteTeam: (id: string) => request<void>('DELETE', `/api/teams/${enc(id)}`),
  roles: () => request<{ data?: Role[] }>('GET', '/api/roles').then((r) => r.data ?? []),
  role: (id: string) => request<Role>('GET', `/api/roles/${enc(id)}`),
  createRole: (body: RoleInput) => request<Role>('POST', '/api/roles', { body }),
  replaceRole: (id: string, body: RoleInput) => request<Role>('PUT', `/api/roles/${enc(id)}`, { body }),
  deleteRole: (id: string) => request<void>('DELETE', `/api/roles/${enc(id)}`),
  apiKeys: () => request<{ data?: ApiKey[] }>('GET', '/api/api-keys').then((r) => r.data ?? []),
  createApiKey: (body: ApiKeyInput) => request<ApiKeyCreated>('POST', '/api/api-keys', { body }),
  revokeApiKey: (id: string) => request<void>('DELETE', `/api/api-keys/${enc(id)}`),
};
