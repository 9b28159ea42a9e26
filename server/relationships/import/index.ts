/**
 * The activity import parsers behind one entry point: which formats there are, how to tell an upload's format
 * from its content type or file name, and `parseImport` to run the right streaming parser on it.
 */
import { isProblem, type SourceChunk } from './common.ts';
import { parseCsv } from './csv.ts';
import { parseIcs } from './ics.ts';
import { parseMbox } from './mbox.ts';
import type { ParsedItem, ParseOptions } from './types.ts';

export type * from './types.ts';
export { isProblem, parseCsv, parseIcs, parseMbox };

export const IMPORT_FORMATS = ['mbox', 'ics', 'csv'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

const PARSERS: Record<
  ImportFormat,
  (source: AsyncIterable<SourceChunk>, options: ParseOptions) => AsyncGenerator<ParsedItem>
> = {
  mbox: parseMbox,
  ics: parseIcs,
  csv: parseCsv,
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
export function parseImport(
  format: ImportFormat,
  source: AsyncIterable<Buffer | string | Uint8Array>,
  options: ParseOptions,
): AsyncGenerator<ParsedItem> {
  return PARSERS[format](source, options);
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
