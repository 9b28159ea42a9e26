/** The columns a grid can show: an entity's fields and the system columns, with their types. */
import { can, choiceOptions, fieldTypeOf, SYSTEM_COLUMNS, type Catalog } from '../catalog.tsx';
import type { ColumnWidth } from './column-layout.ts';
import type { ChoiceOption, EntityDef, FieldDef, FieldTypeName, FilterOperator } from '../types.ts';

export interface Column {
  name: string;
  label: string;
  /** Field type, or the type of a system column. */
  type: FieldTypeName;
  system: boolean;
  field?: FieldDef;
  options?: ChoiceOption[];
  /** For lookups: the target entity. */
  target?: EntityDef;
  /** Its grid width (the field type's presentation). */
  width: ColumnWidth;
  sortable: boolean;
  /** Numbers: right-aligned (the type's `numeric` capability). */
  numeric: boolean;
  operators: FilterOperator[];
}

/** A grid column's width, as the field type's presentation says (a shared minimum when unknown). */
function widthOf(catalog: Catalog, type: FieldTypeName): ColumnWidth {
  return fieldTypeOf(catalog, type)?.presentation.width ?? { min: 140 };
}

export function columnsOf(catalog: Catalog, entity: EntityDef): Column[] {
  const fields: Column[] = entity.fields.map((f) => ({
    name: f.name,
    label: f.displayName,
    type: f.type,
    system: false,
    field: f,
    options: f.type === 'choice' || f.type === 'multiChoice' ? choiceOptions(catalog, f) : undefined,
    target: f.type === 'lookup' ? catalog.entities.find((e) => e.name === f.target) : undefined,
    sortable: can(catalog, f.type, 'sortable'),
    numeric: can(catalog, f.type, 'numeric'),
    operators: fieldTypeOf(catalog, f.type)?.filterOperators ?? [],
    width: widthOf(catalog, f.type),
  }));
  const system: Column[] = SYSTEM_COLUMNS.map((s) => ({
    name: s.name,
    label: s.label,
    type: s.type === 'integer' ? 'integer' : s.type,
    system: true,
    sortable: true,
    numeric: can(catalog, s.type, 'numeric'),
    operators: fieldTypeOf(catalog, s.type)?.filterOperators ?? [],
    width: widthOf(catalog, s.type),
  }));
  return [...fields, ...system];
}

/** The default visible columns: the primary field first, then the next fields (not JSON or long text). */
export function defaultColumns(entity: EntityDef): string[] {
  const rest = entity.fields
    .filter((f) => f.name !== entity.primaryField && f.type !== 'json' && f.type !== 'longText')
    .map((f) => f.name);
  return [entity.primaryField, ...rest.slice(0, 6), 'updated_at'];
}

const storageKey = (entity: string) => `xrm-admin:columns:${entity}`;

export function loadColumns(entity: EntityDef, all: Column[]): string[] {
  try {
    const saved = JSON.parse(window.localStorage.getItem(storageKey(entity.name)) ?? 'null') as unknown;
    if (Array.isArray(saved)) {
      const valid = saved.filter((n): n is string => typeof n === 'string' && all.some((c) => c.name === n));
      if (valid.length) return valid;
    }
  } catch {
    // unreadable preference: fall back to the default
  }
  return defaultColumns(entity);
}

export function saveColumns(entity: string, columns: string[]): void {
  try {
    window.localStorage.setItem(storageKey(entity), JSON.stringify(columns));
  } catch {
    // storage unavailable (private mode): the choice lasts for this page only
  }
}
