import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule } from '../signatures/parser.js';
import { compileRule } from './compile.js';
import type { CompiledRule } from './compile.js';

function compile(text: string): CompiledRule {
  const r = parseRule(text);
  assert.equal(r.kind, 'rule', r.kind === 'error' ? r.reason : '');
  if (r.kind !== 'rule') throw new Error('unreachable');
  return compileRule(r, 3);
}

const dsizeChecks = (opt: string): unknown[] =>
  compile(`alert tcp any any -> any any (dsize:${opt}; sid:1;)`).checks.filter(
    (c) => c.k === 'cmp' && c.field === 'dsize',
  );

test('dsize with != or >= also requires a payload (Suricata signature mask)', () => {
  assert.deepEqual(dsizeChecks('!9'), [
    { k: 'cmp', field: 'dsize', op: '!=', a: 9, b: 9 },
    { k: 'cmp', field: 'dsize', op: '>', a: 0, b: 0 },
  ]);
  assert.equal(dsizeChecks('>=10').length, 2);
  // <, <=, =, > and <> already decide empty packets themselves.
  for (const o of ['<10', '<=10', '10', '>8', '8<>20']) assert.equal(dsizeChecks(o).length, 1, o);
});

test('app-layer-protocol keeps its mode; protocol-detection-only rules are marked', () => {
  const r = compile(
    'alert tcp any any -> any any (flow:to_client; app-layer-protocol:http1,to_server; app-layer-protocol:!ssh; sid:1;)',
  );
  assert.deepEqual(r.appChecks, [
    { negated: false, proto: 'http', mode: 'to_server' },
    { negated: true, proto: 'ssh', mode: 'direction' },
  ]);
  assert.equal(r.pdOnly, true);
  assert.equal(compile('alert tcp any any -> any any (app-layer-protocol:tls; flowbits:set,x; sid:1;)').pdOnly, true);
  // Payload, packet checks, flow state or a protocol in the header make an ordinary rule.
  assert.equal(compile('alert tcp any any -> any any (app-layer-protocol:tls; content:"a"; sid:1;)').pdOnly, false);
  assert.equal(compile('alert tcp any any -> any any (app-layer-protocol:tls; dsize:>0; sid:1;)').pdOnly, false);
  assert.equal(
    compile('alert tcp any any -> any any (flow:established; app-layer-protocol:tls; sid:1;)').pdOnly,
    false,
  );
  assert.equal(
    compile('alert tcp any any -> any any (app-layer-protocol:tls; flowbits:isset,x; sid:1;)').pdOnly,
    false,
  );
  assert.equal(compile('alert http any any -> any any (app-layer-protocol:http; sid:1;)').pdOnly, false);
  assert.equal(compile('alert tcp any any -> any any (sid:1;)').pdOnly, false);
});

test('payload matches in HTTP rules: loaded, prefiltered on a transaction buffer where one has a content', () => {
  const fastBuffer = (text: string): string => {
    const r = compile(text);
    assert.equal(r.scope, 'http');
    return r.progs[r.fast!.prog]!.buffer;
  };
  // The longest content is in the payload, and even a fast_pattern there: http.uri's is used.
  assert.equal(
    fastBuffer('alert http any any -> any any (content:"a-long-payload-content"; http.uri; content:"/x"; sid:1;)'),
    'http.uri',
  );
  assert.equal(
    fastBuffer('alert http any any -> any any (content:"abc"; fast_pattern; http.method; content:"GET"; sid:1;)'),
    'http.method',
  );
  // No content in a transaction buffer (urilen alone): the payload content is the prefilter.
  assert.equal(fastBuffer('alert http any any -> any any (content:"/icon.php"; urilen:9; sid:1;)'), 'payload');
  // Header buffers, or a payload match in another protocol's rule, have no rebuilt message.
  assert.throws(
    () => compile('alert http any any -> any any (tcp.hdr; content:"|50|"; http.method; content:"GET"; sid:1;)'),
    /packet and transaction buffers in one rule/,
  );
  assert.throws(
    () => compile('alert tls any any -> any any (content:"|16 03|"; tls.sni; content:"x"; sid:1;)'),
    /packet and transaction buffers in one rule/,
  );
  // file.data in an SMTP rule inspects the mail's attachments.
  assert.equal(compile('alert smtp any any -> any any (file.data; content:"MZ"; sid:1;)').scope, 'smtp');
  assert.equal(compile('alert http any any -> any any (file.data; content:"MZ"; sid:1;)').scope, 'http');
  // For any protocol, or HTTP and SMTP: HTTP bodies and attachments.
  const any = compile('alert tcp any any -> any any (file.data; content:"MZ"; sid:1;)');
  assert.deepEqual([any.scope, any.smtpFiles], ['http', true]);
  assert.equal(compile('alert http any any -> any any (file.data; content:"MZ"; sid:1;)').smtpFiles, false);
  assert.equal(compile('alert tcp any any -> any any (http.uri; content:"/x"; sid:1;)').smtpFiles, false);
});
