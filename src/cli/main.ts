#!/usr/bin/env node
/** Entry point of the `bodywork-deploy` CLI (bundled by ncc into dist/cli/index.js). */
import { processIo } from './io.js';
import { run } from './program.js';

process.exitCode = await run(process.argv.slice(2), processIo);
