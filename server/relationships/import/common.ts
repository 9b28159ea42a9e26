/**
 * Helpers the import parsers share: reading the source as counted byte chunks (with progress reports),
 * cleaning up addresses and message ids, deciding an activity's direction, and building problems.
 */
import type { Direction, ParsedItem, ParseOptions, ParseProblem } from './types.ts';

/** The longest subject or message id kept (RFC 5322's line limit). */
export const MAX_HEADER_CHARS = 998;
/** Progress is reported at most once per this many bytes (and once at the end). */
const PROGRESS_STEP = 1 << 20;

export type SourceChunk = Buffer | string | Uint8Array;

/** The source as Buffers, calling `onBytes` with the running total now and then and once at the end. */
export async function* byteChunks(
  source: AsyncIterable<SourceChunk>,
  onBytes?: ParseOptions['onBytes'],
): AsyncGenerator<Buffer> {
  let total = 0;
  let reported = -1;
  for await (const chunk of source) {
    const bytes = toBuffer(chunk);
    total += bytes.length;
    if (onBytes && total - Math.max(reported, 0) >= PROGRESS_STEP) {
      reported = total;
      onBytes(total);
    }
    yield bytes;
  }
  if (onBytes && reported !== total) onBytes(total);
}

function toBuffer(chunk: SourceChunk): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (Buffer.isBuffer(chunk)) return chunk;
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export function truncate(text: string, max = MAX_HEADER_CHARS): string {
  return text.length > max ? text.slice(0, max) : text;
}

/** `text` trimmed, or undefined when nothing is left. */
export function nonEmpty(text: string | undefined | null): string | undefined {
  const trimmed = text?.trim();
  return trimmed ? trimmed : undefined;
}

/** The message ids in a header value (`<a@b> <c@d>`), without brackets; a bare id when there are no brackets. */
export function messageIds(value: string | undefined): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>]+)>/g)].map((m) => m[1].trim()).filter(Boolean);
  if (bracketed.length > 0) return bracketed;
  return value.split(/\s+/).filter(Boolean);
}

export function firstMessageId(value: string | undefined): string | undefined {
  const id = messageIds(value)[0];
  return id === undefined ? undefined : truncate(id);
}

export function lastMessageId(value: string | undefined): string | undefined {
  const id = messageIds(value).at(-1);
  return id === undefined ? undefined : truncate(id);
}

const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+$/;

export function isEmail(address: string): boolean {
  return EMAIL.test(address);
}

/**
 * The direction of an activity from its sender and recipients: inbound when the sender is not our own,
 * internal when the sender and every recipient are, outbound otherwise.
 */
export function directionOf(senderIsOwn: boolean, recipients: readonly string[], own: ParseOptions['own']): Direction {
  if (!senderIsOwn) return 'inbound';
  return recipients.every((address) => own(address)) ? 'internal' : 'outbound';
}

export function problem(position: number, message: string): ParseProblem {
  return { problem: true, position, message };
}

export function isProblem(item: ParsedItem): item is ParseProblem {
  return 'problem' in item;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
