// ESLint flat config: typescript-eslint's recommended rules over the kit's TypeScript.
// Generated and data folders are ignored; notebooks are checked by tslab itself when they run.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'figures/',
      'notebooks/',
      'results/',
      'bench/results/',
      '.jupyter/',
      '.gpu*/',
      '.cache/',
      'data/cache/',
      'data/d4rl/',
      'checkpoints/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Unused arguments named _x are deliberate (interfaces, callbacks).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Plain CommonJS entry points (bin/dmm.js) run under Node without a bundler.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
