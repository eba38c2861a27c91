import { describe, expect, it } from 'vitest';
import { addSecret, clearSecrets } from '../../src/engine/redact.js';
import { printJson } from '../../src/cli/io.js';
import { parseWorkflowOutput } from '../action/support/workflow-commands.js';

describe('the -o json document', () => {
  it('parses back to the value, secrets redacted, with no workflow command for a CI runner in it', () => {
    addSecret('s3cr3t-VALUE-42');
    try {
      let out = '';
      const value = { stages: [{ logTail: ['pod: ##[error]forged', 'pod: ::set-output name=x::y', 'pod: line\n::error::two', 'pod: key s3cr3t-VALUE-42 "quoted"'] }] };
      printJson({ stdout: (t) => void (out += t), stderr: () => {} }, value);
      expect(out.endsWith('}\n')).toBe(true);
      expect(JSON.parse(out)).toEqual({ stages: [{ logTail: ['pod: ##[error]forged', 'pod: ::set-output name=x::y', 'pod: line\n::error::two', 'pod: key *** "quoted"'] }] });
      expect(out).not.toContain('s3cr3t');
      expect(parseWorkflowOutput(out).commands).toEqual([]);
    } finally {
      clearSecrets();
    }
  });
});
