/**
 * How wide a grid column is, by field type (each type's `presentation.width`, from the server):
 * short values of known shape (dates, numbers, flags, ids) get a fixed width; free text shares
 * what is left, down to a minimum. The grid's table is
 * never narrower than the sum, so many columns scroll inside the grid instead of squeezing.
 */
import type { Column } from './columns.ts';

/** Widths in CSS pixels, padding included (cells have 12 px each side). */
export type ColumnWidth = { readonly fixed: number } | { readonly min: number };

/** The primary field leads the row: it gets at least this much. */
const PRIMARY_MIN = 160;
/** The "Open" link column shown when the primary field is hidden. */
export const OPEN_COLUMN_WIDTH = 70;

export interface GridLayout {
  /** Per column: a fixed width, or undefined to share the rest. */
  widths: (number | undefined)[];
  /**
   * The table's minimum width: the fixed widths plus, since shared columns get equal parts (fixed
   * table layout), the largest shared minimum once per shared column.
   */
  minWidth: number;
}

export function gridLayout(columns: readonly Column[], primaryField: string, openColumn: boolean): GridLayout {
  let fixed = openColumn ? OPEN_COLUMN_WIDTH : 0;
  let shared = 0;
  let sharedMin = 0;
  const widths = columns.map((c) => {
    const width = c.width;
    if ('fixed' in width) {
      fixed += width.fixed;
      return width.fixed;
    }
    shared += 1;
    sharedMin = Math.max(sharedMin, c.name === primaryField ? Math.max(width.min, PRIMARY_MIN) : width.min);
    return undefined;
  });
  return { widths, minWidth: fixed + shared * sharedMin };
}
