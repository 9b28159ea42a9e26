/**
 * Direct answers: a query whose one root field reads a record by id (`account(id: $id) { … }`) or
 * a page's `nodes` (`accounts(filter: …, first: 50) { nodes { … } }`), selecting stored values
 * only (own fields, and lookups selecting theirs), is answered with the SQL statement's JSON text
 * as it comes, as REST answers a read: no graphql-js execution, no JSON.parse of the row and no
 * JSON.stringify of the answer. That JSON is keyed by response key and its values are what the
 * fields' scalars serialize to, so the answer is the text the ordinary execution gives; a JSON
 * field's value comes as PostgreSQL writes it (as REST answers it): the same JSON, its own spacing.
 *
 * A mutation whose one root field creates a record from its one variable
 * (`mutation($input: AccountCreateInput!) { createAccount(input: $input) { id name } }`) and
 * selects own fields only is answered likewise: the variable is coerced as graphql-js coerces it
 * (values.ts), the write goes through the pipeline as the ordinary resolver sends it, and the
 * written record is the answer, each value serialized by its field's scalar. Once the write has
 * been tried, the request is answered here whatever happens: a failed write with the error the
 * ordinary execution gives (formatted by the same formatter), a value no scalar serializes (an
 * `after` step that changed the written record) by executing the operation with the write's outcome.
 *
 * A plan is made once per served schema, document text and operation name: parse, validate (the
 * rules mercurius applies, plus our operation limits) and check the document has one of those
 * shapes. Whatever is not of that shape, or fails before a write (a variable of the wrong type, a
 * refused field, a database error on a read), goes the ordinary way: mercurius executes it and
 * reports the error.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type GraphQLError,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  execute,
  getArgumentValues,
  getNamedType,
  getVariableValues,
  isObjectType,
  locatedError,
  parse,
  specifiedRules,
  typeFromAST,
  validate,
} from 'graphql';
import type { MercuriusContext } from 'mercurius';
import { LIMITS } from '../limits.ts';
import type { QueryService } from '../query/query-service.ts';
import type { WriteMessage, WriteOutcome } from '../records/pipeline.ts';
import type { GraphqlContext } from './context.ts';
import type { EntityTypes } from './entity-types.ts';
import { formatGraphqlErrors } from './errors.ts';
import { operationProblem } from './limits.ts';
import { createMessage, ownAnswer, ownProjection, pageBody, recordBody } from './operations.ts';
import type { ConnectionArgs, MemberExtension } from './selection.ts';
import { coerceInput, serializeOutput } from './values.ts';

/** Sends write messages through the pipeline as the request's writer (an operation's one field). */
export type DirectWrite = (messages: readonly WriteMessage[]) => Promise<WriteOutcome[]>;

/** A create mutation's plan: the variable holding its input, and each selected member's output type. */
interface CreatePlan {
  readonly document: DocumentNode;
  readonly variable: string;
  readonly type: GraphQLInputType;
  readonly outputs: ReadonlyMap<string, GraphQLOutputType>;
}

interface Plan {
  readonly kind: 'record' | 'page' | 'create';
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
  readonly create?: CreatePlan;
}

/** Plans per document text, per served schema (a new schema starts afresh). */
const plans = new WeakMap<GraphQLSchema, Map<string, Plan | null>>();
/** Documents a schema keeps plans for; past it the map starts over (no unbounded growth). */
const MAX_PLANS = 1000;
/**
 * The longest document a plan is made for. A direct shape (one read or create of stored values) is
 * far shorter, even selecting every column of a wide entity; a longer document takes the ordinary
 * way at once, so it is parsed once, not twice, and no text this long is kept as a plan's key.
 */
