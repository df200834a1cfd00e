import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PacketBatch } from '../capture/batch.js';
import type { AlertRecord } from '../detect/engine/detector.js';
import { defaultConfig } from '../pipeline/config.js';
import { PacketEngine } from '../pipeline/engine.js';
import type { FlowSink } from '../pipeline/sink.js';
import { ConfigError } from './config.js';
import { framesOf } from './inject.js';
import { RulesError, ServerRules, ruleSourceFromEnv } from './rules.js';

function withDir(fn: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-rules-'));
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const rule = (sid: number, content: string): string =>
  `alert http any any -> any any (msg:"t${sid}"; http.uri; content:"${content}"; sid:${sid}; rev:1;)\n`;

function baseConfig(): ReturnType<typeof defaultConfig> {
  const c = defaultConfig();
  c.ml.enabled = false;
  c.behavior.enabled = false;
  return c;
}

test('rule sources: VIGIL_RULES, else DATA_DIR/rules when present; built-in rules switch', () => {
  withDir((dir) => {
    assert.deepEqual(ruleSourceFromEnv(dir, {}), { paths: [], builtin: true });
    fs.mkdirSync(path.join(dir, 'rules'));
    assert.deepEqual(ruleSourceFromEnv(dir, {}), { paths: [path.join(dir, 'rules')], builtin: true });
    assert.deepEqual(ruleSourceFromEnv(dir, { VIGIL_RULES: ' /a.rules, /b ', VIGIL_BUILTIN_RULES: 'no' }), {
      paths: ['/a.rules', '/b'],
      builtin: false,
    });
    assert.throws(() => ruleSourceFromEnv(dir, { VIGIL_BUILTIN_RULES: 'maybe' }), ConfigError);
  });
});

test('reload swaps in the new rules; a broken or missing ruleset is refused and the old one stays', () => {
  withDir((dir) => {
    const rdir = path.join(dir, 'rules');
    fs.mkdirSync(rdir);
    fs.writeFileSync(path.join(rdir, 'a.rules'), rule(1, '/one'));
    const rules = new ServerRules({ paths: [rdir], builtin: false }, baseConfig);
    let changes = 0;
    rules.on('change', () => changes++);
    assert.equal(rules.info().loaded, 1);
    assert.equal(rules.info().version, 1);
    assert.deepEqual(rules.info().files, [path.join(rdir, 'a.rules')]);

    // A new file in the directory and an unsupported rule (skipped with a reason, not refused).
    fs.writeFileSync(path.join(rdir, 'b.rules'), rule(2, '/two') + 'alert smb any any -> any any (sid:3;)\n');
    const info = rules.reload();
    assert.equal(info.version, 2);
    assert.equal(info.loaded, 2);
    assert.deepEqual(info.skipped_by_reason, { 'unsupported protocol: smb': 1 });
    assert.equal(changes, 1);
    const before = rules.current();

    // Syntax error: refused with file and line.
    fs.writeFileSync(path.join(rdir, 'c.rules'), rule(4, '/four') + 'alert tcp any any -> any any (msg:"no sid";)\n');
    assert.throws(
      () => rules.reload(),
      (e: unknown) => {
        assert.ok(e instanceof RulesError);
        assert.equal(e.errors.length, 1);
        assert.equal(e.errors[0]!.line, 2);
        assert.match(e.errors[0]!.reason, /no sid/);
        return true;
      },
    );
    assert.equal(rules.current(), before, 'the old ruleset stays in use');
    assert.equal(rules.info().version, 2);
    assert.equal(rules.info().last_reload?.ok, false);
    assert.equal(changes, 1);

    // Duplicate sid: refused too.
    fs.writeFileSync(path.join(rdir, 'c.rules'), rule(1, '/again'));
    assert.throws(() => rules.reload(), /duplicate sid/);
    // A configured file that disappeared: refused.
    fs.rmSync(path.join(rdir, 'c.rules'));
    const gone = new ServerRules({ paths: [path.join(rdir, 'a.rules')], builtin: false }, baseConfig);
    fs.rmSync(path.join(rdir, 'a.rules'));
    assert.throws(
      () => gone.reload(),
      (e: unknown) => e instanceof RulesError && /cannot read/.test(e.message),
    );
    assert.equal(gone.info().loaded, 1);
  });
});

test('a running engine switches rulesets between batches (PacketEngine.swapRules)', () => {
  withDir((dir) => {
    const file = path.join(dir, 'r.rules');
    fs.writeFileSync(file, rule(1, '/a'));
    const rules = new ServerRules({ paths: [file], builtin: false }, baseConfig);
    const alerts: AlertRecord[] = [];
    const sink: FlowSink = {
      flow: () => undefined,
      app: () => undefined,
      alert: (a) => void alerts.push(a),
      drain: () => null,
      finish: () => null,
    };
    const engine = new PacketEngine(rules.applyTo(baseConfig()), sink, 64, 0, rules.current());
    rules.on('change', (r) => engine.swapRules(r));
    let t = 1_700_000_000_000_000;
    let port = 40000;
    const request = (uri: string): void => {
      const f = framesOf({
        fields: {
          src_ip: '10.0.0.1',
          dst_ip: '10.0.0.2',
          protocol: 'tcp',
          src_port: port++,
          dst_port: 80,
          payload: `GET ${uri} HTTP/1.1\r\nHost: h\r\n\r\n`,
          // With the response the transaction is complete (and inspected) within the batch.
          response: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
          session: true,
        },
      });
      const b = new PacketBatch(f.frames.length, Buffer.concat(f.frames));
      let off = 0;
      f.frames.forEach((fr, i) => {
        b.off[i] = off;
        b.capLen[i] = fr.length;
        b.origLen[i] = fr.length;
        b.tsUs[i] = t += 1000;
        b.linkType[i] = f.linkType;
        b.ifIndex[i] = 0;
        off += fr.length;
      });
      b.count = f.frames.length;
      engine.process(b);
    };
    request('/a');
    request('/b');
    assert.deepEqual(
      alerts.map((a) => a.sid),
      [1],
    );
    fs.writeFileSync(file, rule(2, '/b'));
    rules.reload();
    request('/a');
    request('/b');
    engine.finish();
    assert.deepEqual(
      alerts.map((a) => a.sid),
      [1, 2],
      'after the reload /a no longer alerts and /b does',
    );
  });
});
