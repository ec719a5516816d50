#!/usr/bin/env node
// `npm run bench [-- NAME [bench flags]]`: runs every bench/*.bench.ts in turn (or the one named, e.g. `gateway`)
// through tsx in its own node process (with --expose-gc, for the memory figures) and passes its output through.
// Benchmarks print figures; they never pass or fail on timing. Exit status: 1 when a benchmark crashed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = path.join(root, 'bench');
const all = fs
  .readdirSync(benchDir)
  .filter((file) => file.endsWith('.bench.ts'))
  .sort();
const [name, ...flags] = process.argv.slice(2);
const selected =
  name === undefined || name.startsWith('--')
    ? all
    : all.filter((file) => file === `${name}.bench.ts` || file === name);
if (selected.length === 0) {
  console.error(
    `no benchmark named ${name}; there are: ${all.map((file) => file.replace('.bench.ts', '')).join(', ')}`,
  );
  process.exit(2);
}
const passFlags = name === undefined || name.startsWith('--') ? process.argv.slice(2) : flags;
let failed = 0;
for (const file of selected) {
  console.log(`\n=== ${file} ${'='.repeat(Math.max(0, 70 - file.length))}`);
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', path.join(benchDir, file), ...(selected.length === 1 ? passFlags : [])],
    { cwd: root, stdio: 'inherit' },
  );
  console.log(
    `--- ${file}: ${result.status === 0 ? 'done' : `FAILED (exit ${result.status ?? result.signal})`} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  if (result.status !== 0) failed += 1;
}
process.exit(failed > 0 ? 1 : 0);
