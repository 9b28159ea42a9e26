#!/usr/bin/env node
/**
 * The `xrm` executable of the @xrm-platform/sdk package (its `bin`, built to dist/bin.js): runs
 * the command line of sdk/cli.ts with the process's arguments. Inside the repository clone,
 * bin/xrm.js runs sdk/cli.ts from source instead.
 */
import { main } from './cli.ts';

process.exitCode = await main(process.argv.slice(2));
