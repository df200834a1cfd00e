import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule } from '../parser.js';
import type { ParsedRule } from '../parser.js';
import type { ContentMatch, PcreMatch } from './common.js';
import { translatePcre } from './pcre.js';

/** Parse `alert tcp any any -> any any (OPTS sid:1;)`: the rule, or the error reason as a string. */
function rule(opts: string, proto = 'tcp'): ParsedRule | string {
  const r = parseRule(`alert ${proto} any any -> any any (${opts} sid:1;)`);
  return r.kind === 'rule' ? r : r.reason;
}
function value(opts: string, kw: string): unknown {
  const r = rule(opts);
  if (typeof r === 'string') assert.fail(r);
  return r.options.find((o) => o.keyword === kw)!.value;
}
function reason(opts: string): string {
  const r = rule(opts);
  if (typeof r !== 'string') assert.fail('expected an error');
  return r;
}

test('meta: msg, rev, gid, classtype, priority, reference, metadata, target, noalert, tag', () => {
  const r = rule(
    'msg:"m"; rev:2; gid:3; classtype:Trojan-Activity; priority:2; reference:url,example.com/a,b; metadata:a 1, b 2; target:dest_ip; noalert; tag:session,10,packets;',
  );
  if (typeof r === 'string') assert.fail(r);
  assert.equal(r.classtype, 'trojan-activity');
  assert.equal(r.priority, 2);
  assert.deepEqual(r.references, [{ system: 'url', id: 'example.com/a,b' }]);
  assert.deepEqual(r.metadata, ['a 1', 'b 2']);
  assert.equal(r.target, 'dest_ip');
  assert.equal(r.noalert, true);
  assert.match(reason('msg:unquoted;'), /invalid value for msg/);
  assert.match(reason('priority:0;'), /invalid value for priority/);
  assert.match(reason('target:both;'), /invalid value for target/);
  assert.match(reason('reference:cve;'), /invalid value for reference/);
  assert.match(reason('tag:host,10,packets;'), /needs src or dst/);
  assert.match(reason('rev:x;'), /invalid value for rev/);
});

test('content: text, hex, negation, modifiers', () => {
  const c = value('content:!"GET |20 2F|x"; nocase; offset:2; depth:20; fast_pattern;', 'content') as ContentMatch;
  assert.deepEqual([...c.bytes], [...Buffer.from('GET  /x')].slice(0, 4).concat([0x20, 0x2f, 0x78]));
  assert.equal(c.negated, true);
  assert.equal(c.nocase, true);
  assert.equal(c.offset, 2);
  assert.equal(c.depth, 20);
  assert.equal(c.fastPattern, true);
  const d = value('content:"a"; content:"bcd"; distance:-1; within:3; fast_pattern:1,2;', 'within');
  assert.equal(d, 3);
  const r = rule('content:"abc"; fast_pattern:only; endswith;');
  assert.equal(typeof r, 'object');
});

test('content: invalid values', () => {
  assert.match(reason('content:"|4|";'), /bad hex byte/);
  assert.match(reason('content:"|41";'), /unterminated hex section/);
  assert.match(reason('content:"a"b";'), /unescaped double quote/);
  assert.match(reason('content:"\\x41";'), /invalid escape/);
  assert.match(reason('content:"";'), /empty pattern/);
  assert.match(reason('content:abc;'), /double-quoted/);
  assert.match(reason('content:"abc"; depth:2;'), /shorter than the pattern/);
  assert.match(reason('content:"a"; offset:1; distance:2;'), /cannot be combined/);
  assert.match(reason('content:"a"; depth:70000;'), /0..65535/);
  assert.match(reason('content:"a"; fast_pattern:0,5;'), /chunk outside/);
});

test('content modifiers without a content are rejected', () => {
  for (const m of [
    'nocase;',
    'depth:3;',
    'offset:1;',
    'distance:0;',
    'within:4;',
    'startswith;',
    'endswith;',
    'fast_pattern;',
    'http_uri;',
  ])
    assert.match(reason(m), /needs a preceding content/, m);
  // A sticky buffer starts a new list: the modifier has no content in it.
  assert.match(reason('content:"a"; http.uri; nocase;'), /needs a preceding content/);
  assert.match(reason('pcre:"/a/"; nocase;'), /needs a preceding content/);
});

