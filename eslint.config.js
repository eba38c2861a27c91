import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// client-node's typed per-group APIs (CoreV1Api, …) are 2.9 MB of generated request code that every command using
// the client would compile at start-up; the engine uses the generic KubernetesObjectApi (engine/kube/client.ts).
// In every block below, as a block's no-restricted-imports replaces an earlier block's.
const typedKubeApis = {
  regex: '^@kubernetes/client-node$',
  importNamePattern: '^(?!KubernetesObjectApi$)[A-Za-z0-9]+Api$',
  message: "client-node's typed APIs put its generated request code in the bundle; use KubeClient (engine/kube/client.ts).",
};
const actionsToolkit = { group: ['@actions/*'], message: 'The engine and sandbox must not depend on the Actions toolkit; pass a Logger instead.' };

/** The import rule for a layer of the sandbox: the bans above plus the layer's own patterns. */
const layer = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns: [typedKubeApis, actionsToolkit, ...patterns] }] });

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
    // What ships (the bundles are built from src/); tests may use the typed APIs.
    // One home for each idea (issue 12): a function of more than 80 lines, or a file of more than 400, holds several.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [typedKubeApis] }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // The deploy tool's own code has real types throughout (issue 12); the sandbox still reads request bodies untyped.
    files: ['src/engine/**/*.ts', 'src/action/**/*.ts', 'src/cli/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    // The engine is shared by the action and the CLI: it must stay free of the Actions toolkit
    // so it can run (and be tested) anywhere.
    files: ['src/engine/**/*.ts', 'src/sandbox/**/*.ts'],
    rules: layer(),
  },
  {
    // The engine has one public surface (issue 12): the action and the CLI import it from engine/index.ts, which keeps
    // the parts that bring client-node behind lazy entry functions (its comment says why), or its first part base.ts
    // alone (the post step); a deep import, static or import(), would bypass both.
    files: ['src/action/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [typedKubeApis, { group: ['**/engine/**', '!**/engine/index.js', '!**/engine/base.js'], message: "Import the engine from its index ('../engine/index.js'); its load… functions lazy-load the heavy parts." }] },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "ImportExpression[source.value=/engine\\/(?!index\\.js$)/]", message: "Load the engine's heavy parts through engine/index.ts's load… functions." },
      ],
    },
  },
  {
    // Imports point down (issue 12): the node and its kubelet are clients of any API server (our sandbox's or upstream's
    // kube-apiserver) through their KubeletApi, and the controllers work through the ClusterStore contract (types.ts);
    // they share machinery/ (Status errors, selectors, the clock, the work queue, owner references, …), never the
    // sandbox API server's code, nor each other's.
    files: ['src/sandbox/kubelet/**/*.ts', 'src/sandbox/node/**/*.ts'],
    rules: layer(
      { group: ['**/apiserver', '**/apiserver/**'], message: 'The kubelet and the node must not import the sandbox API server; use the API (KubeletApi) and machinery/.' },
      { group: ['**/controllers', '**/controllers/**'], message: 'The kubelet and the node must not import the controllers; what they share lives in machinery/.' },
    ),
  },
  {
    files: ['src/sandbox/controllers/**/*.ts'],
    rules: layer(
      { group: ['**/apiserver', '**/apiserver/**'], message: 'The controllers must not import the sandbox API server; use the API (ClusterStore) and machinery/.' },
      { group: ['**/kubelet', '**/kubelet/**', '**/node', '**/node/**'], message: 'The controllers must not import the kubelet or the node; what they share lives in machinery/.' },
    ),
  },
  {
    // The API server is the bottom of the control plane: what the controller manager and the kubelet do is theirs
    // (the garbage collector, the namespace controller, …), reached through the API, never imported.
    files: ['src/sandbox/apiserver/**/*.ts'],
    rules: layer({
      group: ['**/controllers', '**/controllers/**', '**/kubelet', '**/kubelet/**', '**/node', '**/node/**'],
      message: 'The API server must not import the controllers, the kubelet or the node: they are its clients.',
    }),
  },
  {
    // machinery/ is the sandbox's apimachinery: everyone's to import, so it imports none of them.
    files: ['src/sandbox/machinery/**/*.ts'],
    rules: layer({
      group: ['**/apiserver', '**/apiserver/**', '**/controllers', '**/controllers/**', '**/kubelet', '**/kubelet/**', '**/node', '**/node/**'],
      message: 'machinery/ is imported by the API server, the controllers and the kubelet; it must import none of them.',
    }),
  },
);
