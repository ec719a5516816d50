/**
 * Builds the operator dashboard and the driver pages into web/dist: one ES module per page (code shared between
 * pages split into chunks), one stylesheet, and an HTML shell per page that names the hashed files. Run it with
 * `npm run build:web` (prints the sizes); `voltbill serve` also runs it when web/dist is missing or older than the
 * sources. Build output goes to a temporary folder first and is then swapped in, so that a server never serves a
 * half-written bundle and two processes building at once do not corrupt each other's output.
 */

import { readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

export const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const DIST_DIR = join(WEB_DIR, 'dist');

/** The pages: entry module, HTML file name, title. */
const PAGES = [
  { entry: 'app', html: 'app.html', title: 'Voltbill · Operator dashboard' },
  { entry: 'pay', html: 'pay.html', title: 'Pay and charge' },
  { entry: 'account', html: 'account.html', title: 'My charging account' },
] as const;

export type WebFile = { readonly path: string; readonly bytes: number; readonly gzipBytes: number };
export type WebBuildReport = {
  readonly outDir: string;
  readonly files: readonly WebFile[];
  /** Bytes a first visit to each page downloads (its HTML, its JS with imported chunks, the CSS), raw and gzip. */
  readonly pages: readonly { page: string; bytes: number; gzipBytes: number }[];
  readonly durationMs: number;
};

function shell(title: string, css: string, script: string, preloads: readonly string[]): string {
  // The empty data: icon stops the browser's automatic /favicon.ico request (a 404 in the console otherwise).
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/${css}">
${preloads.map((p) => `<link rel="modulepreload" href="/assets/${p}">`).join('\n')}
</head>
<body>
<div id="root"><p class="boot">Loading…</p><noscript>This page needs JavaScript.</noscript></div>
<script type="module" src="/assets/${script}"></script>
</body>
</html>
`;
}

async function newestMtimeMs(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestMtimeMs(path));
    else newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

/** True when web/dist is missing or any source (web/src, this script) changed after the last build. */
export async function webBundleIsStale(outDir = DIST_DIR): Promise<boolean> {
  let builtAt: number;
  try {
    builtAt = (await stat(join(outDir, 'manifest.json'))).mtimeMs;
  } catch {
    return true;
  }
  const sources = Math.max(
    await newestMtimeMs(join(WEB_DIR, 'src')),
    (await stat(fileURLToPath(import.meta.url))).mtimeMs,
  );
  return sources > builtAt;
}

export async function buildWeb(options: { outDir?: string; minify?: boolean } = {}): Promise<WebBuildReport> {
  const started = performance.now();
  // esbuild is a development dependency: imported here, not at the top, so that a server without it still starts.
  const { build } = await import('esbuild');
  const outDir = options.outDir ?? DIST_DIR;
  const tmpDir = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  const assetsDir = join(tmpDir, 'assets');
  await mkdir(assetsDir, { recursive: true });
  try {
    const result = await build({
      entryPoints: [
        ...PAGES.map((p) => ({ in: join(WEB_DIR, 'src', `${p.entry}.tsx`), out: p.entry })),
        { in: join(WEB_DIR, 'src', 'styles.css'), out: 'styles' },
      ],
      outdir: assetsDir,
      bundle: true,
      splitting: true,
      format: 'esm',
      target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
      minify: options.minify ?? true,
      sourcemap: false,
      jsx: 'automatic',
      jsxImportSource: 'preact',
      entryNames: '[name]-[hash]',
      chunkNames: 'chunk-[hash]',
      metafile: true,
      legalComments: 'none',
      logLevel: 'silent',
    });
    const outputs = result.metafile.outputs;
    const nameOf = (path: string) => relative(assetsDir, join(process.cwd(), path));
    const entryOutput = (entry: string) => {
      const found = Object.entries(outputs).find(([, out]) => out.entryPoint?.endsWith(`src/${entry}`));
      if (!found) throw new Error(`esbuild produced no output for ${entry}`);
      // Every chunk the page loads before it runs, transitively: what modulepreload lists and what a first visit costs.
      const imports = new Set<string>();
      const visit = (path: string) => {
        for (const i of outputs[path]?.imports ?? []) {
          if (i.external || i.kind === 'dynamic-import' || imports.has(nameOf(i.path))) continue;
          imports.add(nameOf(i.path));
          visit(i.path);
        }
      };
      visit(found[0]);
      return { file: nameOf(found[0]), imports: [...imports] };
    };
    const css = entryOutput('styles.css').file;
    for (const page of PAGES) {
      const js = entryOutput(`${page.entry}.tsx`);
      await writeFile(join(tmpDir, page.html), shell(page.title, css, js.file, js.imports));
    }

    const files: WebFile[] = [];
    const sizeOf = (path: string): WebFile => {
      const content = readFileSync(join(tmpDir, path));
      return { path, bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
    };
    for (const name of await readdir(assetsDir)) files.push(sizeOf(`assets/${name}`));
    for (const page of PAGES) files.push(sizeOf(page.html));
    const pages = PAGES.map((page) => {
      const js = entryOutput(`${page.entry}.tsx`);
      const parts = [page.html, `assets/${js.file}`, ...js.imports.map((i) => `assets/${i}`), `assets/${css}`];
      const sized = parts.map((p) => files.find((f) => f.path === p) ?? sizeOf(p));
      return {
        page: page.entry,
        bytes: sized.reduce((sum, f) => sum + f.bytes, 0),
        gzipBytes: sized.reduce((sum, f) => sum + f.gzipBytes, 0),
      };
    });
    await writeFile(join(tmpDir, 'manifest.json'), `${JSON.stringify({ files, pages }, null, 2)}\n`);

    // Swap in: remove the old output, move the new one into place. If another process won the race, its
    // output (built from the same sources) stays and ours is discarded.
    await rm(outDir, { recursive: true, force: true });
    try {
      await rename(tmpDir, outDir);
    } catch {
      await rm(tmpDir, { recursive: true, force: true });
    }
    return { outDir, files, pages, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    await rm(tmpDir, { recursive: true, force: true });
    throw error;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await buildWeb();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  for (const f of report.files)
    console.log(`${f.path.padEnd(40)} ${kb(f.bytes).padStart(10)} ${kb(f.gzipBytes).padStart(10)} gzip`);
  for (const p of report.pages) {
    console.log(`first load of ${p.page.padEnd(8)} ${kb(p.bytes).padStart(10)} ${kb(p.gzipBytes).padStart(10)} gzip`);
  }
  console.log(`built ${relative(process.cwd(), report.outDir)} in ${report.durationMs} ms`);
}
