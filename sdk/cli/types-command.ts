/** `xrm types`: TypeScript declarations of every entity, from a running server. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CliError, type Command } from './command.ts';
import { DEFAULT_URL, getText, serverUrl } from './server.ts';

export const typesCommand: Command = {
  name: 'types',
  summary: 'Generate TypeScript types of every entity from a running server',
  help: `Usage: xrm types [--url <server>] [--out <file.ts>]

Fetches GET /api/metadata/typescript: one interface per entity variant (<Entity>,
<Entity>Create, <Entity>Update) and the XrmEntities map.

Options:
  --url <server>   Server base URL (default: $XRM_URL or ${DEFAULT_URL})
                   Credentials: $XRM_TOKEN, an API key (or a session token), sent as a bearer token
  --out <file>     Write the declarations to this file instead of standard output
  -h, --help       Show this help`,
  options: {
    url: { type: 'string' },
    out: { type: 'string', short: 'o' },
  },
  async run(options, positionals, io) {
    if (positionals.length) throw new CliError(`unexpected argument "${positionals[0]}" (see xrm types --help)`);
    const source = await getText(serverUrl(options.url as string | undefined), '/api/metadata/typescript');
    const out = options.out as string | undefined;
    if (!out) {
      io.stdout(source);
      return 0;
    }
    const file = resolve(out);
    await mkdir(dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, source, 'utf8');
    await rename(temp, file);
    const entities = (/export interface XrmEntities \{([\s\S]*?)\n\}/.exec(source)?.[1]?.match(/^ {2}\S+: \{$/gm) ?? [])
      .length;
    io.stderr(`Wrote the types of ${entities} entit${entities === 1 ? 'y' : 'ies'} to ${out}\n`);
    return 0;
  },
};
