import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const FEATURES = ['auth', 'settings', 'studio', 'gallery', 'admin'];

/**
 * Import boundaries (bulletproof-react style):
 * - a feature never imports another feature, nor the app layer that composes them;
 * - shared code (api/, components/, lib/) never imports a feature or the app layer.
 * Imports are relative, so the patterns match any number of `../` in front.
 */
const upward = String.raw`^(\.\./)+`;
const featureBoundaries = FEATURES.map((feature) => {
  const others = FEATURES.filter((other) => other !== feature).join('|');
  return {
    files: [`src/features/${feature}/**/*.{ts,tsx}`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `${upward}(features/)?(${others})(/|$)`,
              message: `Features must not import each other: move shared code to src/components, src/lib or src/api.`,
            },
            {
              regex: `${upward}app(/|$)`,
              message: 'Features must not import the app layer.',
            },
          ],
        },
      ],
    },
  };
});

export default defineConfig([
  globalIgnores(['dist', 'node_modules', 'e2e/artifacts', '../static']),
  {
    files: ['**/*.{ts,tsx}'],
    extends: [js.configs.recommended, tseslint.configs.recommended, reactHooks.configs.flat.recommended],
    languageOptions: {
      ecmaVersion: 2022,
      globals: globals.browser,
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  ...featureBoundaries,
  {
    files: ['src/{api,components,lib}/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `${upward}(features|app)(/|$)`,
              message: 'Shared code (api, components, lib) must not depend on features or the app layer.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['vite.config.ts', 'eslint.config.js', 'playwright.config.mjs', 'e2e/**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.{js,mjs}'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
  },
]);
