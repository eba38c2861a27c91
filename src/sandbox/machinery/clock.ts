/** The sandbox's time source is the engine's (engine/clock.ts), re-exported where the sandbox's layers import it. */
export { systemClock, type Clock } from '../../engine/clock.js';
