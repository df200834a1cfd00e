// Lint: typescript-eslint recommended plus the layering rules of STYLE.md
// (pipeline code never reaches api/, store/, output/, ... ; no folder-index imports).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const PIPELINE = ['util', 'capture', 'decode', 'flow', 'stream', 'applayer', 'detect', 'alerts'];
const OUTER = ['pipeline', 'output', 'store', 'ml', 'api', 'server', 'realtime', 'cli', 'web'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/index.js', '**/index'], message: 'No folder-index imports.' }] },
      ],
    },
  },
  ...PIPELINE.map((dir) => ({
    files: [`src/${dir}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/index.js', '**/index'], message: 'No folder-index imports.' },
            ...OUTER.map((o) => ({
              group: [`**/${o}/**`],
              message: `Pipeline code (${dir}/) must not import ${o}/: emit through a Sink.`,
            })),
            {
              group: ['fastify', 'socket.io', 'better-sqlite3', 'pg', 'pino'],
              message: 'No drivers or frameworks in pipeline code.',
            },
          ],
        },
      ],
    },
  })),
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
