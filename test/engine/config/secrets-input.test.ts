/** The `secrets` input's lines: names and keys the API accepts, each key once, errors naming the line, never the value. */
import { expect, it } from 'vitest';
import { parseSecretLines } from '../../../src/engine/config/secrets-input.js';

it('parses SECRET_NAME.KEY=value lines into one Secret per name', () => {
  expect(parseSecretLines('aws.ID=a\n# comment\n\naws.KEY = b=c \ndb.PASSWORD=x')).toEqual([
    { name: 'aws', data: { ID: 'a', KEY: 'b=c' } },
    { name: 'db', data: { PASSWORD: 'x' } },
  ]);
});

it('refuses a key given twice, naming both lines and neither value', () => {
  expect(() => parseSecretLines('aws.ID=first-value\naws.ID=second-value')).toThrow('input secrets, line 2: aws.ID is already set (input secrets, line 1); give each key once');
});

it('refuses a Secret name longer than the API allows, before the namespace is created', () => {
  const name = 'a'.repeat(254);
  let message = '';
  try {
    parseSecretLines(`${name}.KEY=the-value`);
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toMatch(/^input secrets, line 1: expected SECRET_NAME\.KEY=value/);
  expect(message).not.toContain('the-value');
  expect(parseSecretLines(`${'a'.repeat(253)}.KEY=v`)).toHaveLength(1);
});
