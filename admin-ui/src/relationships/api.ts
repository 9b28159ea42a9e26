/**
 * The relationship API: a tracked record's timeline and signals, the today list, alert templates,
 * tracking settings, logging an activity, and importing a file of activities (uploaded with
 * XMLHttpRequest, whose upload reports its progress, then followed as a job).
 */
import { ApiError, query, request } from '../api.ts';
import type { DataRecord, Problem } from '../types.ts';
import type {
  ActivityInput,
  AlertInput,
  AlertTemplate,
  ImportJob,
  ImportRequest,
  RelationshipEntity,
  Signals,
  TimelinePage,
  TodayItem,
  TrackingChange,
} from './types.ts';
import type { Rule } from '../automation/types.ts';

const enc = encodeURIComponent;
const recordPath = (entity: string, id: string) => `/api/data/${enc(entity)}/${enc(id)}`;

/** Media types the import accepts as they are; any other file goes as application/octet-stream. */
const IMPORT_MEDIA_TYPES = new Set(['application/mbox', 'text/calendar', 'text/csv', 'text/plain']);

export const relationshipsApi = {
  timeline: (entity: string, id: string, params: { limit?: number; cursor?: string } = {}) =>
    request<TimelinePage>('GET', `${recordPath(entity, id)}/timeline${query(params)}`),
  signals: (entity: string, id: string) => request<Signals>('GET', `${recordPath(entity, id)}/signals`),
  /** Records an activity regarding a record (its signals are recomputed in the same transaction). */
  logActivity: (body: ActivityInput) => request<DataRecord>('POST', '/api/data/activity', { body }),

  today: (params: { owner?: string; limit?: number } = {}) =>
    request<{ data: TodayItem[] }>('GET', `/api/relationships/today${query(params)}`).then((r) => r.data),

  alertTemplates: () =>
    request<{ data: AlertTemplate[] }>('GET', '/api/relationships/alert-templates').then((r) => r.data),
  /** Switches an alert on for a tracked entity: answers the automation rule it made. */
  enableAlert: (body: AlertInput) => request<Rule>('POST', '/api/relationships/alerts', { body }),
  updateTracking: (entity: string, body: TrackingChange) =>
    request<RelationshipEntity>('PATCH', `/api/metadata/entities/${enc(entity)}`, { body }),

  job: (id: string) => request<ImportJob>('GET', `/api/activities/import/${enc(id)}`),
};

export interface Upload {
  /** The import job, once the server has the whole file. */
  done: Promise<ImportJob>;
  abort(): void;
}

/**
 * Sends a file to POST /api/activities/import with XMLHttpRequest (fetch cannot report an
 * upload's progress); `onProgress` gets the bytes sent so far. A refusal rejects with its problem.
 */
export function uploadImport(
  file: File,
  params: ImportRequest,
  onProgress: (sent: number, total: number) => void,
): Upload {
  const xhr = new XMLHttpRequest();
  const url = `/api/activities/import${query({
    format: params.format,
    own: params.own.join(','),
    regarding: params.regarding,
  })}`;
  const done = new Promise<ImportJob>((resolve, reject) => {
    xhr.open('POST', url);
    xhr.setRequestHeader('accept', 'application/json, application/problem+json');
    xhr.setRequestHeader('content-type', IMPORT_MEDIA_TYPES.has(file.type) ? file.type : 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      const parsed = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300 && isJobAnswer(parsed)) resolve(parsed.job);
      else reject(new ApiError(problemOf(parsed, xhr)));
    };
    xhr.onerror = () => reject(new TypeError('the upload failed'));
    xhr.onabort = () => reject(new ApiError({ title: 'Upload cancelled', status: 0 }));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function isJobAnswer(value: unknown): value is { job: ImportJob } {
  return typeof value === 'object' && value !== null && 'job' in value && typeof value.job === 'object';
}

function problemOf(parsed: unknown, xhr: XMLHttpRequest): Problem {
  if (typeof parsed === 'object' && parsed !== null && 'title' in parsed) return parsed as Problem;
  return {
    title: xhr.statusText || 'Upload failed',
    status: xhr.status,
    detail: xhr.responseText.slice(0, 500) || undefined,
  };
}
