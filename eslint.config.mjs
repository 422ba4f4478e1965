// Lint rules for the whole workspace. Module boundaries are enforced by Nx tags:
//   type:app   may import libs, never other apps;
//   type:lib   may import other libs only; scope:shared libs import only scope:shared;
//   io:none    (pure libs such as libs/config) may not import Node's I/O modules.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const nodeIoModules = [
  'fs', 'fs/promises', 'net', 'http', 'http2', 'https', 'dgram', 'child_process', 'cluster', 'tls', 'dns', 'worker_threads',
].flatMap((m) => [m, `node:${m}`]);

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
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:sidecar', onlyDependOnLibsWithTags: ['scope:sidecar', 'scope:shared'] },
            {
              sourceTag: 'scope:control-plane',
              onlyDependOnLibsWithTags: ['scope:control-plane', 'scope:shared'],
            },
            { sourceTag: 'io:none', bannedExternalImports: nodeIoModules },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'smart'],
      'no-console': 'off',
    },
  },
);
