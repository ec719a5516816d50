#!/usr/bin/env node
// Entry point of the `voltbill` command. The sources are TypeScript; tsx compiles them on load so that
// `npm ci && npm run demo` works without a separate build step. `npm run build` still emits dist/ for packaging.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli.ts');
process.exitCode = await runCli(process.argv.slice(2));
