/**
 * The catalog: every definition, resolved once into an immutable, serializable structure with
 * the derived navigation (lookup inverses, many-to-many sides). server/ and the generators read
 * the catalog, never the metadata tables.
 */
import { withSignalFields } from './signal-fields.ts';
import { XrmError } from './errors.ts';
import type { TypeContext } from './field-type.ts';
import type {
  AutomationRuleDef,
  ChoiceOption,
  ChoiceSetDef,
  EntityDef,
  FieldDef,
  RelationshipDef,
  WebhookDef,
} from './types.ts';

/** A one-to-many navigation: records of `source` whose lookup `field` points here. */
export interface InverseNavigation {
  readonly kind: 'inverse';
  readonly name: string;
  readonly source: string;
  readonly field: string;
}

/** A many-to-many navigation through a junction table. */
export interface ManyToManyNavigation {
  readonly kind: 'manyToMany';
  readonly name: string;
  readonly relationship: string;
  readonly other: string;
  /** junction column holding this entity's id, and the other side's */
  readonly selfColumn: 'from_id' | 'to_id';
  readonly otherColumn: 'from_id' | 'to_id';
}

export type Navigation = InverseNavigation | ManyToManyNavigation;

export interface CatalogData {
  readonly version: number;
  readonly entities: readonly EntityDef[];
  readonly relationships: readonly RelationshipDef[];
  readonly choiceSets: readonly ChoiceSetDef[];
  readonly webhooks?: readonly WebhookDef[];
  readonly rules?: readonly AutomationRuleDef[];
  /** Plugins an admin turned off. */
  readonly disabledPlugins?: readonly string[];
}

export class Catalog implements TypeContext {
  readonly version: number;
  readonly entities: ReadonlyMap<string, EntityDef>;
  readonly relationships: ReadonlyMap<string, RelationshipDef>;
  readonly choiceSets: ReadonlyMap<string, ChoiceSetDef>;
  readonly webhooks: ReadonlyMap<string, WebhookDef>;
  /** Automation rules by id. */
  readonly rules: ReadonlyMap<string, AutomationRuleDef>;
  /** Active event rules by entity (what every write asks). */
  readonly #eventRules = new Map<string, AutomationRuleDef[]>();
  readonly disabledPlugins: ReadonlySet<string>;
  readonly #navigations = new Map<string, Navigation[]>();

  constructor(data: CatalogData) {
    this.version = data.version;
    // a tracked entity carries its relationship signal fields (signal-fields.ts), whoever built the data
    this.entities = new Map(data.entities.map((e) => [e.name, withSignalFields(e)]));
    this.relationships = new Map(data.relationships.map((r) => [r.name, r]));
    this.choiceSets = new Map(data.choiceSets.map((c) => [c.name, c]));
    this.webhooks = new Map((data.webhooks ?? []).map((w) => [w.id, w]));
    this.rules = new Map((data.rules ?? []).map((r) => [r.id, r]));
    for (const rule of this.rules.values()) {
      if (rule.status !== 'active' || rule.trigger.type !== 'event') continue;
      const list = this.#eventRules.get(rule.entity);
      if (list) list.push(rule);
      else this.#eventRules.set(rule.entity, [rule]);
    }
    this.disabledPlugins = new Set(data.disabledPlugins ?? []);
    for (const entity of this.entities.values()) {
      for (const field of entity.fields) {
        if (field.type !== 'lookup' || !field.target || !field.inverseName) continue;
        this.#nav(field.target).push({
          kind: 'inverse',
          name: field.inverseName,
          source: entity.name,
          field: field.name,
        });
      }
    }
    for (const rel of data.relationships) {
      this.#nav(rel.from).push({
        kind: 'manyToMany',
        name: rel.name,
        relationship: rel.name,
        other: rel.to,
        selfColumn: 'from_id',
        otherColumn: 'to_id',
      });
      if (rel.to !== rel.from) {
        this.#nav(rel.to).push({
          kind: 'manyToMany',
          name: rel.name,
          relationship: rel.name,
          other: rel.from,
          selfColumn: 'to_id',
          otherColumn: 'from_id',
        });
      }
    }
  }

  #nav(entity: string): Navigation[] {
    let list = this.#navigations.get(entity);
    if (!list) this.#navigations.set(entity, (list = []));
    return list;
  }

  static empty(): Catalog {
    return new Catalog({ version: 0, entities: [], relationships: [], choiceSets: [] });
  }

  toJSON(): CatalogData {
    return {
      version: this.version,
      entities: [...this.entities.values()],
      relationships: [...this.relationships.values()],
      choiceSets: [...this.choiceSets.values()],
      webhooks: [...this.webhooks.values()],
      rules: [...this.rules.values()],
      disabledPlugins: [...this.disabledPlugins],
    };
  }

  /** The active event rules on an entity. */
  eventRules(entity: string): readonly AutomationRuleDef[] {
    return this.#eventRules.get(entity) ?? [];
  }

  entity(name: string): EntityDef | undefined {
    return this.entities.get(name);
  }

  /** The entity, or the 404 every API answers when there is none. */
  require(name: string): EntityDef {
    const entity = this.entities.get(name);
    if (!entity) throw new XrmError('XRM_ERR_METADATA_ENTITY_NOT_FOUND', `Entity "${name}" does not exist`);
    return entity;
  }

  field(entity: string, name: string): FieldDef | undefined {
    return this.entities.get(entity)?.fields.find((f) => f.name === name);
  }

  /** One-to-many and many-to-many navigations on an entity. */
  navigations(entity: string): readonly Navigation[] {
    return this.#navigations.get(entity) ?? [];
  }

  /** Lookups on other entities (not self-references) pointing at `entity`. */
  incomingLookups(entity: string): { entity: string; field: FieldDef }[] {
    const result: { entity: string; field: FieldDef }[] = [];
    for (const e of this.entities.values()) {
      if (e.name === entity) continue;
      for (const f of e.fields)
        if (f.type === 'lookup' && f.target === entity) result.push({ entity: e.name, field: f });
    }
    return result;
  }

  /** Fields (any entity) using a shared choice set. */
  choiceSetUsers(setName: string): { entity: EntityDef; field: FieldDef }[] {
    const result: { entity: EntityDef; field: FieldDef }[] = [];
    for (const e of this.entities.values())
      for (const f of e.fields) if (f.choiceSet === setName) result.push({ entity: e, field: f });
    return result;
  }

  choiceOptions(field: FieldDef): readonly ChoiceOption[] {
    if (field.choiceSet) return this.choiceSets.get(field.choiceSet)?.options ?? [];
    return field.options ?? [];
  }

  /** Every name used on an entity's record surface: fields, navigations. */
  memberNames(entity: string): Set<string> {
    const names = new Set<string>();
    for (const f of this.entities.get(entity)?.fields ?? []) names.add(f.name);
    for (const n of this.navigations(entity)) names.add(n.name);
    return names;
  }
}
