/**
 * Root fields of one entity: `iotDevice(id)`, `iotDevices(first, offset, after)` and the
 * create/update/delete mutations, all calling RecordsService (which validates every input).
 */
import { GraphQLID, GraphQLNonNull, type GraphQLFieldConfig } from 'graphql';
import { XrmError } from '../../metadata/errors.ts';
import { listArgs, readPage, type PageArgs } from './connection.ts';
import type { GraphqlContext } from './context.ts';
import type { EntityTypes } from './entity-types.ts';

type RootField = GraphQLFieldConfig<unknown, GraphqlContext>;
type Input = Readonly<Record<string, unknown>>;

const idArg = { id: { type: new GraphQLNonNull(GraphQLID) } };

export function queryFields(types: EntityTypes): Record<string, RootField> {
  const { entity, names, keys } = types;
  return {
    [names.one]: {
      type: types.object,
      description: `One ${entity.displayName} record by id (null when there is none)`,
      args: idArg,
      resolve: async (_root, { id }: { id: string }, { records, loaders }) => {
        try {
          const record = await keys.call(() => records.get(entity.name, id));
          loaders.prime(entity.name, record);
          return record;
        } catch (error) {
          if (error instanceof XrmError && error.code === 'XRM_ERR_RECORD_NOT_FOUND') return null;
          throw error;
        }
      },
    },
    [names.many]: {
      type: new GraphQLNonNull(types.connection),
      description: `${entity.pluralDisplayName}, oldest first`,
      args: listArgs,
      resolve: (_root, args: PageArgs, { records }, info) => readPage((options) => records.list(entity.name, options), args, info, records.maxPageSize),
    },
  };
}

export function mutationFields(types: EntityTypes): Record<string, RootField> {
  const { entity, names, keys } = types;
  const fields: Record<string, RootField> = {
    [names.create]: {
      type: new GraphQLNonNull(types.object),
      description: `Creates a ${entity.displayName} record`,
      args: { input: { type: new GraphQLNonNull(types.createInput) } },
      resolve: async (_root, { input }: { input: Input }, { records, loaders }) => {
        const record = await keys.call(() => records.create(entity.name, keys.toRecord(input)));
        loaders.prime(entity.name, record);
        return record;
      },
    },
  };
  if (types.updateInput) {
    fields[names.update] = {
      type: new GraphQLNonNull(types.object),
      description: `Changes a ${entity.displayName} record (only the members given)`,
      args: { ...idArg, input: { type: new GraphQLNonNull(types.updateInput) } },
      resolve: async (_root, { id, input }: { id: string; input: Input }, { records, loaders }) => {
        const record = await keys.call(() => records.update(entity.name, id, keys.toRecord(input)));
        loaders.prime(entity.name, record);
        return record;
      },
    };
  }
  fields[names.delete] = {
    type: new GraphQLNonNull(GraphQLID),
    description: `Deletes a ${entity.displayName} record; returns its id`,
    args: idArg,
    resolve: async (_root, { id }: { id: string }, { records, loaders }) => {
      await keys.call(() => records.delete(entity.name, id));
      loaders.forget(entity.name, id);
      return id;
    },
  };
  return fields;
}
