// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The architecture (ARCHITECTURE.md), enforced: each folder lists the imports it must not make.
// Paths are matched as written (relative, `../x/…`); a wrong edge fails `npm run lint` and CI.
const up = (folder) => `^(\\.\\./)+${folder}/`;
const never = (regex, message) => ({ regex, message });
const emulatorNever = never('(^|/)emulator/', 'emulator/ is never imported by production code');
const layers = [
  {
    files: ['src/dis/**/*.ts', 'src/json/**/*.ts', 'src/errors/**/*.ts'],
    patterns: [
      never(
        '^\\.\\./(?!errors/coded-error\\.ts$)',
        'a leaf module: it knows nothing of the rest of the gateway (but the coded error base)',
      ),
    ],
  },
  {
    files: ['src/emulator/**/*.ts'],
    patterns: [
      never('^\\.\\./(?!dis/)', 'the emulator may use dis/ wire types and signing, nothing else'),
    ],
  },
  {
    files: ['src/ingest/**/*.ts'],
    patterns: [
      never(up('http'), 'ingest/ knows nothing of HTTP: dependencies point http → ingest'),
      never('^express$', 'ingest/ knows nothing of Express'),
      never(up('config'), 'ingest/ takes its options, not the config'),
      emulatorNever,
    ],
  },
  {
    files: [
      'src/auth/**/*.ts',
      'src/idempotency/**/*.ts',
      'src/ratelimit/**/*.ts',
      'src/redis/**/*.ts',
      'src/spool/**/*.ts',
      'src/webhooks/**/*.ts',
      'src/observability/**/*.ts',
    ],
    patterns: [
      never(up('(http|ingest)'), 'a building block of ingest/ and http/, never their user'),
      never('^express$', 'only http/ knows Express'),
      emulatorNever,
    ],
  },
  {
    files: ['src/http/**/*.ts'],
    patterns: [
      never(up('(spool|redis)'), 'http/ reaches the spool and Redis only through ingest/'),
      never(
        up('dis') + '(?!(wire|protobuf)\\.ts$)',
        'http/ knows DIS only by its wire formats (dis/wire.ts, dis/protobuf.ts)',
      ),
      never(
        up('ingest') + '(?!(accept-records|accept-delivery|receipts|records|stream-catalog)\\.ts$)',
        'http/ calls ingest/’s use cases (accept-records, accept-delivery, receipts, stream-catalog), not what sits behind them',
      ),
      emulatorNever,
    ],
  },
  {
    files: ['src/config/**/*.ts', 'src/lifecycle/**/*.ts', 'src/cli/**/*.ts'],
    patterns: [never(up('(http|ingest|spool)'), 'not a user of the request path'), emulatorNever],
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', 'coverage/', 'bench-results/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...layers.map(({ files, patterns }) => ({
    files,
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  })),
  {
    // Only the composition roots touch the process (style.md principle 1).
    files: ['src/**/*.ts'],
    ignores: ['src/main.ts', 'src/emulator/main.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        {
          name: 'process',
          message: 'only src/main.ts (and the emulator’s main.ts) touch the process',
        },
      ],
    },
  },
  {
    // The character loops read code units through tokens.ts's codeAt: with ioredis loaded,
    // `text.charCodeAt(i)` is a property lookup and a generic call (see src/json/tokens.ts).
    files: ['src/json/**/*.ts', 'src/http/parse/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='charCodeAt']",
          message: 'use codeAt(text, i) from src/json/tokens.ts (see the note there)',
        },
      ],
    },
  },
  {
    files: ['eslint.config.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
