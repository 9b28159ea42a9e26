/**
 * The model as the UI knows it: entities (with navigations), field types, many-to-many
 * relationships and shared choice sets, loaded once and reloaded after every metadata change.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, toProblem } from './api.ts';
import type {
  ChoiceOption,
  ChoiceSetDef,
  EntityDef,
  FieldCapability,
  FieldDef,
  FieldTypeInfo,
  FieldTypeName,
  Problem,
  RelationshipDef,
} from './types.ts';

export interface Catalog {
  entities: EntityDef[];
  fieldTypes: FieldTypeInfo[];
  relationships: RelationshipDef[];
  choiceSets: ChoiceSetDef[];
}

interface CatalogState {
  catalog: Catalog | undefined;
  problem: Problem | undefined;
  refresh(): Promise<void>;
}

const CatalogContext = createContext<CatalogState | undefined>(undefined);

export function CatalogProvider({ children }: { children: ReactNode }) {
  const [catalog, setCatalog] = useState<Catalog>();
  const [problem, setProblem] = useState<Problem>();

  const refresh = useCallback(async () => {
    try {
      const [entities, fieldTypes, relationships, choiceSets] = await Promise.all([
        api.entities(),
        api.fieldTypes(),
        api.relationships(),
        api.choiceSets(),
      ]);
      entities.sort((a, b) => a.displayName.localeCompare(b.displayName));
      setCatalog({ entities, fieldTypes, relationships, choiceSets });
      setProblem(undefined);
    } catch (error) {
      setProblem(toProblem(error));
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const value = useMemo(() => ({ catalog, problem, refresh }), [catalog, problem, refresh]);
  return <CatalogContext.Provider value={value}>{children}</CatalogContext.Provider>;
}

export function useCatalogState(): CatalogState {
  const state = useContext(CatalogContext);
  if (!state) throw new Error('useCatalog outside CatalogProvider');
  return state;
}

/** The loaded catalog (pages render only once it is there). */
export function useCatalog(): Catalog & { refresh(): Promise<void> } {
  const { catalog, refresh } = useCatalogState();
  if (!catalog) throw new Error('catalog not loaded');
  return { ...catalog, refresh };
}

export function entityOf(catalog: Catalog, name: string): EntityDef | undefined {
  return catalog.entities.find((e) => e.name === name);
}

/** Whether fields of `type` have a capability, as GET /api/metadata/field-types publishes it. */
export function can(catalog: Catalog, type: FieldTypeName, capability: FieldCapability): boolean {
  return fieldTypeOf(catalog, type)?.capabilities[capability] === true;
}

/** The types with a capability, in the server's order. */
export function typesWith(catalog: Catalog, capability: FieldCapability): FieldTypeName[] {
  return catalog.fieldTypes.filter((t) => t.capabilities[capability]).map((t) => t.name);
}

export function fieldTypeOf(catalog: Catalog, type: FieldTypeName): FieldTypeInfo | undefined {
  return catalog.fieldTypes.find((t) => t.name === type);
}

/** A choice field's options: inline, or from its shared choice set. */
export function choiceOptions(catalog: Catalog, field: FieldDef): ChoiceOption[] {
  if (field.options) return field.options;
  if (field.choiceSet) return catalog.choiceSets.find((s) => s.name === field.choiceSet)?.options ?? [];
  return [];
}

/** A field type's name for people ("Long text"), as the server publishes it. */
export function typeLabel(catalog: Catalog, type: FieldTypeName): string {
  return fieldTypeOf(catalog, type)?.presentation.label ?? type;
}

/** System columns every record has, with their filter/sort types. */
export const SYSTEM_COLUMNS: { name: string; label: string; type: 'uuid' | 'datetime' | 'integer' }[] = [
  { name: 'id', label: 'Id', type: 'uuid' },
  { name: 'created_at', label: 'Created at', type: 'datetime' },
  { name: 'updated_at', label: 'Updated at', type: 'datetime' },
  { name: 'version', label: 'Version', type: 'integer' },
];
