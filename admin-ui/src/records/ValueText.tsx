/**
 * A field's value for display: the text of formatValue, with dates and datetimes as <time> (ISO
 * tooltip), a reference as a link to its record and a party list as its parties with their records.
 */
import { fieldTypeOf, useCatalog } from '../catalog.tsx';
import { Temporal } from '../dates.tsx';
import { PartyList, ReferenceLink } from '../relationships/parts.tsx';
import type { ChoiceOption, FieldTypeName } from '../types.ts';
import { formatValue } from './values.ts';

export interface ValueTextProps {
  type: FieldTypeName;
  value: unknown;
  options?: readonly ChoiceOption[];
  /** For expanded lookups: the target's primary field. */
  primary?: string;
  /** Shown when the value is empty. */
  empty?: string;
}

export function ValueText({ type, value, options, primary, empty = '—' }: ValueTextProps) {
  const catalog = useCatalog();
  const text = formatValue(type, value, options, primary);
  if (text === '')
    return (
      <span className="muted" aria-label="empty">
        {empty}
      </span>
    );
  if (type === 'date' || type === 'datetime') return <Temporal kind={type} value={value} />;
  if (type === 'reference') return <ReferenceLink value={value} />;
  if (type === 'partyList') return <PartyList value={value} />;
  // a unit the type's presentation names ("%"), after the value
  const suffix = fieldTypeOf(catalog, type)?.presentation.suffix;
  return <>{suffix ? `${text}${suffix}` : text}</>;
}
