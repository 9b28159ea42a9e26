/** `xrm codegen`: a typed, self-contained TypeScript client of a running server. */
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { generateClient, mappedEntities, type EntityInfo } from './codegen.ts';
import { CliError, type Command } from './command.ts';
import { DEFAULT_URL, getText, serverUrl } from './server.ts';

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Writes through a temporary file, so a reader never sees half a file. */
async function writeAtomically(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, content, 'utf8');
  await rename(temp, file);
}

/** The types and the entities, read twice if the schema changed between the two requests. */
async function fetchSchema(base: URL): Promise<{ types: string; entities: EntityInfo[] }> {
  for (let attempt = 1; ; attempt++) {
    const types = await getText(base, '/api/metadata/typescript');
    const entities = (JSON.parse(await getText(base, '/api/metadata/entities')) as { data: EntityInfo[] }).data;
    const mapped = mappedEntities(types).sort().join(',');
    if (
      mapped ===
      entities
        .map((e) => e.name)
        .sort()
        .join(',')
    )
      return { types, entities };
    if (attempt === 2)
      throw new CliError('the schema kept changing while the client was generated; run xrm codegen again');
  }
}

export const codegenCommand: Command = {
  name: 'codegen',
  summary: 'Generate a typed TypeScript client of a running server',
  help: `Usage: xrm codegen [--url <server>] [--out <dir> | <file.ts>]

Writes a self-contained, typed client of the server's entities (it needs nothing but fetch):
the entity types of GET /api/metadata/typescript, the SDK runtime, and XrmSchema (field types,
lookups, relations) from GET /api/metadata/entities. Then:

  import { createClient } from './xrm/index.js';      // or './xrm.js' for one file
  const client = createClient({ baseUrl: '${DEFAULT_URL}' });
  const page = await client.entity('partner').list({ filter: { tier: { eq: 'gold' } }, sort: ['name'] });

Options:
  --url <server>   Server base URL (default: $XRM_URL or ${DEFAULT_URL})
                   Credentials: $XRM_TOKEN, an API key (or a session token), sent as a bearer token
  --out <path>     A directory (xrm-types.ts + index.ts), or one file when it ends in .ts;
                   without it, the single file goes to standard output
  -h, --help       Show this help`,
  options: {
    url: { type: 'string' },
    out: { type: 'string', short: 'o' },
  },
  async run(options, positionals, io) {
    if (positionals.length) throw new CliError(`unexpected argument "${positionals[0]}" (see xrm codegen --help)`);
    const base = serverUrl(options.url as string | undefined);
    const { types, entities } = await fetchSchema(base);
    const url = base.href.replace(/\/+$/, '');
    const out = options.out as string | undefined;
    const count = `${entities.length} entit${entities.length === 1 ? 'y' : 'ies'}`;
    if (!out) {
      io.stdout(generateClient({ types, entities, url }, 'file')[0]!.content);
      return 0;
    }
    const target = resolve(out);
    if (out.endsWith('.ts') && !(await isDirectory(target))) {
      const [file] = generateClient(
        { types, entities, url, importPath: `./${basename(target).replace(/\.ts$/, '.js')}` },
        'file',
      );
      await writeAtomically(target, file!.content);
      io.stderr(`Wrote a typed client of ${count} to ${out}\n`);
      return 0;
    }
    const files = generateClient({ types, entities, url, importPath: `./${basename(target)}/index.js` }, 'directory');
    for (const file of files) await writeAtomically(join(target, file.name), file.content);
    io.stderr(`Wrote a typed client of ${count} to ${out} (${files.map((f) => f.name).join(', ')})\n`);
    return 0;
  },
};
