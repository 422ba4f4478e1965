// Transpiles one lib's sources (not its specs) file by file into dist/<lib>/ as ESM JavaScript.
// Apps bundle libs from source (scripts/build-app.mjs); this output is for publishing and
// for checking that every lib compiles on its own. Types are checked by the `typecheck` target.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const libDir = process.argv[2];
if (!libDir) {
  console.error('usage: node scripts/build-lib.mjs libs/<name>');
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
const srcDir = join(root, libDir, 'src');
const entryPoints = readdirSync(srcDir, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts') && !file.endsWith('.d.ts'))
  .map((file) => join(srcDir, file));

await build({
  entryPoints,
  outdir: join(root, 'dist', libDir),
  outbase: srcDir,
  bundle: false,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
});
console.log(
  `built ${entryPoints.length} modules of ${libDir} -> ${relative(root, join(root, 'dist', libDir))}/`,
);
