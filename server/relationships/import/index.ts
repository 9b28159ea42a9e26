/**
 * The activity import parsers behind one entry point: which formats there are, how to tell an upload's format
 * from its content type or file name, and `parseImport` to run the right streaming parser on it.
 */
import { isProblem, type SourceChunk } from './common.ts';
import type { ParsedItem, ParseOptions } from './types.ts';

export type * from './types.ts';
export { isProblem };

export const IMPORT_FORMATS = ['mbox', 'ics', 'csv'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

type Parser = (source: AsyncIterable<SourceChunk>, options: ParseOptions) => AsyncGenerator<ParsedItem>;

/**
 * Each parser is loaded on its first import, not at start: mailparser, html-to-text, ical.js and
 * csv-parse are about 150 ms and 10 MB of a server that may never import anything.
 */
const PARSERS: Record<ImportFormat, () => Promise<Parser>> = {
  mbox: async () => (await import('./mbox.ts')).parseMbox,
  ics: async () => (await import('./ics.ts')).parseIcs,
  csv: async () => (await import('./csv.ts')).parseCsv,
};

const CONTENT_TYPES = new Map<string, ImportFormat>([
  ['application/mbox', 'mbox'],
  ['text/calendar', 'ics'],
  ['text/csv', 'csv'],
]);

const EXTENSIONS = new Map<string, ImportFormat>([
  ['mbox', 'mbox'],
  ['ics', 'ics'],
  ['csv', 'csv'],
]);

/** Runs the parser of `format` over the upload's chunks. */
export async function* parseImport(
  format: ImportFormat,
  source: AsyncIterable<Buffer | string | Uint8Array>,
  options: ParseOptions,
): AsyncGenerator<ParsedItem> {
  const parse = await PARSERS[format]();
  yield* parse(source, options);
}

/**
 * The format of an upload: by its content type (`application/mbox`, `text/calendar`, `text/csv`, parameters
 * ignored), else by its file name's extension (`.mbox`, `.ics`, `.csv`); undefined when neither tells.
 */
export function formatOf(contentType?: string, filename?: string): ImportFormat | undefined {
  const mediaType = contentType?.split(';')[0].trim().toLowerCase();
  const byType = mediaType ? CONTENT_TYPES.get(mediaType) : undefined;
  if (byType) return byType;
  const extension = filename
    ?.trim()
    .toLowerCase()
    .match(/\.([a-z0-9]+)$/)?.[1];
  return extension ? EXTENSIONS.get(extension) : undefined;
}
