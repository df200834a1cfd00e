import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BehaviorConfigError, applyBehaviorSetting, defaultBehaviorConfig } from './config.js';
import { BEHAVIOR_DETECTORS } from './registry.js';
import { homeMatcher } from './engine.js';
import { parseIp } from '../../flow/key.js';

test('behaviour settings: switches, thresholds, unknown keys warn, bad values throw', () => {
  const cfg = defaultBehaviorConfig();
  assert.equal(cfg.enabled, true);
  assert.equal(applyBehaviorSetting(cfg, 'behavior.enabled', 'no'), null);
  assert.equal(cfg.enabled, false);
  assert.throws(() => applyBehaviorSetting(cfg, 'behavior.enabled', 'maybe'), BehaviorConfigError);
  assert.match(applyBehaviorSetting(cfg, 'behavior.nosuch.x', '1') ?? '', /unknown behaviour detector/);
  assert.match(applyBehaviorSetting(cfg, 'behavior', '1') ?? '', /unsupported/);
  for (const d of BEHAVIOR_DETECTORS) {
    const key = Object.keys(d.defaults)[0];
    if (key === undefined) continue;
    assert.equal(applyBehaviorSetting(cfg, `behavior.${d.name}.${key}`, '42'), null);
    assert.equal(cfg.params[d.name]![key], 42);
    assert.throws(() => applyBehaviorSetting(cfg, `behavior.${d.name}.${key}`, '-1'), BehaviorConfigError);
    assert.match(applyBehaviorSetting(cfg, `behavior.${d.name}.nosuchkey`, '1') ?? '', /unknown behaviour setting/);
    assert.equal(applyBehaviorSetting(cfg, `behavior.${d.name}.enabled`, 'off'), null);
    assert.ok(cfg.disabled.includes(d.name));
    applyBehaviorSetting(cfg, `behavior.${d.name}.enabled`, 'on');
    assert.ok(!cfg.disabled.includes(d.name));
  }
});

test('HOME_NET decides what is internal; RFC 1918 when unset', () => {
  const w = new Uint32Array(4);
  const at = (m: ReturnType<typeof homeMatcher>, ip: string): boolean => m(parseIp(ip, w, 0), w, 0);
  const def = homeMatcher({});
  assert.equal(at(def, '10.1.2.3'), true);
  assert.equal(at(def, '172.20.0.1'), true);
  assert.equal(at(def, '203.0.113.5'), false);
  const custom = homeMatcher({ HOME_NET: '[198.51.100.0/24]' });
  assert.equal(at(custom, '198.51.100.7'), true);
  assert.equal(at(custom, '10.1.2.3'), false);
});
