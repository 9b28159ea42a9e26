#!/usr/bin/env node
// Part of `npm run lint`: no line of the project's own source is longer than 120 characters
// (Biome's formatter wraps code; it leaves long strings and comments, which this catches).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX = 120;
const GENERATED = [/^tests\/golden\//, /^admin-ui\/src\/api-schema\.ts$/, /^sdk\/field-types\.ts$/];
const LS_FILES = ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.tsx', '*.js', '*.mjs'];
const files = execFileSync('git', LS_FILES, { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !GENERATED.some((re) => re.test(f)));
const long = [];
for (const file of files) {
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.length > MAX) long.push(`${file}:${i + 1}: ${line.length} characters`);
    });
}
if (long.length) {
  process.stderr.write(`${long.length} lines are longer than ${MAX} characters:\n${long.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`line length: ${files.length} files, no line over ${MAX} characters\n`);
