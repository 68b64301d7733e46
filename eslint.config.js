// Lint: a small rule set that catches real mistakes, plus the architecture's import boundaries
// (README "Architecture rules"): the pure core and the renderer never reach Node or Electron.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeAndShell = [
  ...builtinModules.flatMap((m) => [m, `${m}/*`]),
  'node:*',
  'electron',
  'electron/*',
  'serialport',
  '@serialport/*',
  'onnxruntime-node',
  '@tensorflow/tfjs-node',
  'ws',
];

function boundary(files, ignores, what, extra = []) {
  return {
    files,
    ignores,
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: [...nodeAndShell, ...extra], message: `${what} imports no Node, Electron or native module; do that in a service or worker (docs/architecture.md).` }],
      }],
    },
  };
}

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', 'test-results/', '.cache/', 'test/fixtures/', 'test/device/msdk-stub/', 'resources/', '**/*.vue'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // The code uses `if (x) (a = b), f();` for short paired updates.
      '@typescript-eslint/no-unused-expressions': 'off',
      // A cursor advanced the same way on every branch reads better than one branch left short.
      'no-useless-assignment': 'off',
      // `let rpc; rpc = create({ emit: () => rpc.emit() })`: the closure needs the binding first.
      'prefer-const': 'off',
      // Tool output is parsed for ANSI escapes (\x1b) on purpose.
      'no-control-regex': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
    },
  },
  // TypeScript resolves names itself; plain .mjs scripts run on Node.
  { files: ['**/*.ts'], rules: { 'no-undef': 'off' } },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: Object.fromEntries(['process', 'console', 'URL', 'Buffer', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'].map((g) => [g, 'readonly'])) },
  },
  // Tests read foreign data (pickles, JSON from Python) whose shape the test itself asserts.
  { files: ['test/**/*.ts', 'src-main/**/*.test.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  {
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/app/**', 'src-main/preload/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Only src-main/app/ and src-main/preload/ import electron.' }] }] },
  },
  boundary(
    ['src-main/{ir,quant,sim,formats,planner}/**/*.ts'],
    ['src-main/**/*.worker.ts', 'src-main/**/*.test.ts'],
    'The core (ir/ quant/ sim/ formats/ planner/)',
    ['**/*.service.ts', '**/project/*', '**/training/*', '**/device/*', '**/toolchain/*', '**/data/*', '**/platform/*', '**/server/*', '**/cli/*'],
  ),
  boundary(['src-renderer/**/*.ts'], [], 'The renderer'),
);
