/** One-line summaries of field definitions for tables. */
import { choiceOptions, entityOf, type Catalog } from '../catalog.tsx';
import type { FieldDef } from '../types.ts';

export const ON_DELETE_LABELS = {
  restrict: 'Restrict: refuse to delete a referenced record',
  setNull: 'Set null: clear the lookup on the referencing records',
  cascade: 'Cascade: delete the referencing records too',
} as const;

export function describeField(catalog: Catalog, field: FieldDef): string {
  const parts: string[] = [];
  switch (field.type) {
    case 'lookup': {
      const target = entityOf(catalog, field.target ?? '');
      parts.push(`→ ${target?.displayName ?? field.target}`, `on delete: ${field.onDelete ?? 'restrict'}`);
      if (field.inverseName) parts.push(`inverse: ${field.inverseName}`);
      break;
    }
    case 'choice':
    case 'multiChoice': {
      const options = choiceOptions(catalog, field);
      parts.push(
        field.choiceSet
          ? `set ${field.choiceSet} (${options.length})`
          : `${options.length} option${options.length === 1 ? '' : 's'}`,
      );
      break;
    }
    case 'decimal':
      parts.push(`(${field.precision ?? 18}, ${field.scale ?? 2})`);
      break;
    case 'autonumber':
      parts.push(`${field.prefix ?? ''}${'0'.repeat(field.digits ?? 6)}`);
      break;
    default:
      break;
  }
  if (field.maxLength !== undefined) parts.push(`max ${field.maxLength}`);
  if (field.minLength !== undefined) parts.push(`min length ${field.minLength}`);
  if (field.min !== undefined) parts.push(`≥ ${field.min}`);
  if (field.max !== undefined) parts.push(`≤ ${field.max}`);
  if (field.pattern !== undefined) parts.push(`/${field.pattern}/`);
  if (field.default !== undefined) parts.push(`default ${JSON.stringify(field.default)}`);
  return parts.join(' · ');
}
