// Lint for the whole monorepo: typescript-eslint's recommended rules, and the module boundaries
// (README, Layout) enforced from the real import graph by Nx on the projects' `layer:*` tags.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Which layers each layer may import (tests are exempt: they start real servers across apps). */
const LAYERS = {
  protocol: [],
  native: [],
  algorithms: ['protocol'],
  nn: ['protocol', 'algorithms', 'native'],
  search: ['protocol', 'algorithms'],
  sweep: ['protocol', 'algorithms', 'search'],
  db: ['protocol'],
  api: ['protocol', 'algorithms', 'sweep', 'db'],
  coordinator: ['protocol', 'sweep', 'db', 'api'],
  worker: ['protocol', 'nn'],
  dashboard: ['protocol', 'api'],
  // The command line starts every part; nothing imports it.
  tool: ['protocol', 'native', 'algorithms', 'nn', 'search', 'sweep', 'db', 'api', 'coordinator', 'worker', 'dashboard'],
};

const TESTS = ['**/*.test.ts', '**/*.test.tsx', '**/test/**', '**/testing.ts'];

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/.next/**', '**/dist/**', 'libs/db/src/generated/**', 'libs/native/build/**', 'test-output/**', '.lmsweep/**', '.nx/**', '**/next-env.d.ts', '.scratch*/**', 'tmp/**'],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs', '**/*.js'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-syntax': ['error', { selector: "MemberExpression[property.name='__proto__']", message: 'never reach through __proto__ (STYLE.md: untrusted keys are data)' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
    },
  },
  {
    files: ['libs/**/*.ts', 'apps/**/*.ts', 'apps/**/*.tsx', 'tools/**/*.ts'],
    ignores: TESTS,
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          enforceBuildableLibDependency: false,
          depConstraints: Object.entries(LAYERS).map(([layer, deps]) => ({ sourceTag: `layer:${layer}`, onlyDependOnLibsWithTags: deps.map((d) => `layer:${d}`) })),
        },
      ],
    },
  },
  {
    // Libraries take options and return values: no printing, no environment.
    files: ['libs/*/src/**/*.ts'],
    ignores: TESTS,
    rules: { 'no-console': 'error' },
  },
  {
    // The dashboard's browser bundle may know the API's types, never its code; of the protocol it
    // takes the zod-free entries only.
    files: ['apps/dashboard/**/*.ts', 'apps/dashboard/**/*.tsx'],
    ignores: TESTS,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@lmsweep/api', '@lmsweep/api/*'], allowTypeImports: true, message: 'the dashboard imports only the API types' },
            { regex: '^@lmsweep/protocol(?!/(?:methods|labels|limits)$)', allowTypeImports: true, message: 'the dashboard imports the protocol\'s browser-safe entries only: @lmsweep/protocol/methods, /labels, /limits' },
          ],
        },
      ],
    },
  },
  {
    // The dashboard's server-only code (sessions, sign-in) may also compare tokens (Node's crypto).
    files: ['apps/dashboard/src/server/**/*.ts'],
    ignores: TESTS,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@lmsweep/api', '@lmsweep/api/*'], allowTypeImports: true, message: 'the dashboard imports only the API types' },
            { regex: '^@lmsweep/protocol(?!/(?:methods|labels|limits|token)$)', allowTypeImports: true, message: "the dashboard's server code imports the protocol's zod-free entries only: /methods, /labels, /limits, /token" },
          ],
        },
      ],
    },
  },
);
