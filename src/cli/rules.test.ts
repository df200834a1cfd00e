import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { CLI, FIXTURES_DIR } from '../../test/helpers/paths.js';
import { runCli } from '../../test/helpers/reference.js';
import fs from 'node:fs';

const SAMPLE = path.join(FIXTURES_DIR, 'rules', 'sample.rules');

test('vigil rules check --json', { skip: !fs.existsSync(CLI) && 'CLI not built' }, async () => {
  const r = await runCli(['rules', 'check', SAMPLE, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    loaded: 3,
    skipped: 5,
    skipped_by_reason: {
      'duplicate sid': 1,
      'invalid value for content': 1,
      'invalid value for nocase': 1,
      'unsupported keyword: lua': 1,
      'unsupported protocol: modbus': 1,
    },
  });
});

test(
  'vigil rules check: text, --verbose, --set, errors',
  { skip: !fs.existsSync(CLI) && 'CLI not built' },
  async () => {
    const r = await runCli(['rules', 'check', SAMPLE, '--verbose']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^3 rules loaded, 5 skipped/);
    assert.match(r.stdout, /sample\.rules:9: unsupported keyword: lua/);
    const missing = await runCli(['rules', 'check', path.join(FIXTURES_DIR, 'rules', 'missing.rules')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^vigil: cannot read rule file .*missing\.rules: ENOENT\n$/);
    assert.equal((await runCli(['rules', 'check'])).code, 2);
    assert.equal((await runCli(['rules', 'frobnicate', SAMPLE])).code, 2);
    assert.equal((await runCli(['rules', 'check', SAMPLE, '--bogus'])).code, 2);
    const set = await runCli([
      'rules',
      'check',
      SAMPLE,
      '--json',
      '--set',
      'vars.address-groups.HOME_NET=[10.0.0.0/8]',
    ]);
    assert.equal(JSON.parse(set.stdout).loaded, 3);
  },
);
