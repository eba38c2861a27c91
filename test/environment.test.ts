/**
 * Some suites skip themselves where a tool is missing on a developer's machine (kubectl, openssl).
 * In CI nothing may be skipped silently: .ci/run installs these tools, and this test fails if it did not.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const has = (cmd: string, args: string[]): boolean => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe.runIf(process.env.CI === 'true')('the CI machine', () => {
  it.each([
    ['kubectl', ['version', '--client']],
    ['openssl', ['version']],
    ['curl', ['--version']],
  ] as const)('has %s, so no suite is skipped', (cmd, args) => {
    expect(has(cmd, [...args])).toBe(true);
  });

  it('runs Node 22.19 or later', () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(major! > 22 || (major === 22 && minor! >= 19)).toBe(true);
  });
});
