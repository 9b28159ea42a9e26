/**
 * The @xrm-platform/sdk package as a user gets it: built (`npm run build:sdk`), packed
 * (`npm pack ./sdk`) and installed from the tarball (`npm install --offline`: it has no
 * dependencies, so nothing is fetched) into a scratch project outside the clone. There, the
 * packed `xrm` (node_modules/.bin/xrm, and `npx xrm`) talks to a live server, and the README's
 * Typed SDK examples — extracted from README.md, so they cannot drift — compile with the
 * repository's tsc under plain `--strict --module nodenext` (no `allowImportingTsExtensions`, no
 * @types/node, no skipLibCheck: the package's .d.ts must stand alone; the examples' one use of Node,
 * `process.env.XRM_TOKEN`, is declared by the project) and run on plain Node. The server needs
 * credentials: `xrm` and the examples get the test administrator's token in XRM_TOKEN.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtureModel } from './fixtures/model.ts';
import { adminToken, api } from './support/http.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';
import { listen } from './support/tools.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');

/** The ```ts blocks of the README's Typed SDK section: the codegen example, then the package example. */
function readmeExamples(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Typed SDK'), readme.indexOf('## Architecture in a paragraph'));
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** The environment without what an enclosing npm run exports about the repository's own package. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|config_(prefix|global_prefix|local_prefix|global)$)/i.test(name)) continue;
    env[name] = value;
  }
  // the node running these tests is the one npm, npx and the packed bin's `#!/usr/bin/env node` find
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? ''}`;
  return env;
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program (with `env` added to its environment) and reports its exit code and output, never throwing. */
async function exec(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(file, args, {
      cwd,
      env: { ...childEnv(), ...env },
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; message?: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: `${e.stderr ?? ''}${e.message ?? ''}`,
    };
  }
}

/** Like exec, but a non-zero exit code fails the test with the output. */
async function ok(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  const outcome = await exec(file, args, cwd, env);
  expect(outcome.code, `${file} ${args.join(' ')}\n${outcome.stdout}\n${outcome.stderr}`).toBe(0);
  return outcome;
}

describe('@xrm-platform/sdk packed and installed outside the clone', () => {
  const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'xrm-sdk-package-')));
  const project = join(scratch, 'project');
  let platform: TestPlatform | undefined;
  let url = '';
  /** XRM_TOKEN: the test administrator's session token, the credentials `xrm` and the examples send. */
  const signedIn: NodeJS.ProcessEnv = {};
  let packed: { filename: string; name: string; version: string; files: { path: string }[] };

  beforeAll(async () => {
    const [started] = await Promise.all([
      startTestPlatform('pglite'),
      (async () => {
        await ok('npm', ['run', 'build:sdk', '--silent'], ROOT);
        // `npm pack ./sdk` as the README says (its prepack builds sdk/dist again, as a user's pack would)
        const pack = await ok('npm', ['pack', './sdk', '--pack-destination', scratch, '--json', '--silent'], ROOT);
        [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as (typeof packed)[];
        mkdirSync(project);
        writeFileSync(
          join(project, 'package.json'),
          `${JSON.stringify({ name: 'scratch', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
        );
        await ok('npm', ['install', join(scratch, packed.filename), '--offline', '--no-audit', '--no-fund'], project);
      })(),
    ]);
    platform = started;
    await createFixtureModel(api(platform.app).post);
    url = await listen(platform.app);
    const token = await adminToken(platform.app);
    if (!token) throw new Error('the test administrator could not sign in');
    signedIn.XRM_TOKEN = token;
  });

  afterAll(async () => {
    await platform?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('packs the built JavaScript, its declarations and the sources codegen inlines, and nothing else', () => {
    expect(relative(ROOT, scratch).startsWith('..')).toBe(true);
    expect(packed).toMatchObject({
      name: '@xrm-platform/sdk',
      filename: expect.stringMatching(/^xrm-platform-sdk-.+\.tgz$/),
    });
    const files = packed.files.map((f) => f.path);
    for (const file of [
      'package.json',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/bin.js',
      'dist/cli/codegen.js',
      'schema.ts',
      'client.ts',
      'cli/codegen.ts',
    ])
      expect(files).toContain(file);
    expect(files.filter((f) => !/^(package\.json|README\.md|[\w-]+\.ts|cli\/[\w-]+\.ts|dist\/.+)$/.test(f))).toEqual(
      [],
    );
    expect(files.filter((f) => /\.test\.ts$|tsconfig/.test(f))).toEqual([]);

    const installed = JSON.parse(
      readFileSync(join(project, 'node_modules', '@xrm-platform', 'sdk', 'package.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(installed).toMatchObject({ type: 'module', bin: { xrm: './dist/bin.js' }, engines: { node: '>=20.19.0' } });
    expect(installed.dependencies ?? {}).toEqual({});
    expect(existsSync(join(project, 'node_modules', '.bin', 'xrm'))).toBe(true);
  });

  it('runs the packed xrm: types and codegen against a live server, and under npx', async () => {
    const xrm = join(project, 'node_modules', '.bin', 'xrm');
    const help = await ok(xrm, ['--help'], project);
    expect(help.stdout).toMatch(/^ {2}codegen\s+Generate a typed TypeScript client/m);

    // without credentials the server refuses, and xrm says what to set
    const refused = await exec(xrm, ['types', '--url', url], project);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/answered 401: .*\(set XRM_TOKEN to an API key/);

    const types = await ok(xrm, ['types', '--url', url, '--out', 'src/xrm-types.ts'], project, signedIn);
    expect(types.stderr).toMatch(/^Wrote the types of \d+ entities to src\/xrm-types\.ts\n$/);
    const served = (await api(platform!.app).get('/api/metadata/typescript')).text;
    expect(readFileSync(join(project, 'src', 'xrm-types.ts'), 'utf8')).toBe(served);

    // npx finds the installed package's bin (--no: never install anything)
    const codegen = await ok('npx', ['--no', 'xrm', 'codegen', '--url', url, '--out', 'src/xrm'], project, signedIn);
    expect(codegen.stderr).toMatch(/to src\/xrm \(xrm-types\.ts, index\.ts\)\n$/);
    await ok('npx', ['--no', 'xrm', 'codegen', '--url', url, '--out', 'src/xrm.ts'], project, signedIn);
    const index = readFileSync(join(project, 'src', 'xrm', 'index.ts'), 'utf8');
    expect([...index.matchAll(/^(?:import|export)\b.*\bfrom\s+'([^']+)'/gm)].map((m) => m[1])).toEqual([
      './xrm-types.js',
      './xrm-types.js',
    ]);
    expect(index).toContain("import { createClient, XrmApiError } from './xrm/index.js';");
    expect(readFileSync(join(project, 'src', 'xrm.ts'), 'utf8')).toContain("from './xrm.js';");

    const unreachable = await exec(xrm, ['types', '--url', 'http://127.0.0.1:9'], project);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^xrm types: cannot reach the xrm-platform server/);
  });

  it("compiles the README's examples with plain tsc --strict --module nodenext and runs them on Node", async () => {
    const examples = readmeExamples();
    expect(examples).toHaveLength(2);
    const [withCodegen, withPackage] = examples as [string, string];
    expect(withCodegen).toContain("from './xrm/index.js'");
    expect(withPackage).toContain("from '@xrm-platform/sdk'");
    writeFileSync(
      join(project, 'src', 'readme-codegen.ts'),
      withCodegen.replaceAll("'http://localhost:3000'", JSON.stringify(url)),
    );
    writeFileSync(
      join(project, 'src', 'readme-package.ts'),
      withPackage.replaceAll("'http://localhost:3000'", JSON.stringify(url)),
    );
    // the single-file client too
    writeFileSync(
      join(project, 'src', 'single.ts'),
      "import { createClient } from './xrm.js';\n\n" +
        'export const names = async (baseUrl: string, token: string): Promise<string[]> => ' +
        "(await createClient({ baseUrl, headers: { authorization: 'Bearer ' + token } }).entity('partner')" +
        ".list({ select: ['name'] })).data.map((p) => p.name);\n",
    );
    // the examples read their token from the environment; Node's types are not installed, so the
    // project declares that one use of them (the package's own declarations need nothing of Node)
    expect(withCodegen).toContain('process.env.XRM_TOKEN');
    writeFileSync(
      join(project, 'src', 'node-env.d.ts'),
      'declare const process: { env: Record<string, string | undefined> };\n',
    );

    const compiled = await exec(
      TSC,
      [
        '--strict',
        '--module',
        'nodenext',
        '--pretty',
        'false',
        '--outDir',
        'dist',
        '--rootDir',
        'src',
        'src/node-env.d.ts',
        'src/readme-codegen.ts',
        'src/readme-package.ts',
        'src/single.ts',
      ],
      project,
    );
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(compiled.code).toBe(0);

    await ok(process.execPath, ['dist/readme-codegen.js'], project, signedIn);
    const acme = (
      await api(platform!.app).get(
        '/api/data/partner?filter=' + encodeURIComponent(JSON.stringify({ email: { eq: 'hello@acme.example' } })),
      )
    ).body as { data: Record<string, unknown>[] };
    expect(acme.data).toEqual([
      expect.objectContaining({ name: 'Acme Corp', region: 'emea', annual_revenue: 1300000, version: 2 }),
    ]);

    writeFileSync(
      join(project, 'dist', 'check-package.js'),
      "import './readme-package.js';\nimport { names } from './single.js';\n" +
        'console.log(JSON.stringify(await names(process.argv[2], process.env.XRM_TOKEN)));\n',
    );
    const ran = await ok(process.execPath, ['dist/check-package.js', url], project, signedIn);
    expect(JSON.parse(ran.stdout)).toContain('Acme Corp');
  });
});
