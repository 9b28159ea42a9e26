/**
 * Fastify's route validators, compiled on a route's first request instead of at start: the same
 * compiler Fastify uses by default (@fastify/ajv-compiler, with the `ajv` options and shared
 * schemas Fastify passes it), each validator built the first time its route validates something.
 * Compiling every route's schemas at start cost 70 ms on a fast machine and 430 ms on a slow one,
 * most of it for routes a process may never serve.
 *
 * A factory of our own makes Fastify treat the compiler as custom, which only changes one thing:
 * a route's `headers` schema is no longer lower-cased for it. No route validates headers (they
 * are read in hooks); a route that does must name them in lower case.
 */
import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

type BuildValidator = NonNullable<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']
>;

interface Validator {
  (data: unknown): unknown;
  errors?: unknown;
}

export function lazyRouteValidators(): BuildValidator {
  const buildCompiler = AjvCompiler();
  return (externalSchemas, options) => {
    const compile = buildCompiler(externalSchemas as never, options as never);
    return (route) => {
      let compiled: Validator | undefined;
      // Fastify reads `errors` off the function it was given, after a call that returned false
      // (synchronously: no route schema is `$async`)
      const validate: Validator = (data) => {
        compiled ??= compile(route as never) as Validator;
        const result = compiled(data);
        validate.errors = compiled.errors;
        return result;
      };
      return validate as never;
    };
  };
}
