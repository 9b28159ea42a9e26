/** How the UI names an entity's navigations (the inverse of a lookup, a many-to-many relationship). */
import type { Catalog } from '../catalog.tsx';
import { humanize } from '../forms.ts';
import type { Navigation } from '../types.ts';

/**
 * A navigation's title: the relation's own label, never the other entity's plural (the inverse
 * `reports` of employee.manager lists employees, but it is "Reports"). A many-to-many navigation
 * takes its relationship's label; an inverse takes a label when the API sends one, else its name
 * humanized.
 */
export function navigationLabel(catalog: Catalog, navigation: Navigation): string {
  const own = (navigation as Navigation & { displayName?: string }).displayName;
  if (own) return own;
  if (navigation.kind === 'manyToMany') {
    const relationship = catalog.relationships.find((r) => r.name === navigation.relationship);
    if (relationship?.displayName) return relationship.displayName;
  }
  return humanize(navigation.name);
}
