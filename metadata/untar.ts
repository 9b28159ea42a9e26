/**
 * Unpacks the PGlite template (pglite-template.ts): the directories and regular files of a ustar
 * archive (what `dumpDataDir` makes: names under `/`, no links). Its own module, with nothing but
 * `node:` imports, so that a worker thread runs it (untar-worker.ts) without loading the server.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

/**
 * Writes the archive in `file` below `dir`, the file named `last` after every other; refuses any
 * other kind of entry or a name leading out of `dir`.
 */
export function untar(file: string, dir: string, last: string): void {
  const archive = readFileSync(file);
  const text = (header: Buffer, at: number, length: number) => {
    const field = header.subarray(at, at + length);
    const end = field.indexOf(0);
    return field.subarray(0, end < 0 ? length : end).toString('utf8');
  };
  const made = new Set<string>();
  const folder = (path: string) => {
    if (!made.has(path)) mkdirSync(path, { recursive: true });
    made.add(path);
  };
  let deferred: (() => void) | undefined;
  for (let at = 0; at + 512 <= archive.length; ) {
    const header = archive.subarray(at, at + 512);
    if (header[0] === 0) break; // the zero blocks that end an archive
    const prefix = text(header, 345, 155);
    const name = `${prefix ? `${prefix}/` : ''}${text(header, 0, 100)}`;
    const size = Number.parseInt(text(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 0x30);
    const path = resolve(dir, `.${name.startsWith('/') ? '' : '/'}${name}`);
    if (relative(dir, path).startsWith('..')) throw new Error(`the PGlite template names a path outside: ${name}`);
    if (type === '5') folder(path);
    else if (type === '0') {
      const content = archive.subarray(at + 512, at + 512 + size);
      const write = () => {
        folder(dirname(path));
        writeFileSync(path, content);
      };
      if (relative(dir, path) === last) deferred = write;
      else write();
    } else throw new Error(`the PGlite template holds an entry of type ${type}: ${name}`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  deferred?.();
}
