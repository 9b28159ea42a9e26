/** Success responses, shared by the static and the per-entity operations. */
import { schemaRef, type JsonSchema, type ResponseObject } from './types.ts';

export function jsonResponse(
  description: string,
  schema: JsonSchema | string,
  mediaType = 'application/json',
): ResponseObject {
  return { description, content: { [mediaType]: { schema: typeof schema === 'string' ? schemaRef(schema) : schema } } };
}

/** 201 with the created resource and its address in `Location`. */
export function createdResponse(description: string, schema: string): ResponseObject {
  return {
    ...jsonResponse(description, schema),
    headers: { Location: { description: 'Address of the created resource', schema: { type: 'string' } } },
  };
}

export function noContent(description: string): ResponseObject {
  return { description };
}