test('pcre: flags, buffers, translation, unsupported syntax', () => {
  const p = value('pcre:"/^GET\\s+\\/a(?P<n>b)(?P=n)$/Ui";', 'pcre') as PcreMatch;
  assert.equal(p.buffer, 'http.uri');
  assert.equal(p.flags, 'Ui');
  assert.ok(p.regex.test('get /abb'));
  assert.ok(p.regex.test('GET /abb\n')); // PCRE $ matches before a final newline
  const r = value('content:"x"; pcre:!"/a\\;b/R";', 'pcre') as PcreMatch;
  assert.equal(r.negated, true);
  assert.equal(r.relative, true);
  const ci = value('pcre:"/x(?i:ab)y/";', 'pcre') as PcreMatch;
  assert.ok(ci.regex.test('xABy'));
  assert.ok(!ci.regex.test('XABy'));
  assert.match(reason('pcre:"/a++/";'), /^pcre not supported: possessive quantifier$/);
  assert.match(reason('pcre:"/(?>a)/";'), /^pcre not supported: atomic group/);
  assert.match(reason('pcre:"/a(/";'), /^pcre not supported: does not compile in JavaScript/);
  assert.match(reason('pcre:"/a/K";'), /^pcre not supported: unknown pcre flag K/);
  assert.match(reason('pcre:"a";'), /invalid value for pcre: expected \/pattern\/flags/);
  assert.match(reason('http.uri; pcre:"/a/H";'), /conflicts with sticky buffer/);
  assert.deepEqual(translatePcre('\\Aab\\z', ''), { source: '(?<![\\s\\S])ab(?![\\s\\S])', flags: '' });
  assert.deepEqual(translatePcre('(?i)a b # c', 'x'), { source: 'ab', flags: 'i' });
});

test('flow', () => {
  assert.deepEqual(value('flow:established,from_client;', 'flow'), ['established', 'to_server']);
  assert.match(reason('flow:to_client,to_server;'), /conflicts/);
  assert.match(reason('flow:sideways;'), /unknown flow option/);
});

test('flags, dsize, ttl, itype, icode, ip_proto', () => {
  assert.deepEqual(value('flags:S,12;', 'flags'), { modifier: '=', bits: 0x02, ignored: 0xc0 });
  assert.deepEqual(value('flags:+PA;', 'flags'), { modifier: '+', bits: 0x18, ignored: 0 });
  assert.deepEqual(value('flags:0;', 'flags'), { modifier: '=', bits: 0, ignored: 0 });
  assert.match(reason('flags:Q;'), /unknown flag/);
  assert.deepEqual(value('dsize:>100;', 'dsize'), { op: '>', a: 100, b: 100 });
  assert.deepEqual(value('dsize:10<>20;', 'dsize'), { op: '<>', a: 10, b: 20 });
  assert.deepEqual(value('dsize:!0;', 'dsize'), { op: '!=', a: 0, b: 0 });
  assert.match(reason('dsize:20<>10;'), /empty range/);
  assert.match(reason('dsize:abc;'), /expected N/);
  assert.deepEqual(value('ttl:<5;', 'ttl'), { op: '<', a: 5, b: 5 });
  assert.match(reason('ttl:300;'), /out of range/);
  assert.deepEqual(value('itype:8; icode:0;', 'itype'), { op: '=', a: 8, b: 8 });
  assert.deepEqual(value('ip_proto:!tcp;', 'ip_proto'), { op: '!', proto: 6 });
  assert.match(reason('ip_proto:bogus;'), /unknown protocol/);
});

test('isdataat, byte_test, byte_jump, byte_extract', () => {
  assert.deepEqual(value('content:"a"; isdataat:!1,relative;', 'isdataat'), {
    negated: true,
    value: 1,
    relative: true,
    buffer: null,
  });
  const bt = value('byte_test:4,!&,0x10,2,relative,little;', 'byte_test') as Record<string, unknown>;
  assert.equal(bt['negated'], true);
  assert.equal(bt['op'], '&');
  assert.equal(bt['value'], 16);
  assert.equal(bt['endian'], 'little');
  assert.equal((value('byte_test:3,>,100,0,string,dec;', 'byte_test') as Record<string, unknown>)['string'], 'dec');
  assert.match(reason('byte_test:9,>,1,0;'), /bad byte count/);
  assert.match(reason('byte_test:4,~,1,0;'), /bad operator/);
  assert.match(reason('byte_test:4,>,1;'), /expected/);
  assert.match(reason('byte_test:4,>,1,0,sideways;'), /unknown option/);
  const bj = value('byte_jump:2,0,relative,multiplier 2,post_offset -1,from_beginning;', 'byte_jump') as Record<
    string,
    unknown
  >;
  assert.equal(bj['multiplier'], 2);
  assert.equal(bj['postOffset'], -1);
  assert.match(reason('byte_jump:2,0,from_beginning,from_end;'), /conflicts/);
  // byte_extract defines a name usable by later keywords; an undefined name is an error.
  const r = rule('byte_extract:2,0,len,relative; content:"a"; distance:0; within:len; byte_test:1,=,len,0;');
  assert.equal(typeof r, 'object');
  assert.match(reason('content:"a"; within:len;'), /byte_extract variable/);
  assert.match(reason('byte_extract:2,0,1bad;'), /bad variable name/);
});

