/**
 * The server's validation messages for record fields, in words: the one place that turns
 * `must match pattern "^[hH][tT]…"` into "must be an http(s) URL". A field's type (from the
 * catalog's field types, as the server publishes them) decides what its own format or pattern
 * means; a pattern an admin set on the field is quoted, since the admin wrote it. Messages it
 * does not know pass through unchanged.
 */
import type { FieldDef, Problem } from './types.ts';

/** The field an error is about: its own pattern, and what its type's values must look like (presentation.shape). */
type FieldShape = Pick<FieldDef, 'pattern'> & { readonly shape?: string };

const unquote = (text: string) => {
  try {
    return JSON.parse(text) as string;
  } catch {
    return text.slice(1, -1);
  }
};

/** Ajv's type errors: "must be string", "must be integer or null". */
const JSON_TYPE_MESSAGE =
  /^must be (string|number|integer|boolean|object|array|null)( or (string|number|integer|boolean|object|array|null))*$/;

/** One server message about a field's value, in words (`field` undefined: no type to go by). */
export function fieldErrorMessage(field: FieldShape | undefined, message: string): string {
  const shape = field?.shape;
  let m: RegExpMatchArray | null;
  if ((m = message.match(/^must match pattern ("(?:[^"\\]|\\.)*")$/))) {
    const pattern = unquote(m[1]!);
    if (field?.pattern !== undefined && field.pattern === pattern) return `must match the pattern ${pattern}`;
    return shape ?? `must match the pattern ${pattern}`;
  }
  if ((m = message.match(/^must match format "(.*)"$/))) return shape ?? `must be a valid ${m[1]}`;
  if ((m = message.match(/^must NOT have more than (\d+) characters$/))) return `must be at most ${m[1]} characters`;
  if ((m = message.match(/^must NOT have fewer than (\d+) characters$/))) return `must be at least ${m[1]} characters`;
  if ((m = message.match(/^must NOT have more than (\d+) items$/))) return `must have at most ${m[1]} values`;
  if ((m = message.match(/^must NOT have fewer than (\d+) items$/))) return `must have at least ${m[1]} values`;
  if ((m = message.match(/^must be (<=|>=|<|>) (.+)$/))) {
    const words = { '<=': 'at most', '>=': 'at least', '<': 'less than', '>': 'more than' }[
      m[1] as '<=' | '>=' | '<' | '>'
    ];
    return `must be ${words} ${m[2]}`;
  }
  if (/^must have required property /.test(message)) return 'is required';
  if (message === 'must be equal to one of the allowed values') return shape ?? 'must be one of the allowed values';
  // JSON types ("must be string", "must be integer or null"): say what the field holds instead
  if (JSON_TYPE_MESSAGE.test(message)) return shape ?? message;
  return message;
}

/**
 * A refused record write with its field errors in words: `errors[].message` rewritten, and the
 * detail's "/path message" list rewritten to "Label message" (unknown paths keep their path), each
 * said once (an invalid URL fails both its format and its pattern). `fieldOf` finds the field an
 * error's path names, `shapeOf` what its type's values must look like (GET /api/metadata/field-types).
 */
export function humanizeRecordProblem(
  problem: Problem,
  fieldOf: (path: string) => FieldDef | undefined,
  shapeOf: (type: FieldDef['type']) => string | undefined,
): Problem {
  if (!problem.errors?.length) return problem;
  const said: string[] = [];
  const errors: NonNullable<Problem['errors']> = [];
  for (const e of problem.errors) {
    const field = fieldOf(e.path);
    const message = fieldErrorMessage(field && { pattern: field.pattern, shape: shapeOf(field.type) }, e.message);
    const sentence = `${field ? field.displayName : e.path} ${message}`;
    if (said.includes(sentence)) continue;
    said.push(sentence);
    errors.push({ path: e.path, message });
  }
  // the server's detail is "<what>: <path> <message>; <path> <message>…"
  const list = problem.errors.map((e) => `${e.path} ${e.message}`).join('; ');
  const at = problem.detail?.lastIndexOf(list) ?? -1;
  const detail =
    at >= 0 && problem.detail!.length === at + list.length
      ? problem.detail!.slice(0, at) + said.join('; ')
      : problem.detail;
  return { ...problem, detail, errors };
}
