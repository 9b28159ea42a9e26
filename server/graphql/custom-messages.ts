/**
 * One mutation per custom message of an enabled plugin (POST /api/messages/{name} in GraphQL):
 * `closeDeal(input: JSON!, target: RecordTargetInput): JSON`. It runs through the pipeline in the
 * operation's transaction (context.ts), so it commits or rolls back with the other root fields.
 * The pipeline checks the input and target against the message's definition.
 */
import { GraphQLID, GraphQLInputObjectType, GraphQLNonNull, GraphQLString, type GraphQLFieldConfig } from 'graphql';
import { camelCase } from '../../metadata/inflection.ts';
import type { GraphqlContext } from './context.ts';
import { GraphQLJSON } from './scalars.ts';

/** What the schema needs of a custom message (plugins/host.ts RegisteredMessage). */
export interface CustomMessageInfo {
  readonly name: string;
  readonly plugin: string;
  readonly description?: string;
  /** Bound to a record of this entity (then `target` is required). */
  readonly entity?: string;
}

export const RecordTargetInputType = new GraphQLInputObjectType({
  name: 'RecordTargetInput',
  description: 'The record a bound custom message runs on.',
  fields: {
    entity: { type: new GraphQLNonNull(GraphQLString), description: 'Entity name (snake_case)' },
    id: { type: new GraphQLNonNull(GraphQLID) },
  },
});

/** The mutation field name of a custom message. */
export const messageFieldName = (name: string): string => camelCase(name);

export function messageField(message: CustomMessageInfo): GraphQLFieldConfig<unknown, GraphqlContext> {
  const binding = message.entity
    ? `bound to a ${message.entity} record: target is required`
    : 'not bound to a record: no target';
  return {
    type: GraphQLJSON,
    description:
      `${message.description ?? `Custom message "${message.name}"`} ` +
      `(plugin ${message.plugin}; ${binding}). Answers the handler's output.`,
    args: {
      input: { type: new GraphQLNonNull(GraphQLJSON), description: "The message's input, as its JSON Schema says" },
      target: { type: RecordTargetInputType },
    },
    resolve: async (
      _root,
      { input, target }: { input: unknown; target?: { entity: string; id: string } | null },
      { write },
    ) => {
      const [done] = await write([
        {
          message: 'custom',
          name: message.name,
          input,
          target: target ? { entity: target.entity, id: target.id } : undefined,
        },
      ]);
      return done?.output ?? null;
    },
  };
}
