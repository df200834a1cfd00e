import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  RuleFileError,
  defaultClassifications,
  loadClassificationConfig,
  loadRuleFiles,
  parseClassificationConfig,
  ruleLines,
  rulePriority,
} from './ruleset.js';
import type { SkippedRule } from './ruleset.js';
import { FIXTURES_DIR, SHARED_DIR, findFiles, tempDir } from '../../../test/helpers/paths.js';

test('ruleLines: comments, blank lines, disabled rules, continuations', () => {
  const t = '# c\n\n# alert tcp any any -> any any (sid:1;)\nalert a \\\n b\\\nc\n  alert d\n';
  assert.deepEqual(ruleLines(t), [
    { line: 4, text: 'alert a  bc' },
    { line: 7, text: 'alert d' },
  ]);
});

test('loadRuleFiles: fixture with multi-line rules, duplicates and skip reasons', () => {
  const file = path.join(FIXTURES_DIR, 'rules', 'sample.rules');
  const set = loadRuleFiles([file]);
  assert.deepEqual(
    set.rules.map((r) => r.sid),
    [1000001, 1000003, 1000008],
  );
  assert.equal(set.rules[1]!.msg, 'multi-line rule');
  assert.equal(set.rules[2]!.msg, 'escapes ; " \\ ok');
  const brief = set.skipped.map((s: SkippedRule) => [s.line, s.group]);
  assert.deepEqual(brief, [
    [9, 'unsupported keyword: lua'],
    [10, 'unsupported protocol: modbus'],
    [11, 'duplicate sid'],
    [12, 'invalid value for content'],
    [13, 'invalid value for nocase'],
  ]);
  assert.equal(set.skipped[0]!.keyword, 'lua');
  assert.equal(set.skipped[2]!.reason, 'duplicate sid 1000001');
});

test('loadRuleFiles: vars from the configuration override the defaults', () => {
  const dir = tempDir();
  const f = path.join(dir, 'v.rules');
  fs.writeFileSync(f, 'alert tcp $MINE any -> any $WEB (sid:1;)\n');
  assert.equal(loadRuleFiles([f]).skipped[0]!.reason, 'address: unknown address variable $MINE');
  const set = loadRuleFiles([f], { addressGroups: { MINE: '10.0.0.1' }, portGroups: { WEB: '[80,8080]' } });
  assert.equal(set.rules.length, 1);
  assert.throws(() => loadRuleFiles([path.join(dir, 'missing.rules')]), RuleFileError);
});

test('classification.config parsing and priorities', () => {
  const { classes, errors } = parseClassificationConfig(
    '# c\nconfig classification: trojan-activity,A Network Trojan was detected, 1\nconfig classification: bad\n',
  );
  assert.deepEqual(classes, { 'trojan-activity': { description: 'A Network Trojan was detected', priority: 1 } });
  assert.deepEqual(errors, [{ line: 3, reason: 'expected "config classification: name,description,priority"' }]);
  const def = defaultClassifications();
  assert.equal(def['web-application-attack']!.priority, 1);
  const shared = path.join(SHARED_DIR, 'data', 'rules', 'et-open', 'classification.config');
  if (fs.existsSync(shared)) assert.deepEqual(loadClassificationConfig(shared), def);
  const [r] = loadRuleFiles([path.join(FIXTURES_DIR, 'rules', 'sample.rules')]).rules;
  assert.equal(rulePriority(r!), 3);
  assert.equal(rulePriority({ ...r!, classtype: 'trojan-activity' }), 1);
  assert.equal(rulePriority({ ...r!, classtype: 'trojan-activity', priority: 4 }), 4);
});

function topReasons(skipped: SkippedRule[]): string {
  const m = new Map<string, number>();
  for (const s of skipped) m.set(s.group, (m.get(s.group) ?? 0) + 1);
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([r, n]) => `${n} ${r}`)
    .join('; ');
}

test('ET Open: at least 99 % of rules load', (t) => {
  const files = findFiles(path.join(SHARED_DIR, 'data', 'rules', 'et-open'), /\.rules$/);
  if (files.length === 0) return t.skip('ET Open rules not available');
  const set = loadRuleFiles(files);
  const total = set.rules.length + set.skipped.length;
  t.diagnostic(`ET Open: ${set.rules.length}/${total} loaded; skipped: ${topReasons(set.skipped)}`);
  assert.ok(total > 20000);
  assert.ok(set.rules.length / total >= 0.99, `${set.rules.length}/${total}`);
  assert.equal(set.skipped.filter((s) => s.group === 'internal error').length, 0);
});

test('Snort 3 community: at least 80 % of rules load', (t) => {
  const files = findFiles(path.join(SHARED_DIR, 'data', 'rules', 'snort3-community'), /\.rules$/);
  if (files.length === 0) return t.skip('Snort 3 rules not available');
  const set = loadRuleFiles(files);
  const total = set.rules.length + set.skipped.length;
  t.diagnostic(`Snort 3: ${set.rules.length}/${total} loaded; skipped: ${topReasons(set.skipped)}`);
  assert.ok(total > 3000);
  assert.ok(set.rules.length / total >= 0.8, `${set.rules.length}/${total}`);
  assert.equal(set.skipped.filter((s) => s.group === 'internal error').length, 0);
});

test('suricata-verify: every test.rules file loads completely', (t) => {
  const files = findFiles(path.join(SHARED_DIR, 'data', 'suricata-verify'), /^test\.rules$/);
  if (files.length === 0) return t.skip('suricata-verify not available');
  // One file at a time: each test directory is its own rule set (sids repeat across them).
  let loaded = 0;
  const skipped: string[] = [];
  for (const f of files) {
    const set = loadRuleFiles([f]);
    loaded += set.rules.length;
    for (const s of set.skipped) skipped.push(`${path.basename(path.dirname(s.file))}:${s.line}: ${s.reason}`);
  }
  t.diagnostic(`suricata-verify: ${loaded} rules from ${files.length} files`);
  assert.deepEqual(skipped, []);
});
