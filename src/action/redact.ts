/** The action's redaction is the engine's (one home): see engine/redact.ts. */
export { addSecret, clearSecrets, redact } from '../engine/index.js';
