/**
 * Rules that read the models (ml.* keywords, docs/rules.md "Model keywords"), the model as a second
 * opinion on signature alerts, and shadow mode, through `vigil analyze` on corpus captures with the
 * shipped classifier. Checked by partition: a rule split by a model condition and its negation
 * gives exactly the alerts of the same rule without the condition, each tagged with the verdict.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DIR, tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/reference.js';

const scan = path.join(SHARED_DIR, 'corpus', 'port_scan.pcap');
const benign = path.join(SHARED_DIR, 'corpus', 'benign.pcap');
const have = fs.existsSync(scan) && fs.existsSync(benign);

interface EveAlert {
  signature_id: number;
  metadata?: Record<string, string[]>;
}
interface Summary {
  alerts: number;
  flows: number;
  rules: { loaded: number; skipped: number };
  ml: {
    flows_scored: number;
    shadow?: {
      model: string | null;
      flows_scored: number;
      agree: number;
      agreement: number;
      disagreements: Record<string, number>;
    };
    rule_alerts?: { deferred: number; raised: number; dropped: number; lowered: number };
  };
}

/** Only the test rules and the shipped classifier (no built-in rules, behaviour detectors or limiter). */
const BASE = ['--no-builtin-rules', '--set', 'behavior.enabled=no', '--workers', '1', '--json'];

