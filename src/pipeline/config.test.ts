import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError,
  applyEnv,
  applySetting,
  applyYaml,
  defaultConfig,
  midstreamPolicy,
  parseSize,
  tunnelPorts,
} from './config.js';

test('parseSize reads Suricata-style sizes', () => {
  assert.equal(parseSize('1mb'), 1048576);
  assert.equal(parseSize('64 KB'), 65536);
  assert.equal(parseSize('2gb'), 2 * 1024 ** 3);
  assert.equal(parseSize('123'), 123);
  assert.equal(parseSize('lots'), null);
});

test('applySetting applies supported keys and warns about the rest', () => {
  const cfg = defaultConfig();
  assert.equal(applySetting(cfg, 'flow-timeouts.tcp.established', '120'), null);
  assert.equal(cfg.flow.timeouts.tcp.established, 120);
  assert.equal(applySetting(cfg, 'vars.address-groups.HOME_NET', '[10.0.0.0/8]'), null);
  assert.equal(cfg.vars.addressGroups['HOME_NET'], '[10.0.0.0/8]');
  assert.equal(applySetting(cfg, 'stream.reassembly.depth', '2mb'), null);
  assert.equal(cfg.stream.reassemblyDepth, 2 * 1048576);
  assert.match(applySetting(cfg, 'outputs.eve-log.enabled', 'yes') ?? '', /unsupported/);
  assert.throws(() => applySetting(cfg, 'flow.max-flows', '10'), ConfigError);
  assert.throws(() => applySetting(cfg, 'stream.midstream', 'perhaps'), ConfigError);
});

test('applyYaml reads only the sections Vigil uses', () => {
  const cfg = defaultConfig();
  const warnings = applyYaml(cfg, {
    vars: { 'address-groups': { HOME_NET: '[192.168.1.0/24]' } },
    'flow-timeouts': { udp: { new: 5 } },
    stream: { midstream: true, 'async-oneside': true },
    outputs: [{ 'eve-log': { enabled: true } }],
  });
  assert.equal(cfg.vars.addressGroups['HOME_NET'], '[192.168.1.0/24]');
  assert.equal(cfg.flow.timeouts.udp.new, 5);
  assert.equal(cfg.stream.midstream, true);
  // Unsupported keys inside a read section are reported; other sections are skipped quietly.
  assert.deepEqual(warnings, ['unsupported configuration key ignored: stream.async-oneside']);
});

test('midstream exception policy: stream.midstream-policy, else the master switch; IDS cannot drop', () => {
  const cfg = defaultConfig();
  assert.equal(midstreamPolicy(cfg), 'ignore');
  assert.deepEqual(applyYaml(cfg, { 'exception-policy': 'bypass' }), []);
  assert.equal(midstreamPolicy(cfg), 'bypass');
  assert.equal(applySetting(cfg, 'stream.midstream-policy', 'ignore'), null);
  assert.equal(midstreamPolicy(cfg), 'ignore');
  assert.equal(applySetting(cfg, 'stream.midstream-policy', 'pass-flow'), null);
  assert.equal(midstreamPolicy(cfg), 'pass-flow');
  const ids = defaultConfig();
  applySetting(ids, 'exception-policy', 'drop-flow');
  assert.equal(midstreamPolicy(ids), 'ignore');
  assert.throws(() => applySetting(ids, 'exception-policy', 'sometimes'), ConfigError);
});

