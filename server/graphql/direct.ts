/**
 * Direct answers: a query whose one root field reads a record by id (`account(id: $id) { … }`) or
 * a page's `nodes` (`accounts(filter: …, first: 50) { nodes { … } }`), selecting stored values
 * only (own fields, and lookups selecting theirs), is answered with the SQL statement's JSON text
 * as it comes, as REST answers a read: no graphql-js execution, no JSON.parse of the row and no
 * JSON.stringify of the answer. That JSON is keyed by response key and its values are what the
 * fields' scalars serialize to, so the answer is the text the ordinary execution gives; a JSON
 * field's value comes as PostgreSQL writes it (as REST answers it): the same JSON, its own spacing.
 *
 * A plan is made once per served schema, document text and operation name: parse, validate (the
 * rules mercurius applies, plus our operation limits) and check the document has that one shape.
 * Whatever is not of that shape, or fails in any way (a variable of the wrong type, a refused
 * field, a database error), goes the ordinary way: mercurius executes it and reports the error.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  getArgumentValues,
  getNamedType,
  getVariableValues,
  isObjectType,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { LIMITS } from '../limits.ts';
import type { QueryService } from '../query/query-service.ts';
import type { EntityTypes } from './entity-types.ts';
import { operationProblem } from './limits.ts';
import { pageBody, recordBody } from './operations.ts';
import type { ConnectionArgs, MemberExtension } from './selection.ts';

interface Plan {
  readonly kind: 'record' | 'page';
  readonly operation: OperationDefinitionNode;
  readonly field: FieldNode;
  readonly definition: GraphQLField<unknown, unknown>;
  readonly types: EntityTypes;
  /** The answer's text around the statement's JSON. */
  readonly before: string;
  readonly after: string;
  /**
   * A record read whose one variable is `$x: ID!` and whose one argument is `id: $x`: a string
   * there is the id as it comes, without graphql-js coercing variables and arguments.
   */
  readonly idVariable?: string;
}

/** Plans per document text, per served schema (a new schema starts afresh). */
const plans = new WeakMap<GraphQLSchema, Map<string, Plan | null>>();
/** Documents a schema keeps plans for; past it the map starts over (no unbounded growth). */
const MAX_PLANS = 1000;

interface GraphqlBody {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
  extensions?: unknown;
}

/**
 * Answers the request when it has the direct shape and every step succeeds; answers false when
 * the ordinary execution must answer it.
 */
export async function answerDirectly(
  request: FastifyRequest,
  reply: FastifyReply,
  schema: GraphQLSchema,
  query: QueryService,
): Promise<boolean> {
  const body = request.body as GraphqlBody | null;
  if (request.method !== 'POST' || !request.access || !body || typeof body !== 'object') return false;
  const { query: text, variables, operationName } = body;
  if (typeof text !== 'string' || body.extensions !== undefined) return false;
  if (operationName != null && typeof operationName !== 'string') return false;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return false;
  const plan = planOf(schema, text, operationName ?? undefined);
  if (!plan) return false;
  const inputs = (variables ?? {}) as Record<string, unknown>;
  const id = plan.idVariable === undefined ? undefined : inputs[plan.idVariable];
  try {
    let values: Record<string, unknown>;
    let args: Record<string, unknown>;
    if (typeof id === 'string') {
      values = { [plan.idVariable!]: id };
      args = { id };
    } else {
      const coerced = getVariableValues(schema, plan.operation.variableDefinitions ?? [], inputs);
      if (coerced.errors) return false;
      values = coerced.coerced;
      args = getArgumentValues(plan.definition, plan.field, values);
    }
    const info = { fieldNodes: [plan.field], variableValues: values, fragments: {}, schema };
    const json =
      plan.kind === 'record'
        ? await recordBody(plan.types, args.id as string, query, info, request.access)
        : await pageBody(plan.types, args as ConnectionArgs, query, info, request.access, 'nodes');
    await reply.type('application/json; charset=utf-8').send(`${plan.before}${json ?? 'null'}${plan.after}`);
    return true;
  } catch (err) {
    request.log.debug({ err }, 'GraphQL direct answer not possible; executing the operation');
    return false;
  }
}