test('threshold and detection_filter', () => {
  assert.deepEqual(value('threshold:type limit, track by_src, count 1, seconds 60;', 'threshold'), {
    type: 'limit',
    track: 'by_src',
    count: 1,
    seconds: 60,
    multiplier: null,
  });
  assert.deepEqual(value('detection_filter:track by_dst,count 5,seconds 10;', 'detection_filter'), {
    track: 'by_dst',
    count: 5,
    seconds: 10,
  });
  assert.match(reason('threshold:type limit,track by_src,count 1;'), /missing seconds/);
  assert.match(reason('threshold:type often,track by_src,count 1,seconds 1;'), /bad type/);
  assert.match(reason('detection_filter:track by_nobody,count 1,seconds 1;'), /bad track/);
  assert.match(reason('threshold:type limit,track by_src,count 0,seconds 1;'), /count/);
});

test('flowbits, xbits, flowint, stream_size', () => {
  assert.deepEqual(value('flowbits:set,ET.a;', 'flowbits'), { cmd: 'set', names: ['ET.a'], any: false });
  assert.deepEqual(value('flowbits:isset,a|b;', 'flowbits'), { cmd: 'isset', names: ['a', 'b'], any: true });
  const r = rule('flowbits:noalert;');
  assert.equal(typeof r === 'object' && r.noalert, true);
  assert.match(reason('flowbits:flip,a;'), /unknown flowbits command/);
  assert.match(reason('flowbits:set;'), /needs one name/);
  assert.match(reason('flowbits:set,a|b;'), /takes one name/);
  assert.deepEqual(value('xbits:set,x,track ip_src,expire 60;', 'xbits'), {
    cmd: 'set',
    name: 'x',
    track: 'ip_src',
    expire: 60,
  });
  assert.match(reason('xbits:set,x;'), /track/);
  assert.deepEqual(value('flowint:cnt,+,1;', 'flowint'), { name: 'cnt', op: '+', value: 1 });
  assert.deepEqual(value('flowint:cnt,isset;', 'flowint'), { name: 'cnt', op: 'isset', value: null });
  assert.match(reason('flowint:cnt,*,2;'), /unknown flowint operator/);
  assert.deepEqual(value('stream_size:server,>,100;', 'stream_size'), { side: 'server', op: '>', value: 100 });
  assert.match(reason('stream_size:up,>,1;'), /bad side/);
});

test('sticky-buffer keywords: transforms, bsize, urilen, tls.version, base64', () => {
  const r = rule('http.uri; to_lowercase; xor:"0d0a"; content:"a"; bsize:<100;', 'http');
  if (typeof r === 'string') assert.fail(r);
  assert.deepEqual((r.matches[0] as ContentMatch).transforms, [
    { name: 'to_lowercase', arg: null },
    { name: 'xor', arg: '0d0a' },
  ]);
  assert.match(reason('dotprefix; content:"a";'), /needs a preceding sticky buffer/);
  assert.match(reason('http.uri; xor:"zz";'), /hex/);
  assert.match(reason('bsize:10;'), /needs a preceding sticky buffer/);
  assert.deepEqual(value('urilen:>10,raw;', 'urilen'), { op: '>', a: 10, b: 10, raw: true });
  assert.equal(value('tls.version:1.2;', 'tls.version'), 0x0303);
  assert.match(reason('tls.version:9;'), /unknown TLS version/);
  assert.deepEqual(value('base64_decode:bytes 10,offset 2,relative; base64_data; content:"x";', 'base64_decode'), {
    bytes: 10,
    offset: 2,
    relative: true,
    buffer: null,
  });
  assert.match(reason('base64_decode:bytes;'), /unknown option/);
});
