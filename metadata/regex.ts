/**
 * Regular expressions admins write (a field's `pattern`) run on RE2's linear-time engine (re2js,
 * pure JavaScript): a value is matched in time proportional to its length whatever the pattern,
 * so `^(a+)+$` cannot stall the server the way it stalls a backtracking engine. RE2 has no
 * lookaround and no backreferences; a pattern using them is refused when the field is saved.
 */
import { RE2JS } from 're2js';

/** A pattern compiled for RE2 (JavaScript escapes such as \u0041 translated). Throws when RE2 cannot run it. */
export function compilePattern(pattern: string): RE2JS {
  return RE2JS.compile(RE2JS.translateRegExp(pattern));
}

/** Why a pattern cannot be a field's pattern, or undefined when it can. */
export function patternProblem(pattern: string): string | undefined {
  try {
    // the admin UI checks values in the browser with the JavaScript engine: both must accept it
    new RegExp(pattern, 'u');
    compilePattern(pattern);
    return undefined;
  } catch {
    return 'is not a regular expression RE2 can run (lookahead, lookbehind and backreferences are not supported)';
  }
}

/**
 * Ajv's `code.regExp` engine: every `pattern` keyword is matched by RE2. Ajv keys compiled
 * patterns by `toString()`, so each must name its own pattern.
 */
export const re2Engine = Object.assign(
  (pattern: string): { test: (value: string) => boolean; toString: () => string } => {
    const re = compilePattern(pattern);
    return { test: (value: string) => re.test(value), toString: () => `re2:${pattern}` };
  },
  { code: 'require("re2js").RE2JS' },
);