test('ml keys and the original environment variables (CLASSIFICATION_*, ANOMALY_SCORE_THRESHOLD)', () => {
  const cfg = defaultConfig();
  assert.equal(cfg.ml.enabled, true);
  assert.equal(cfg.ml.classifierModel, 'default');
  assert.equal(cfg.ml.anomalyModel, 'none');
  assert.equal(cfg.ml.anomalyThreshold, null);
  applyEnv(cfg, {
    CLASSIFICATION_ENABLED: 'false',
    CLASSIFICATION_CONFIDENCE_THRESHOLD: '0.75',
    ANOMALY_SCORE_THRESHOLD: '0.6',
    ANOMALY_MODEL_PATH: '/models/if',
  });
  assert.equal(cfg.ml.enabled, false);
  assert.equal(cfg.ml.confidenceThreshold, 0.75);
  assert.equal(cfg.ml.anomalyThreshold, 0.6);
  assert.equal(cfg.ml.anomalyModel, '/models/if');
  assert.equal(applySetting(cfg, 'ml.anomaly.threshold', 'calibrated'), null);
  assert.equal(cfg.ml.anomalyThreshold, null);
  assert.throws(() => applySetting(cfg, 'ml.classifier.confidence-threshold', '0'), ConfigError);
  assert.throws(() => applySetting(cfg, 'ml.anomaly.threshold', '1'), ConfigError);
  assert.throws(() => applyEnv(cfg, { CLASSIFICATION_ENABLED: 'maybe' }), /CLASSIFICATION_ENABLED/);
});

test("-c reads Vigil's behavior and ml sections too", () => {
  const cfg = defaultConfig();
  assert.deepEqual(
    applyYaml(cfg, { behavior: { enabled: false }, ml: { classifier: { 'confidence-threshold': 0.95 } } }),
    [],
  );
  assert.equal(cfg.behavior.enabled, false);
  assert.equal(cfg.ml.confidenceThreshold, 0.95);
});

test('applyYaml reads the eve-log alert verdict option', () => {
  const cfg = defaultConfig();
  assert.equal(cfg.eve.alertVerdict, false);
  applyYaml(cfg, { outputs: [{ 'eve-log': { types: [{ alert: { verdict: 'yes' } }, 'flow'] } }] });
  assert.equal(cfg.eve.alertVerdict, true);
  assert.throws(() => applySetting(cfg, 'outputs.eve-log.types.alert.verdict', 'maybe'), ConfigError);
});

test('decoder.vxlan / decoder.geneve: ports as port expressions with variables, or off', () => {
  const cfg = defaultConfig();
  assert.deepEqual(tunnelPorts(cfg.decoder.vxlan, cfg.vars), [4789]);
  assert.deepEqual(tunnelPorts(cfg.decoder.geneve, cfg.vars), [6081]);
  assert.equal(applySetting(cfg, 'decoder.geneve.ports', '[6081, 7000:7002]'), null);
  assert.deepEqual(tunnelPorts(cfg.decoder.geneve, cfg.vars), [6081, 7000, 7001, 7002]);
  assert.equal(applySetting(cfg, 'decoder.geneve.enabled', 'no'), null);
  assert.deepEqual(tunnelPorts(cfg.decoder.geneve, cfg.vars), []);
  assert.throws(() => applySetting(cfg, 'decoder.vxlan.ports', '[4789, banana]'), ConfigError);
  assert.throws(() => applySetting(cfg, 'decoder.vxlan.enabled', 'maybe'), ConfigError);
  // suricata.yaml: the port group variable of the stock file resolves against `vars`.
  const y = defaultConfig();
  const warnings = applyYaml(y, {
    vars: { 'port-groups': { VXLAN_PORTS: '[4789, 8472]' } },
    decoder: { vxlan: { enabled: true, ports: '$VXLAN_PORTS' }, teredo: { enabled: true } },
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(tunnelPorts(y.decoder.vxlan, y.vars), [4789, 8472]);
});

test('app-layer.protocols.tls.encryption-handling: default unless set; both spellings; from suricata.yaml', () => {
  const cfg = defaultConfig();
  assert.equal(cfg.tls.encryptionHandling, 'default');
  assert.equal(applySetting(cfg, 'app-layer.protocols.tls.encryption-handling', 'Full'), null);
  assert.equal(cfg.tls.encryptionHandling, 'full');
  applySetting(cfg, 'app-layer.protocols.tls.encrypt-handling', 'bypass');
  assert.equal(cfg.tls.encryptionHandling, 'bypass');
  assert.throws(() => applySetting(cfg, 'app-layer.protocols.tls.encryption-handling', 'off'), ConfigError);
  const y = defaultConfig();
  assert.deepEqual(applyYaml(y, { 'app-layer': { protocols: { tls: { 'encryption-handling': 'full' } } } }), []);
  assert.equal(y.tls.encryptionHandling, 'full');
});
