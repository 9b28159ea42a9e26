/**
 * GraphQL member names <-> record keys of one entity. Mutation inputs (`fullName`, `managerId`)
 * become record JSON (`full_name`, `manager`) for RecordsService, and the field paths of its
 * errors (`/full_name`, `/manager`) come back in GraphQL names (`/fullName`, `/managerId`).
 */
import { XrmError } from '../../metadata/errors.ts';

export class RecordKeys {
  /** GraphQL input field name -> record key */
  readonly #toRecord = new Map<string, string>();
  /** record key -> GraphQL input field name */
  readonly #toGraphql = new Map<string, string>();

  add(graphqlName: string, recordKey: string): void {
    this.#toRecord.set(graphqlName, recordKey);
    this.#toGraphql.set(recordKey, graphqlName);
  }

  /** A coerced GraphQL input object as record JSON; absent members stay absent, explicit nulls stay null. */
  toRecord(input: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const record: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(input)) {
      if (value === undefined) continue;
      record[this.#toRecord.get(name) ?? name] = value;
    }
    return record;
  }

  /** "/full_name/0" -> "/fullName/0"; paths that name no record key are kept. */
  path(path: string): string {
    const match = /^\/([^/]+)(.*)$/.exec(path);
    const name = match && this.#toGraphql.get(match[1]!);
    return name ? `/${name}${match[2]}` : path;
  }

  /** Runs a RecordsService call, rewriting the field paths of the XrmError it may throw. */
  async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw error instanceof XrmError ? this.rename(error) : error;
    }
  }

  rename(error: XrmError): XrmError {
    if (!error.errors?.length) return error;
    let message = error.message;
    const errors = error.errors.map((e) => {
      const path = this.path(e.path);
      if (path !== e.path) message = message.split(`${e.path} `).join(`${path} `);
      return { path, message: e.message };
    });
    return new XrmError(error.code, message, { errors, extensions: error.extensions, cause: error });
  }
}