function planOf(schema: GraphQLSchema, text: string, operationName: string | undefined): Plan | null {
  let byText = plans.get(schema);
  if (!byText) plans.set(schema, (byText = new Map()));
  const key = `${operationName ?? ''}\n${text}`;
  let plan = byText.get(key);
  if (plan === undefined) {
    if (byText.size >= MAX_PLANS) byText.clear();
    plan = makePlan(schema, text, operationName);
    byText.set(key, plan);
  }
  return plan;
}

function makePlan(schema: GraphQLSchema, text: string, operationName: string | undefined): Plan | null {
  let document: DocumentNode;
  try {
    document = parse(text, { maxTokens: LIMITS.graphqlTokens });
  } catch {
    return null;
  }
  const [operation, ...others] = document.definitions;
  if (others.length || operation?.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'query') return null;
  if (operation.directives?.length || (operationName !== undefined && operation.name?.value !== operationName))
    return null;
  const [field, ...more] = operation.selectionSet.selections;
  if (more.length || field?.kind !== Kind.FIELD || field.directives?.length || !field.selectionSet) return null;
  const definition = schema.getQueryType()?.getFields()[field.name.value];
  const extensions = definition?.extensions as { xrmRecord?: EntityTypes; xrmPage?: EntityTypes } | undefined;
  const key = field.alias?.value ?? field.name.value;
  let plan: Plan | undefined;
  if (definition && extensions?.xrmRecord) {
    if (!ownMembers(extensions.xrmRecord.object, field)) return null;
    const shape = { before: `{"data":{"${key}":`, after: '}}' };
    const idVariable = idVariableOf(operation, field);
    plan = { kind: 'record', operation, field, definition, types: extensions.xrmRecord, ...shape, idVariable };
  } else if (definition && extensions?.xrmPage) {
    // the connection's `nodes` and nothing else (no count, no page info, no cursors)
    const [nodes, ...rest] = field.selectionSet.selections;
    if (rest.length || nodes?.kind !== Kind.FIELD || nodes.name.value !== 'nodes' || nodes.directives?.length)
      return null;
    if (!ownMembers(extensions.xrmPage.object, nodes)) return null;
    const shape = { before: `{"data":{"${key}":{"${nodes.alias?.value ?? 'nodes'}":`, after: '}}}' };
    plan = { kind: 'page', operation, field, definition, types: extensions.xrmPage, ...shape };
  }
  if (!plan) return null;
  // only a document the ordinary way would execute: the same rules, the same limits
  if (operationProblem(document) || validate(schema, document, specifiedRules).length) return null;
  return plan;
}

/** `$x` when the operation's one variable is `$x: ID!` (no default) and the field's one argument `id: $x`. */
function idVariableOf(operation: OperationDefinitionNode, field: FieldNode): string | undefined {
  const [variable, ...others] = operation.variableDefinitions ?? [];
  const [arg, ...more] = field.arguments ?? [];
  if (!variable || others.length || more.length || variable.defaultValue || variable.directives?.length)
    return undefined;
  const type = variable.type;
  if (type.kind !== Kind.NON_NULL_TYPE || type.type.kind !== Kind.NAMED_TYPE || type.type.name.value !== 'ID')
    return undefined;
  const name = variable.variable.name.value;
  return arg?.name.value === 'id' && arg.value.kind === Kind.VARIABLE && arg.value.name.value === name
    ? name
    : undefined;
}

/**
 * Whether `node` selects only stored values of `type`: its columns, and lookups selecting the
 * same of theirs (no to-many, no history, no __typename, no fragment, no directive).
 */
function ownMembers(type: GraphQLObjectType, node: FieldNode): boolean {
  if (!node.selectionSet) return false;
  const members = type.getFields();
  for (const selection of node.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.directives?.length) return false;
    const member = members[selection.name.value];
    const kind = (member?.extensions as { xrm?: MemberExtension } | undefined)?.xrm?.kind;
    if (kind === 'column' && !selection.selectionSet) continue;
    const target = member && getNamedType(member.type);
    if (kind === 'lookup' && isObjectType(target) && ownMembers(target, selection)) continue;
    return false;
  }
  return true;
}
