/**
 * The REST filter expression language → the JSON filter form (which `parseFilter` checks against
 * the catalog). Readable in a URL, close to Dataverse's $filter:
 *
 *   status eq 'online' and asset.assigned_to.full_name startsWith 'Ada'
 *   (rating gte 4 or not name icontains 'test') and region in ('emea', 'apac')
 *   reports some (hired_on gte '2024-01-01')          telemetry.temperature eq 21.5
 *
 * Strings are single-quoted ('' escapes a quote); numbers, true, false and null are literals;
 * lists are parenthesized. Keywords and operators are case-insensitive.
 */
import { FILTER_OPERATORS } from '../../metadata/field-type.ts';
import { LIMITS } from '../limits.ts';
import { queryError } from './filter-parse.ts';

type Token =
  | { t: 'ident'; v: string; at: number }
  | { t: 'string'; v: string; at: number }
  | { t: 'number'; v: number; at: number }
  | { t: 'punct'; v: '(' | ')' | ',' | '.'; at: number }
  | { t: 'end'; at: number };

// the expression language spells every operator but jsonPathEq (a path goes in the field: `telemetry.rpm eq 1`)
const OPERATORS = FILTER_OPERATORS.filter((o) => o !== 'jsonPathEq');
const OPERATOR_BY_LOWER = new Map(OPERATORS.map((o) => [o.toLowerCase(), o]));
const QUANTIFIERS = new Set(['some', 'every', 'none']);
const MAX_LENGTH = LIMITS.filterExpressionLength;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',' || c === '.') {
      tokens.push({ t: 'punct', v: c, at: i });
      i++;
    } else if (c === "'") {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= source.length) throw queryError('/filter', `unterminated string starting at character ${start + 1}`);
        if (source[i] === "'") {
          if (source[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += source[i];
        i++;
      }
      tokens.push({ t: 'string', v: value, at: start });
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(source.slice(i));
      if (!m) throw queryError('/filter', `unexpected "${c}" at character ${i + 1}`);
      tokens.push({ t: 'number', v: Number(m[0]), at: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i))!;
      tokens.push({ t: 'ident', v: m[0], at: i });
      i += m[0].length;
    } else {
      throw queryError('/filter', `unexpected "${c}" at character ${i + 1}`);
    }
  }
  tokens.push({ t: 'end', at: source.length });
  return tokens;
}

type JsonFilter = Record<string, unknown>;

/** Parses a filter expression into the JSON filter form. */
export function parseFilterExpression(source: string): JsonFilter {
  if (source.length > MAX_LENGTH) throw queryError('/filter', `is longer than ${MAX_LENGTH} characters`);
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const next = () => tokens[pos++]!;
  const where = (tok: Token) => (tok.t === 'end' ? 'at the end' : `at character ${tok.at + 1}`);
  const isWord = (tok: Token, word: string) => tok.t === 'ident' && tok.v.toLowerCase() === word;
  const expectPunct = (v: string) => {
    const tok = next();
    if (tok.t !== 'punct' || tok.v !== v) throw queryError('/filter', `expected "${v}" ${where(tok)}`);
  };

  function parseOr(): JsonFilter {
    const items = [parseAnd()];
    while (isWord(peek(), 'or')) {
      next();
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { or: items };
  }

  function parseAnd(): JsonFilter {
    const items = [parseUnary()];
    while (isWord(peek(), 'and')) {
      next();
      items.push(parseUnary());
    }
    return items.length === 1 ? items[0]! : { and: items };
  }

  function parseUnary(): JsonFilter {
    if (isWord(peek(), 'not')) {
      next();
      return { not: parseUnary() };
    }
    const tok = peek();
    if (tok.t === 'punct' && tok.v === '(') {
      next();
      const inner = parseOr();
      expectPunct(')');
      return inner;
    }
    return parseCondition();
  }

  function parseLiteral(): unknown {
    const tok = next();
    if (tok.t === 'string' || tok.t === 'number') return tok.v;
    if (tok.t === 'ident') {
      const word = tok.v.toLowerCase();
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
    }
    throw queryError('/filter', `expected a value ('text', a number, true, false or null) ${where(tok)}`);
  }

  function parseList(): unknown[] {
    expectPunct('(');
    const values = [parseLiteral()];
    while (peek().t === 'punct' && (peek() as { v: string }).v === ',') {
      next();
      values.push(parseLiteral());
    }
    expectPunct(')');
    return values;
  }

  function parseCondition(): JsonFilter {
    const first = next();
    if (first.t !== 'ident') throw queryError('/filter', `expected a field name ${where(first)}`);
    const path = [first.v];
    while (peek().t === 'punct' && (peek() as { v: string }).v === '.') {
      next();
      const part = next();
      if (part.t !== 'ident') throw queryError('/filter', `expected a field name after "." ${where(part)}`);
      path.push(part.v);
    }
    const opTok = next();
    if (opTok.t !== 'ident')
      throw queryError('/filter', `expected an operator after "${path.join('.')}" ${where(opTok)}`);
    const word = opTok.v.toLowerCase();
    let leaf: unknown;
    if (QUANTIFIERS.has(word)) {
      expectPunct('(');
      const inner = parseOr();
      expectPunct(')');
      leaf = { [word]: inner };
    } else {
      const op = OPERATOR_BY_LOWER.get(word);
      if (!op)
        throw queryError(
          '/filter',
          `unknown operator "${opTok.v}" ${where(opTok)}; operators: ${OPERATORS.join(', ')}`,
        );
      const listOp = op === 'in' || op === 'nin' || op === 'between' || op === 'containsAny' || op === 'containsAll';
      leaf = { [op]: listOp ? parseList() : parseLiteral() };
    }
    let node: unknown = leaf;
    for (let i = path.length - 1; i >= 0; i--) node = { [path[i]!]: node };
    return node as JsonFilter;
  }

  const result = parseOr();
  const rest = peek();
  if (rest.t !== 'end')
    throw queryError('/filter', `unexpected ${rest.t === 'ident' ? `"${rest.v}"` : 'token'} ${where(rest)}`);
  return result;
}
