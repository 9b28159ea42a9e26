import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, XrmError, type ErrorCode } from '../metadata/errors.ts';
import { LIMITS } from '../server/limits.ts';

describe('error codes', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

  it('documents every code with its status and title in docs/errors.md', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(doc, code).toContain(`| \`${code}\` | ${spec.status} | ${spec.title} |`);
    }
    const documented = [...doc.matchAll(/\| `(XRM_ERR_[A-Z_]+)` \|/g)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('renders problem+json with type, title, status, detail, code and field errors', () => {
    const problem = new XrmError('XRM_ERR_RECORD_INVALID', 'bad', {
      errors: [{ path: '/x', message: 'is required' }],
    }).toProblem('/api/data/x');
    expect(problem).toEqual({
      type: 'urn:xrm:problem:record-invalid',
      title: 'Invalid record',
      status: 400,
      detail: 'bad',
      code: 'XRM_ERR_RECORD_INVALID',
      instance: '/api/data/x',
      errors: [{ path: '/x', message: 'is required' }],
    });
  });

  it('gives every code a distinct problem type', () => {
    const types = (Object.keys(ERROR_CODES) as ErrorCode[]).map((c) => new XrmError(c, '').toProblem().type);
    expect(new Set(types).size).toBe(types.length);
  });

  it('lists every limit of server/limits.ts with its value in docs/errors.md', () => {
    for (const [name, value] of Object.entries(LIMITS)) expect(doc, name).toContain(`| \`${name}\` | ${value} |`);
    const documented = [...doc.matchAll(/^\| `([a-zA-Z]+)` \| \d+ \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(LIMITS).sort());
  });
});
