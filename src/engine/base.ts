/**
 * The engine's base: settings, durations, error words, the Logger, redaction and untrusted text, none of which imports
 * more than Node. The first part of the public index (index.ts), and the only engine module an entry point that must
 * stay small imports alone: the action's post step, whose bundle would otherwise carry client-node's models (index.ts
 * says why).
 */
export * from './settings.js';
export { DURATION_EXPECTED, MAX_DURATION_MS, formatDuration, parseDuration } from './duration.js';
export { abortMessage, errorMessage } from './errors.js';
export { streamBacklog, type Logger } from './logger.js';
export { addSecret, clearSecrets, redact } from './redact.js';
export { neutralise, safeLine, safeLines } from './untrusted.js';
export { cacheCompiledCode } from './compile-cache.js';
export { exitWhenFlushed } from './exit.js';
/** The heap bounds (heap.ts), for a process that runs long; their modules (v8, vm, perf_hooks) are not loaded otherwise. */
export const loadHeapBounds = () => import('./heap.js');
