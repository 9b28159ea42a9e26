/** A PostgreSQL array literal of these strings (for one `$n::text[]` or `$n::uuid[]` parameter). */
export function pgTextArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}
