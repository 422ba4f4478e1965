// Bundles one app into dist/apps/<name>/main.js: the workspace libs are compiled in,
// third-party packages stay external and load from node_modules — unless
// `--bundle-dependencies` is given (the sidecar): resolving and loading hundreds of files from
// node_modules took about a third of its start-up. Each `--worker <file.ts>` is bundled the same
// way beside main.js, as <file>.js, for a worker thread that main.js starts.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const appDir = process.argv[2];
const bundleDependencies = process.argv.includes('--bundle-dependencies');
const workers = process.argv
  .flatMap((arg, i) => (process.argv[i - 1] === '--worker' ? [arg] : []))
  .map((file) => ({ in: file, out: basename(file, '.ts') }));
if (!appDir || process.argv.at(-1) === '--worker') {
  console.error(
    'usage: node scripts/build-app.mjs apps/<name> [--bundle-dependencies] [--worker <file.ts>]...',
  );
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const thirdParty = Object.keys({ ...rootPackage.dependencies, ...rootPackage.devDependencies });

await build({
  entryPoints: [
    { in: join(root, appDir, 'src/main.ts'), out: 'main' },
    ...workers.map((worker) => ({ in: join(root, worker.in), out: worker.out })),
  ],
  outdir: join(root, 'dist', appDir),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  external: bundleDependencies ? [] : [...thirdParty, ...thirdParty.map((name) => `${name}/*`)],
  // Bundled CommonJS dependencies may still call require(); give ESM output one.
  banner: {
    js: "import { createRequire as __trellisCreateRequire } from 'node:module'; const require = __trellisCreateRequire(import.meta.url);",
  },
  // Whitespace and comments out (names kept, so stack traces still name functions; main.js.map
  // maps positions back): 2.9 → 2.0 MB, and the bundle becomes pure ASCII. One non-Latin-1
  // character in a comment made V8 hold the whole source as a two-byte string: 5.8 MB of
  // every process's idle RSS instead of 2.1 MB.
  minifyWhitespace: true,
  logLevel: 'warning',
});
const outputs = ['main', ...workers.map((worker) => worker.out)];
console.log(
  `built ${basename(appDir)} -> ${outputs.map((out) => `dist/${appDir}/${out}.js`).join(', ')}`,
);
