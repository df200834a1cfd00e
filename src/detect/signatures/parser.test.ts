import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseRule, splitOptions } from './parser.js';
import type { ParsedRule, RuleParseError } from './parser.js';
import type { ContentMatch } from './keywords/common.js';
import { SHARED_DIR } from '../../../test/helpers/paths.js';

function ok(text: string): ParsedRule {
  const r = parseRule(text);
  if (r.kind === 'error') assert.fail(`expected a rule, got: ${r.reason}`);
  return r;
}
function bad(text: string): RuleParseError {
  const r = parseRule(text);
  if (r.kind === 'rule') assert.fail('expected an error');
  return r;
}

test('header: action, protocol, addresses, ports, direction', () => {
  const r = ok('drop tcp $HOME_NET [1024:,!8080] <> ![1.2.3.4,5.6.7.0/24] $HTTP_PORTS (msg:"x"; sid:7; rev:3; gid:2;)');
  assert.equal(r.action, 'drop');
  assert.equal(r.protocol, 'tcp');
  assert.equal(r.bidirectional, true);
  assert.equal(r.src.kind, 'list'); // HOME_NET resolves to the RFC 1918 list
  assert.deepEqual(r.srcPorts, {
    kind: 'list',
    items: [
      { kind: 'range', lo: 1024, hi: 65535 },
      { kind: 'not', expr: { kind: 'range', lo: 8080, hi: 8080 } },
    ],
  });
  assert.equal(r.dst.kind, 'not');
  assert.deepEqual(r.dstPorts, { kind: 'range', lo: 80, hi: 80 });
  assert.equal(r.sid, 7);
  assert.equal(r.rev, 3);
  assert.equal(r.gid, 2);
  assert.equal(r.msg, 'x');
});

test('header errors', () => {
  assert.equal(bad('alert tcp any any -> any any').reason, 'syntax: no option list');
  assert.equal(bad('alert tcp any any any any (sid:1;)').reason, 'syntax: header has 6 fields, expected 7');
  assert.equal(bad('alert tcp any any => any any (sid:1;)').reason, 'syntax: bad direction "=>"');
  assert.equal(bad('log tcp any any -> any any (sid:1;)').reason, 'syntax: unknown action "log"');
  assert.equal(bad('alert modbus any any -> any any (sid:1;)').reason, 'unsupported protocol: modbus');
  assert.equal(bad('alert tcp $NOPE any -> any any (sid:1;)').reason, 'address: unknown address variable $NOPE');
  assert.equal(bad('alert tcp any 70000 -> any any (sid:1;)').reason, 'port: bad port "70000"');
  assert.equal(bad('alert tcp any any -> any any (msg:"no sid";)').reason, 'syntax: no sid');
  for (const a of ['reject', 'rejectsrc', 'rejectdst', 'rejectboth', 'pass'])
    assert.equal(ok(`${a} ip any any -> any any (sid:1;)`).action, a);
  for (const p of ['ip', 'udp', 'icmp', 'http', 'dns', 'tls', 'ssh', 'ftp', 'smtp', 'tcp-pkt', 'ftp-data'])
    assert.equal(ok(`alert ${p} any any -> any any (sid:1;)`).protocol, p);
});

test('header lists may contain spaces', () => {
  const r = ok('alert tcp [10.0.0.1, 10.0.0.2] any -> any [80, 443] (sid:1;)');
  assert.equal(r.src.kind, 'list');
  assert.equal(r.dstPorts.kind, 'list');
});

test('options: escaping of ; " and \\ in values', () => {
  const r = ok('alert tcp any any -> any any (msg:"a\\;b \\"q\\" c\\\\d"; content:"x\\;y\\"z\\\\"; sid:1;)');
  assert.equal(r.msg, 'a;b "q" c\\d');
  const c = r.matches[0] as ContentMatch;
  assert.deepEqual([...c.bytes], [...Buffer.from('x;y"z\\')]);
});

test('splitOptions: keywords with and without values, errors', () => {
  assert.deepEqual(splitOptions(' msg:"a:b"; nocase; sid : 1 ;'), [
    { keyword: 'msg', raw: '"a:b"' },
    { keyword: 'nocase', raw: null },
    { keyword: 'sid', raw: '1' },
  ]);
  assert.equal(splitOptions('msg:"x"; sid:1'), 'option "sid" not terminated by ;');
  assert.equal(splitOptions('msg:"x"; ;'), 'empty option name');
});

test('unsupported keyword names the keyword', () => {
  const e = bad('alert tcp any any -> any any (msg:"x"; lua:foo.lua; sid:1;)');
  assert.equal(e.reason, 'unsupported keyword: lua');
  assert.equal(e.keyword, 'lua');
});

test('invalid values are grouped by keyword', () => {
  const e = bad('alert tcp any any -> any any (content:"|4|"; sid:1;)');
  assert.match(e.reason, /^invalid value for content: /);
  assert.equal(e.group, 'invalid value for content');
  assert.equal(
    bad('alert tcp any any -> any any (nocase:1; sid:1;)').reason,
    'invalid value for nocase: takes no value',
  );
  assert.equal(bad('alert tcp any any -> any any (sid:; )').reason, 'invalid value for sid: a value is required');
});

test('sticky buffers and legacy modifiers set the content buffer', () => {
  const r = ok(
    'alert http any any -> any any (http.uri; content:"/a"; content:"b"; http.host; dotprefix; content:".x.com"; endswith; file_data; content:"MZ"; pkt_data; content:"c"; content:"d"; http_method; sid:1;)',
  );
  const m = r.matches as ContentMatch[];
  assert.deepEqual(
    m.map((c) => c.buffer),
    ['http.uri', 'http.uri', 'http.host', 'file.data', null, 'http.method'],
  );
  assert.deepEqual(m[2]!.transforms, [{ name: 'dotprefix', arg: null }]);
  assert.equal(m[2]!.endswith, true);
  assert.match(
    bad('alert http any any -> any any (http.uri; content:"a"; http_header; sid:1;)').reason,
    /http_header cannot apply to a content in sticky buffer http.uri/,
  );
});

test('parseRule never throws on random input or truncated real rules', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = 'alert tcp any -> <> ! [ ] , : ; ( ) " \\ | 0 1 9 $HOME_NET content pcre msg sid / x';
  for (let i = 0; i < 3000; i++) {
    let s = '';
    const len = rnd(120);
    for (let j = 0; j < len; j++) s += alphabet[rnd(alphabet.length)];
    const r = parseRule(s);
    assert.ok(r.kind === 'rule' || r.kind === 'error');
    if (r.kind === 'error') assert.doesNotMatch(r.reason, /^internal error/);
  }
  const file = path.join(SHARED_DIR, 'data', 'rules', 'et-open', 'emerging-exploit.rules');
  const real = fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('alert'))
        .slice(0, 60)
    : [
        'alert http any any -> any any (msg:"x"; http.uri; content:"|41|"; pcre:"/a/Ui"; byte_test:4,>,1,0,relative; sid:1;)',
      ];
  for (const rule of real) {
    for (let cut = 0; cut < rule.length; cut += 7) {
      const r = parseRule(rule.slice(0, cut));
      if (r.kind === 'error') assert.doesNotMatch(r.reason, /^internal error/);
    }
  }
  assert.equal(parseRule('alert tcp ' + '!'.repeat(100000) + 'any any -> any any (sid:1;)').kind, 'error');
  assert.equal(parseRule('alert tcp ' + '['.repeat(5000) + ' any -> any any (sid:1;)').kind, 'error');
});
