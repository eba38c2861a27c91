import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'examples/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The engine is shared by the action and the CLI: it must stay free of the Actions toolkit
    // so it can run (and be tested) anywhere.
    files: ['src/engine/**/*.ts', 'src/sandbox/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@actions/*'], message: 'The engine and sandbox must not depend on the Actions toolkit; pass a Logger instead.' }] },
      ],
    },
  },
  {
    // Imports point down (issue 12): the node and its kubelet are clients of any API server (our sandbox's or upstream's
    // kube-apiserver) through their KubeletApi, and the controllers work through the ClusterStore contract (types.ts);
    // they share machinery/ (Status errors, …), never the sandbox API server's code.
    // (This block's rule replaces the one above for these files, so the toolkit pattern is repeated.)
    files: ['src/sandbox/kubelet/**/*.ts', 'src/sandbox/node/**/*.ts', 'src/sandbox/controllers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@actions/*'], message: 'The engine and sandbox must not depend on the Actions toolkit; pass a Logger instead.' },
            { group: ['**/apiserver', '**/apiserver/**'], message: 'The kubelet, the node and the controllers must not import the sandbox API server; use the API (KubeletApi, ClusterStore) and machinery/.' },
          ],
        },
      ],
    },
  },
);
