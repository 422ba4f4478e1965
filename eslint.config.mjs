// Lint rules for the whole workspace. Module boundaries are enforced by Nx tags:
//   type:app   may import libs, never other apps;
//   type:lib   may import other libs only; scope:shared libs import only scope:shared;
//   io:none    (pure libs such as libs/config) may not import Node's I/O modules.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

const nodeIoModules = [
  'fs',
  'fs/promises',
  'net',
  'http',
  'http2',
  'https',
  'dgram',
  'child_process',
  'cluster',
  'tls',
  'dns',
  'worker_threads',
].flatMap((m) => [m, `node:${m}`]);

// Projects tagged io:none (pure code that must also run in a browser) may not import Node I/O.
// Nx's boundary rule does not cover Node built-ins, so this reads the tags and applies ESLint's own rule.
const ioFreeSources = ['apps', 'libs']
  .flatMap((top) =>
    readdirSync(top, { recursive: true, encoding: 'utf8' }).map((p) => `${top}/${p}`),
  )
  .filter((file) => file.endsWith('/project.json') && !file.includes('node_modules'))
  .filter((file) => JSON.parse(readFileSync(file, 'utf8')).tags?.includes('io:none'))
  .map((file) => `${dirname(file)}/src/**/*.ts`);

export default tseslint.config(
  { ignores: ['**/dist', '**/node_modules', '**/.nx', '**/coverage', '**/generated'] },
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts', '**/*.mts', '**/*.mjs', '**/*.js'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            {
              sourceTag: 'scope:sidecar',
              onlyDependOnLibsWithTags: ['scope:sidecar', 'scope:shared'],
            },
            {
              sourceTag: 'scope:control-plane',
              onlyDependOnLibsWithTags: ['scope:control-plane', 'scope:shared'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'smart'],
      'no-console': 'off',
    },
  },
  {
    files: ioFreeSources,
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeIoModules.map((name) => ({
            name,
            message: 'io:none projects do no I/O: pass data in instead.',
          })),
        },
      ],
    },
  },
  {
    // TypeScript checks names in .ts files; plain JavaScript (scripts, bin shims) needs ESLint.
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: { globals: globals.node },
    rules: { 'no-undef': 'error' },
  },
  {
    // The bin shims only launch the built bundle from the repository's scripts/ folder.
    files: ['apps/*/bin/*.js'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
);
