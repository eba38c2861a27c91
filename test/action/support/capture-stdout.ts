/** What @actions/core writes to stdout during a test (its commands: ::add-mask:: ...), kept from the real stdout. */
import { vi } from 'vitest';

export function captureStdout(): { lines: () => string[] } {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return { lines: () => chunks.join('').split('\n').filter((l) => l !== '') };
}