async function run(pcap: string, rules: string, extra: string[] = []): Promise<{ sum: Summary; alerts: EveAlert[] }> {
  const dir = tempDir();
  try {
    const rf = path.join(dir, 'test.rules');
    fs.writeFileSync(rf, rules);
    const eve = path.join(dir, 'eve.json');
    const r = await runCli(['analyze', pcap, '--rules', rf, '--eve', eve, ...BASE, ...extra]);
    assert.equal(r.code, 0, r.stderr);
    const alerts = fs
      .readFileSync(eve, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { event_type: string; alert?: EveAlert })
      .filter((e) => e.event_type === 'alert')
      .map((e) => e.alert!);
    return { sum: JSON.parse(r.stdout) as Summary, alerts };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const bySid = (alerts: EveAlert[], sid: number): EveAlert[] => alerts.filter((a) => a.signature_id === sid);
const meta = (a: EveAlert, k: string): string | undefined => a.metadata?.[k]?.[0];

test(
  'ml.class and ml.confidence split a signature by the classifier verdict of its flow',
  { skip: !have },
  async () => {
    const rules = [
      'alert tcp any any -> any any (msg:"syn"; flags:S; sid:1; rev:1;)',
      'alert tcp any any -> any any (msg:"syn scan"; flags:S; ml.class:port_scan; sid:2; rev:1;)',
      'alert tcp any any -> any any (msg:"syn not scan"; flags:S; ml.class:!port_scan; sid:3; rev:1;)',
      'alert tcp any any -> any any (msg:"syn sure"; flags:S; ml.confidence:>=0.9; sid:4; rev:1;)',
      'alert tcp any any -> any any (msg:"syn unsure"; flags:S; ml.confidence:<0.9; sid:5; rev:1;)',
      // No anomaly model is active: this rule can never match.
      'alert tcp any any -> any any (msg:"syn odd"; flags:S; ml.anomaly_score:>0.5; sid:6; rev:1;)',
      'alert tcp any any -> any any (msg:"bad"; flags:S; ml.confidence:>2; sid:7; rev:1;)',
    ].join('\n');
    const { sum, alerts } = await run(scan, rules, ['--set', 'ml.limit-seconds=0']);
    assert.equal(sum.rules.loaded, 6);
    assert.equal(sum.rules.skipped, 1, 'ml.confidence:>2 is refused');
    const all = bySid(alerts, 1).length;
    assert.ok(all > 100, `${all} SYN alerts`);
    const scanHits = bySid(alerts, 2);
    const other = bySid(alerts, 3);
    assert.ok(scanHits.length > 0, 'the scan flows are classified port_scan');
    assert.equal(scanHits.length + other.length, all);
    for (const a of scanHits) assert.equal(meta(a, 'ml_class'), 'port_scan');
    for (const a of other) assert.notEqual(meta(a, 'ml_class'), 'port_scan');
    const sure = bySid(alerts, 4);
    const unsure = bySid(alerts, 5);
    assert.equal(sure.length + unsure.length, all);
    for (const a of sure) assert.ok(Number(meta(a, 'ml_confidence')) >= 0.9);
    for (const a of unsure) assert.ok(Number(meta(a, 'ml_confidence')) < 0.9);
    assert.equal(bySid(alerts, 6).length, 0);
    const ra = sum.ml.rule_alerts!;
    // Rules 2-5 wait for every SYN flow's verdict; rule 6 cannot (no anomaly model) and is dropped at once.
    assert.equal(ra.deferred, 4 * all);
    assert.equal(ra.raised, 2 * all);
    assert.equal(ra.dropped, 3 * all);
  },
);

test('a second opinion lowers a signature alert the classifier is confident is benign', { skip: !have }, async () => {
  const rules = [
    'alert tcp any any -> any any (msg:"syn"; flags:S; classtype:attempted-admin; sid:11; rev:1;)',
    'alert tcp any any -> any any (msg:"syn 2nd"; flags:S; classtype:attempted-admin; ml.second_opinion; sid:12; rev:1;)',
  ].join('\n');
  const { sum, alerts } = await run(benign, rules);
  const plain = bySid(alerts, 11);
  const second = bySid(alerts, 12);
  assert.ok(plain.length > 0);
  // A second opinion never drops an alert.
  assert.equal(second.length, plain.length);
  for (const a of plain) assert.equal(meta(a, 'vigil_severity'), 'high');
  let lowered = 0;
  for (const a of second) {
    const benignSure = meta(a, 'ml_class') === 'benign' && Number(meta(a, 'ml_confidence')) >= 0.9;
    if (benignSure) {
      lowered++;
      assert.equal(meta(a, 'vigil_severity'), 'medium');
      assert.equal(meta(a, 'ml_severity_lowered_from'), 'high');
    } else {
      assert.equal(meta(a, 'vigil_severity'), 'high');
      assert.equal(meta(a, 'ml_severity_lowered_from'), undefined);
    }
  }
  assert.ok(lowered > 0, 'benign.pcap has flows the model is sure of');
  assert.equal(sum.ml.rule_alerts!.lowered, lowered);
  // ml.second-opinion.enabled applies it to every signature rule.
  const everywhere = await run(benign, rules, ['--set', 'ml.second-opinion.enabled=yes']);
  assert.equal(everywhere.sum.ml.rule_alerts!.lowered, 2 * lowered);
  // A stricter confidence lowers no more.
  const strict = await run(benign, rules, ['--set', 'ml.second-opinion.confidence=1']);
  assert.ok(strict.sum.ml.rule_alerts!.lowered <= lowered);
});

test(
  'shadow mode scores every flow with a candidate model and reports agreement, without alerts',
  { skip: !have },
  async () => {
    const dir = tempDir();
    try {
      const model = path.join(dir, 'rf');
      const t = await runCli(['train', '--data', scan, '--model', 'logistic_regression', '--out', model]);
      assert.equal(t.code, 0, t.stderr);
      const noRules = '# none\n';
      const active = await run(scan, noRules);
      const same = await run(scan, noRules, ['--set', 'ml.shadow.model=default']);
      // The same model in the shadow: full agreement, and not one alert more.
      assert.equal(same.sum.alerts, active.sum.alerts);
      assert.equal(same.sum.ml.shadow!.flows_scored, same.sum.ml.flows_scored);
      assert.equal(same.sum.ml.shadow!.agreement, 1);
      assert.deepEqual(same.sum.ml.shadow!.disagreements, {});
      const other = await run(scan, noRules, ['--set', `ml.shadow.model=${model}`]);
      assert.equal(other.sum.alerts, active.sum.alerts, 'the shadow model raises no alerts');
      const sh = other.sum.ml.shadow!;
      assert.equal(sh.model, 'logistic_regression');
      const disagree = Object.values(sh.disagreements).reduce((x, y) => x + y, 0);
      assert.equal(sh.agree + disagree, sh.flows_scored);
      // A shadow model that cannot be loaded stops the run, like any configured model.
      const bad = await runCli(['analyze', scan, '--set', 'ml.shadow.model=/nonexistent-model-dir']);
      assert.equal(bad.code, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
