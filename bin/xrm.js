#!/usr/bin/env node
// Launcher of the `xrm` command line: runs sdk/cli.ts through tsx in a child Node process.
// Paths are resolved from this package, so `xrm` works from any directory. This is the clone's
// launcher; the @xrm-platform/sdk package (sdk/package.json) ships the built sdk/dist/bin.js as `xrm`.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../sdk/cli.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');

const child = spawn(process.execPath, ['--import', tsx, cli, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (error) => {
  process.stderr.write(`xrm: could not start node: ${error.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
