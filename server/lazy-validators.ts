/**
 * Route schemas compiled when first needed, not all at start. Fastify compiles every route's
 * request schemas with Ajv as the server gets ready: about 180 schemas and 0.3 s here, a seventh of
 * an embedded (PGlite) start. Each validator here is the one fastify's own compiler builds (its
 * @fastify/ajv-compiler, with the server's Ajv options), compiled on the first request that needs
 * it; once the platform is ready (app.ts), `warm` compiles the others in the background, one per
 * turn of the event loop, so a route's first request seldom waits for its compile and requests
 * meanwhile do not wait behind all of them.
 */
import AjvCompiler from '@fastify/ajv-compiler';

type Compile = ReturnType<ReturnType<typeof AjvCompiler>>;
type Validate = ReturnType<Compile>;
type RouteDefinition = Parameters<Compile>[0];

export interface LazyValidators {
  /** fastify's `schemaController.compilersFactory.buildValidator`. */
  readonly buildValidator: typeof AjvCompiler extends (...args: never) => infer F ? F : never;
  /**
   * Compiles the validators no request has needed yet, one per event-loop turn; resolves when
   * done, or as soon as `stop` answers true (the server closing).
   */
  warm(stop?: () => boolean): Promise<void>;
  /** How many validators are not compiled yet. */
  readonly pending: number;
}

export function lazyValidators(): LazyValidators {
  const factory = AjvCompiler();
  const pending = new Set<() => Validate>();
  const buildValidator = ((externalSchemas, options) => {
    const build = factory(externalSchemas, options);
    return (route: RouteDefinition) => {
      let compiled: Validate | undefined;
      const compile = (): Validate => {
        if (!compiled) {
          compiled = build(route);
          pending.delete(compile);
        }
        return compiled;
      };
      pending.add(compile);
      // fastify passes a root value's parent (Ajv may replace a coerced root) when the validator
      // has an Ajv schema environment: every Ajv validator does, so this one says it has one too
      const validate = ((data: unknown, context?: unknown) => {
        const run = compile() as (data: unknown, context?: unknown) => boolean;
        const valid = context === undefined ? run(data) : run(data, context);
        validate.errors = compiled!.errors;
        return valid;
      }) as Validate;
      Object.defineProperty(validate, 'schemaEnv', { get: () => compile().schemaEnv });
      return validate;
    };
  }) as LazyValidators['buildValidator'];
  const warm = async (stop?: () => boolean) => {
    for (const compile of pending) {
      await new Promise((resolve) => setImmediate(resolve));
      if (stop?.()) return;
      compile();
    }
  };
  return {
    buildValidator,
    warm,
    get pending() {
      return pending.size;
    },
  };
}
