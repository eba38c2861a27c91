import { describe, expect, it } from 'vitest';

import { describeNumberRule, NUMBER_RULES, satisfiesNumberRule } from '../../../src/engine/config/collect.js';
import {
  isEnvVarName,
  isImageReference,
  parseDecimal,
  parseIniBoolean,
  parseWholeNumber,
} from '../../../src/engine/config/rules.js';
import { isDns1123Subdomain } from '../../../src/engine/kube/names.js';
import { editDistance, nearest } from '../../../src/engine/config/suggest.js';

describe('isImageReference', () => {
  it.each([
    'bodyworkml/bodywork-core:latest',
    'bodyworkml/bodywork-core',
    'python',
    'python:3.9-slim',
    'ghcr.io/my-org/my_team/app:v1.2.3',
    'localhost:5000/app',
    'localhost/app',
    'registry.example.com:8443/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    'app:V1_Release',
    'my.registry/a__b/c-d--e',
  ])('accepts %s', (image) => {
    expect(isImageReference(image)).toBe(true);
  });

  it.each([
    '',
    'Bodyworkml/bodywork-core',
    'bodyworkml/Bodywork-Core',
    'bodyworkml/bodywork-core:latest:v2',
    'bodyworkml/bodywork-core:',
    'bodyworkml//core',
    '/core',
    'core/',
    'core:-tag',
    'core@sha256:abc',
    'my image',
    'a_/b',
    `app:${'t'.repeat(129)}`,
  ])('rejects %j', (image) => {
    expect(isImageReference(image)).toBe(false);
  });
});

describe('Kubernetes names', () => {
  it.each([
    ['aws-credentials', true],
    ['db.credentials-1', true],
    ['DB-credentials', false],
    ['db_credentials', false],
    ['-db', false],
    ['', false],
  ])('judges %j as a Secret name: %s', (name, ok) => {
    expect(isDns1123Subdomain(name)).toBe(ok);
  });

  it.each([
    ['AWS_ACCESS_KEY_ID', true],
    ['_x1', true],
    ['1X', false],
    ['DB-PASSWORD', false],
    ['', false],
  ])('judges %j as an environment variable name: %s', (name, ok) => {
    expect(isEnvVarName(name)).toBe(ok);
  });
});

describe('numbers and booleans written in INI files', () => {
  it.each([
    ['42', 42],
    [' -1 ', -1],
    ['1.0', undefined],
    ['two', undefined],
    ['', undefined],
  ])('reads %j as the whole number %j', (text, expected) => {
    expect(parseWholeNumber(text)).toBe(expected);
  });

  it.each([
    ['0.5', 0.5],
    ['.25', 0.25],
    ['1e-1', 0.1],
    ['inf', undefined],
    ['nan', undefined],
    ['0x10', undefined],
  ])('reads %j as the decimal %j', (text, expected) => {
    expect(parseDecimal(text)).toBe(expected);
  });

  it.each([
    ['True', true],
    ['false', false],
    ['YES', true],
    ['no', false],
    ['on', true],
    ['0', false],
    ['maybe', undefined],
  ])('reads %j as the boolean %j (configparser getboolean)', (text, expected) => {
    expect(parseIniBoolean(text)).toBe(expected);
  });

  it.each([
    ['cpuRequest', 0, false, 'a number from 0.001 to 1000000'],
    ['cpuRequest', 0.1, true, 'a number from 0.001 to 1000000'],
    ['retries', 0, true, 'a whole number from 0 to 2147483647'],
    ['memoryRequestMb', 1.5, false, 'a whole number from 1 to 9000000000000'],
    ['port', 65535, true, 'a whole number from 1 to 65535'],
    ['port', 65536, false, 'a whole number from 1 to 65535'],
  ] as const)('checks %s = %j: %s (%s)', (rule, value, ok, description) => {
    expect(satisfiesNumberRule(NUMBER_RULES[rule], value)).toBe(ok);
    expect(describeNumberRule(NUMBER_RULES[rule])).toBe(description);
  });
});

describe('suggestions', () => {
  it('measures edit distance', () => {
    expect(editDistance('RETRYS', 'RETRIES')).toBe(2);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it.each([
    ['RETRYS', ['MAX_COMPLETION_TIME_SECONDS', 'RETRIES'], 'RETRIES'],
    ['retries', ['MAX_COMPLETION_TIME_SECONDS', 'RETRIES'], 'RETRIES'],
    ['dag', ['name', 'docker_image', 'DAG'], 'DAG'],
    ['colour', ['name', 'docker_image', 'DAG'], undefined],
    ['x', [], undefined],
  ])('suggests for %j among %j: %j', (name, candidates, expected) => {
    expect(nearest(name, candidates)).toBe(expected);
  });
});