const MAX_PLAN_TEXT = 16 * 1024;

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
  write: DirectWrite,
): Promise<boolean> {
  const body = request.body as GraphqlBody | null;
  if (request.method !== 'POST' || !request.access || !body || typeof body !== 'object') return false;
  const { query: text, variables, operationName } = body;
  if (typeof text !== 'string' || text.length > MAX_PLAN_TEXT || body.extensions !== undefined) return false;
  if (operationName != null && typeof operationName !== 'string') return false;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return false;
  const plan = planOf(schema, text, operationName ?? undefined);
  if (!plan) return false;
  const inputs = (variables ?? {}) as Record<string, unknown>;
  if (plan.create) return answerCreate(request, reply, schema, query, write, plan, plan.create, inputs);
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
  if (others.length || operation?.kind !== Kind.OPERATION_DEFINITION || operation.operation === 'subscription')
    return null;
  if (operation.directives?.length || (operationName !== undefined && operation.name?.value !== operationName))
    return null;
  const [field, ...more] = operation.selectionSet.selections;
  if (more.length || field?.kind !== Kind.FIELD || field.directives?.length || !field.selectionSet) return null;
  const root = operation.operation === 'query' ? schema.getQueryType() : schema.getMutationType();
  const definition = root?.getFields()[field.name.value];
  const extensions = definition?.extensions as
    | { xrmRecord?: EntityTypes; xrmPage?: EntityTypes; xrmCreate?: EntityTypes }
    | undefined;
  const key = field.alias?.value ?? field.name.value;
  // the answer of a field whose value is the JSON given
  const shape = { before: `{"data":{"${key}":`, after: '}}' };
  let plan: Plan | undefined;
  if (definition && extensions?.xrmCreate) {
    const create = createPlanOf(schema, document, operation, field, extensions.xrmCreate);
    if (!create) return null;
    plan = { kind: 'create', operation, field, definition, types: extensions.xrmCreate, ...shape, create };
  } else if (definition && extensions?.xrmRecord) {
    if (!ownMembers(extensions.xrmRecord.object, field)) return null;
    const idVariable = idVariableOf(operation, field);
    plan = { kind: 'record', operation, field, definition, types: extensions.xrmRecord, ...shape, idVariable };
  } else if (definition && extensions?.xrmPage) {
    // the connection's `nodes` and nothing else (no count, no page info, no cursors)
    const [nodes, ...rest] = field.selectionSet.selections;
    if (rest.length || nodes?.kind !== Kind.FIELD || nodes.name.value !== 'nodes' || nodes.directives?.length)
      return null;
    if (!ownMembers(extensions.xrmPage.object, nodes)) return null;
    const page = { before: `{"data":{"${key}":{"${nodes.alias?.value ?? 'nodes'}":`, after: '}}}' };
    plan = { kind: 'page', operation, field, definition, types: extensions.xrmPage, ...page };
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
 * Whether `node` selects only stored values of `type`: its columns, and (unless `columns`) lookups
 * selecting the same of theirs (no to-many, no history, no __typename, no fragment, no directive).
 */
function ownMembers(type: GraphQLObjectType, node: FieldNode, columns = false): boolean {
  if (!node.selectionSet) return false;
  const members = type.getFields();
  for (const selection of node.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.directives?.length) return false;
    const member = members[selection.name.value];
    const kind = (member?.extensions as { xrm?: MemberExtension } | undefined)?.xrm?.kind;
    if (kind === 'column' && !selection.selectionSet) continue;
    const target = member && getNamedType(member.type);
    if (kind === 'lookup' && !columns && isObjectType(target) && ownMembers(target, selection)) continue;
    return false;
  }
  return true;
}

/**
 * A create mutation's plan when its field's one argument is `input: $v`, `$v` is the operation's
 * one variable (of the input type, no default) and the field selects its own columns only.
 */
function createPlanOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  field: FieldNode,
  types: EntityTypes,
): CreatePlan | undefined {
  const [variable, ...others] = operation.variableDefinitions ?? [];
  const [arg, ...more] = field.arguments ?? [];
  if (!variable || others.length || more.length || variable.defaultValue || variable.directives?.length) return;
  const name = variable.variable.name.value;
  if (arg?.name.value !== 'input' || arg.value.kind !== Kind.VARIABLE || arg.value.name.value !== name) return;
  if (!ownMembers(types.object, field, true)) return;
  // validation (after this) refuses a variable whose type does not fit the argument
  const type = typeFromAST(schema, variable.type) as GraphQLInputType | undefined;
  if (!type) return;
  const members = types.object.getFields();
  const outputs = new Map<string, GraphQLOutputType>();
  for (const selection of field.selectionSet!.selections) {
    if (selection.kind !== Kind.FIELD) return;
    outputs.set(selection.alias?.value ?? selection.name.value, members[selection.name.value]!.type);
  }
  return { document, variable: name, type, outputs };
}

/**
 * Creates the record and answers with it (see the top of this file); false, having written
 * nothing, when the input or the selection needs the ordinary execution.
 */
async function answerCreate(
  request: FastifyRequest,
  reply: FastifyReply,
  schema: GraphQLSchema,
  query: QueryService,
  write: DirectWrite,
  plan: Plan,
  create: CreatePlan,
  inputs: Record<string, unknown>,
): Promise<boolean> {
  const input = coerceInput(Object.hasOwn(inputs, create.variable) ? inputs[create.variable] : undefined, create.type);
  if (input === undefined) return false;
  const { types, field } = plan;
  const access = request.access ?? undefined;
  const values = { [create.variable]: input };
  const info = { fieldNodes: [field], variableValues: values, fragments: {}, schema };
  let projection: ReturnType<typeof ownProjection>;
  try {
    projection = ownProjection(types, query, access, info);
  } catch (err) {
    request.log.debug({ err }, 'GraphQL direct answer not possible; executing the operation');
    return false;
  }
  if (!projection) return false;
  let outcomes: WriteOutcome[];
  try {
    outcomes = await types.keys.call(() => write([createMessage(types, input as Record<string, unknown>)]));
  } catch (err) {
    const key = field.alias?.value ?? field.name.value;
    await sendExecution(request, reply, { errors: [locatedError(err, [field], [key])], data: null });
    return true;
  }
  const answer = ownAnswer(projection, outcomes[0]!.record!);
  for (const key in answer) {
    const value = serializeOutput(answer[key], create.outputs.get(key)!);
    if (value === undefined) {
      // graphql-js reports what no scalar serializes: it executes the operation, handed this write's outcome
      const context = { query, access, write: async () => outcomes, current: () => undefined };
      const operationName = plan.operation.name?.value;
      const execution = await execute({
        schema,
        document: create.document,
        contextValue: context as Partial<GraphqlContext>,
        variableValues: inputs,
        operationName,
      });
      await sendExecution(request, reply, execution);
      return true;
    }
    answer[key] = value;
  }
  await reply.type('application/json; charset=utf-8').send(`${plan.before}${JSON.stringify(answer)}${plan.after}`);
  return true;
}

/** Answers an execution result as mercurius does: errors through the same formatter, the same status. */
async function sendExecution(request: FastifyRequest, reply: FastifyReply, execution: ExecutionResult): Promise<void> {
  if (execution.errors?.length) {
    const context = { reply, app: request.server } as unknown as MercuriusContext;
    const formatted = formatGraphqlErrors({ ...execution, errors: execution.errors as GraphQLError[] }, context);
    reply.code(formatted.statusCode);
    execution = { errors: formatted.response.errors, data: formatted.response.data } as ExecutionResult;
  }
  await reply.send(execution);
}
