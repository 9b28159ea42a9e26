/**
 * The GraphQL schema of one catalog version, built with graphql-js objects and resolvers that
 * call RecordsService through the per-request context (server/graphql/context.ts). Pure: the
 * same catalog (and custom messages) always gives the same schema, so it is cached per version
 * (ApiState.derived).
 */
import {
  GraphQLInt,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  printSchema,
  type GraphQLFieldConfig,
} from 'graphql';
import type { Catalog } from '../../metadata/catalog.ts';
import type { GraphqlContext } from './context.ts';
import { messageField, messageFieldName, type CustomMessageInfo } from './custom-messages.ts';
import { entityTypes, type BuildContext, type EntityTypes } from './entity-types.ts';
import { operatorTypes } from './filter-types.ts';
import { SCHEMA_VERSION_FIELD, assignEntityNames } from './names.ts';
import { mutationFields, queryFields } from './operations.ts';

export interface BuildOptions {
  /** Called for every name clash resolved while building (the schema stays valid). */
  warn?: (message: string) => void;
  /** Custom messages of enabled plugins: one mutation each. */
  messages?: readonly CustomMessageInfo[];
}

export function buildGraphqlSchema(catalog: Catalog, options: BuildOptions = {}): GraphQLSchema {
  const warn = options.warn ?? (() => undefined);
  const types = new Map<string, EntityTypes>();
  const ctx: BuildContext = { catalog, types, warn, operators: operatorTypes() };
  for (const [name, names] of assignEntityNames(catalog, warn))
    types.set(name, entityTypes(catalog.entity(name)!, names, ctx));

  const query: Record<string, GraphQLFieldConfig<unknown, GraphqlContext>> = {
    [SCHEMA_VERSION_FIELD]: {
      type: new GraphQLNonNull(GraphQLInt),
      description: 'Version of the metadata catalog this schema was built from',
      resolve: () => catalog.version,
    },
  };
  const mutation: Record<string, GraphQLFieldConfig<unknown, GraphqlContext>> = {};
  for (const entityTypes of types.values()) {
    Object.assign(query, queryFields(entityTypes));
    Object.assign(mutation, mutationFields(entityTypes));
  }
  // after the entities' mutations: a message whose name one of them already has is left out
  for (const message of options.messages ?? []) {
    const name = messageFieldName(message.name);
    if (Object.hasOwn(mutation, name)) {
      warn(`custom message "${message.name}" is not served as mutation ${name}: an entity's mutation has that name`);
      continue;
    }
    mutation[name] = messageField(message);
  }
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: query }),
    mutation: Object.keys(mutation).length ? new GraphQLObjectType({ name: 'Mutation', fields: mutation }) : undefined,
    extensions: { xrm: { version: catalog.version } },
  });
}

/** The schema in SDL, as golden files and clients see it. */
export function printGraphqlSchema(catalog: Catalog): string {
  return printSchema(buildGraphqlSchema(catalog));
}
