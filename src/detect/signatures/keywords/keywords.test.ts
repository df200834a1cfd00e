import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule } from '../parser.js';
import type { ParsedRule } from '../parser.js';
import type { ContentMatch, PcreMatch, UintCompare } from './common.js';
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
    uniqueOn: null,
  });
  assert.deepEqual(
    value('detection_filter: track by_dst, count 3, seconds 60, unique_on dst_port;', 'detection_filter'),
    {
      track: 'by_dst',
      count: 3,
      seconds: 60,
      uniqueOn: 'dst_port',
    },
  );
  assert.match(reason('detection_filter:track by_dst,count 3,seconds 60,unique_on proto;'), /bad unique_on/);
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

test('uricontent: a content in http.uri that later modifiers apply to', () => {
  const r = rule('http.header; to_lowercase; uricontent:"/A"; nocase; depth:10; http_uri; content:"h";', 'http');
  if (typeof r === 'string') assert.fail(r);
  const [u, h] = r.matches as ContentMatch[];
  assert.equal(u!.buffer, 'http.uri');
  assert.deepEqual(u!.transforms, []); // the sticky buffer's transforms are not the URI's
  assert.equal(u!.nocase, true);
  assert.equal(u!.depth, 10);
  assert.equal(h!.buffer, 'http.header'); // uricontent does not move the sticky buffer
  assert.equal(r.options.find((o) => o.keyword === 'uricontent')!.value, u);
  assert.match(reason('uricontent:abc;'), /invalid value for uricontent: expected a double-quoted/);
  assert.match(reason('uricontent:"";'), /empty pattern/);
  assert.match(
    reason('uricontent:"a"; http_header;'),
    /http_header cannot apply to a content in sticky buffer http.uri/,
  );
});

test('header sticky buffers and the new buffer aliases', () => {
  const r = rule(
    'ipv4.hdr; content:"|45|"; depth:1; tcp.hdr; content:"a"; ssh_software; content:"b"; http_request_line; content:"c"; http_header_names; content:"d"; ja4.hash; content:"e";',
  );
  if (typeof r === 'string') assert.fail(r);
  assert.deepEqual(
    (r.matches as ContentMatch[]).map((c) => c.buffer),
    ['ipv4.hdr', 'tcp.hdr', 'ssh.software', 'http.request_line', 'http.header_names', 'ja4.hash'],
  );
  for (const b of ['ipv6.hdr', 'udp.hdr', 'icmpv4.hdr', 'icmpv6.hdr', 'tls.cert_fingerprint', 'dns.answer.name'])
    assert.equal((value(`${b}; content:"x";`, 'content') as ContentMatch).buffer, b, b);
  assert.match(reason('ipv4.hdr:1;'), /invalid value for ipv4.hdr: takes no value/);
});

test('tcp.flags and fragbits', () => {
  assert.deepEqual(value('tcp.flags:R,A;', 'tcp.flags'), value('flags:R,A;', 'flags'));
  assert.deepEqual(value('tcp.flags:S;', 'tcp.flags'), { modifier: '=', bits: 0x02, ignored: 0 });
  assert.match(reason('tcp.flags:SX;'), /invalid value for tcp.flags: unknown flag/);
  assert.deepEqual(value('fragbits:!D;', 'fragbits'), { modifier: '!', bits: 0x2, ignored: 0 });
  assert.deepEqual(value('fragbits:M+;', 'fragbits'), { modifier: '+', bits: 0x1, ignored: 0 });
  assert.deepEqual(value('fragbits:*MDR;', 'fragbits'), { modifier: '*', bits: 0x7, ignored: 0 });
  assert.deepEqual(value('fragbits:M,R;', 'fragbits'), { modifier: '=', bits: 0x1, ignored: 0x4 });
  assert.match(reason('fragbits:X;'), /unknown flag/);
  assert.match(reason('fragbits:!M+;'), /bad fragbits/);
  assert.match(reason('fragbits:0;'), /unknown flag/);
  assert.match(reason('fragbits:M,D,R;'), /expected/);
});

test('ipopts and sameip', () => {
  for (const o of ['rr', 'eol', 'nop', 'ts', 'sec', 'esec', 'lsrr', 'ssrr', 'satid', 'any'])
    assert.deepEqual(value(`ipopts:${o};`, 'ipopts'), { opt: o });
  assert.deepEqual(value('ipopts:LSRR;', 'ipopts'), { opt: 'lsrr' });
  assert.match(reason('ipopts:route;'), /unknown IP option/);
  assert.equal(value('sameip;', 'sameip'), true);
  assert.match(reason('sameip:1;'), /takes no value/);
});

test('header value comparisons: icmp_id, icmp_seq, tcp.mss, tos, id, window, fragoffset, seq, ack', () => {
  const cmp = (opts: string, kw: string): UintCompare => value(opts, kw) as UintCompare;
  assert.deepEqual(cmp('icmp_id:21782;', 'icmp_id'), { op: '=', a: 21782, b: 21782 });
  assert.deepEqual(cmp('icmp_seq:0;', 'icmp_seq'), { op: '=', a: 0, b: 0 });
  assert.deepEqual(cmp('tcp.mss:<536;', 'tcp.mss'), { op: '<', a: 536, b: 536 });
  assert.deepEqual(cmp('tos:!8;', 'tos'), { op: '!=', a: 8, b: 8 });
  assert.deepEqual(cmp('tos:0x10;', 'tos'), { op: '=', a: 16, b: 16 });
  assert.deepEqual(cmp('tos:x10;', 'tos'), { op: '=', a: 16, b: 16 });
  assert.deepEqual(cmp('id:13330;', 'id'), { op: '=', a: 13330, b: 13330 });
  assert.deepEqual(cmp('window:!0;', 'window'), { op: '!=', a: 0, b: 0 });
  assert.deepEqual(cmp('fragoffset:>0;', 'fragoffset'), { op: '>', a: 0, b: 0 });
  assert.deepEqual(cmp('seq:1958810375;', 'seq'), { op: '=', a: 1958810375, b: 1958810375 });
  assert.deepEqual(cmp('ack:4294967295;', 'ack'), { op: '=', a: 0xffffffff, b: 0xffffffff });
  const outOfRange: [string, string][] = [
    ['icmp_id', '65536'],
    ['icmp_seq', '70000'],
    ['tcp.mss', '65536'],
    ['tos', '256'],
    ['id', '65536'],
    ['window', '65536'],
    ['fragoffset', '8192'],
    ['seq', '4294967296'],
    ['ack', '-1'],
  ];
  for (const [kw, bad] of outOfRange)
    assert.match(reason(`${kw}:${bad};`), new RegExp(`invalid value for ${kw.replace('.', '\\.')}`), kw);
  assert.match(reason('window:abc;'), /expected N/);
});

test('app-layer-protocol and service', () => {
  assert.deepEqual(value('app-layer-protocol:HTTP;', 'app-layer-protocol'), {
    negated: false,
    proto: 'http',
    mode: 'direction',
  });
  assert.deepEqual(value('app-layer-protocol:!tls,final;', 'app-layer-protocol'), {
    negated: true,
    proto: 'tls',
    mode: 'final',
  });
  assert.deepEqual(value('app-layer-protocol:http1,to_server;', 'app-layer-protocol'), {
    negated: false,
    proto: 'http1',
    mode: 'to_server',
  });
  assert.equal((value('app-layer-protocol:failed;', 'app-layer-protocol') as { proto: string }).proto, 'failed');
  assert.match(reason('app-layer-protocol:!unknown;'), /cannot be negated/);
  assert.match(reason('app-layer-protocol:http,sideways;'), /unknown mode/);
  assert.match(reason('app-layer-protocol:http,final,x;'), /expected/);
  assert.match(reason('app-layer-protocol:ht tp;'), /bad protocol name/);
  assert.deepEqual(value('service:http,SSL,ftp-data,ssl;', 'service'), ['http', 'tls', 'ftp-data']);
  assert.match(reason('service:http,!dns;'), /bad service name/);
  assert.match(reason('service:;'), /a value is required/);
});

test('ssh.protoversion and ssh.softwareversion', () => {
  assert.deepEqual(value('ssh.protoversion:2.0;', 'ssh.protoversion'), { value: '2.0' });
  assert.deepEqual(value('ssh.protoversion:2_compat;', 'ssh.protoversion'), { value: '2_compat' });
  assert.deepEqual(value('ssh.softwareversion:"OpenSSH";', 'ssh.softwareversion'), { value: 'OpenSSH' });
  assert.match(reason('ssh.softwareversion:Open SSH;'), /invalid value for ssh.softwareversion/);
  assert.match(reason('ssh.protoversion:"";'), /invalid value for ssh.protoversion/);
});

test('byte_math', () => {
  const bm = value(
    'byte_extract:1,0,ev; byte_math:bytes 2, offset -1, oper <<, rvalue ev, result r, relative, endian little, string hex, bitmask 0xff00; byte_test:1,=,r,0;',
    'byte_math',
  );
  assert.deepEqual(bm, {
    bytes: 2,
    offset: -1,
    oper: '<<',
    rvalue: 'ev',
    result: 'r',
    relative: true,
    endian: 'little',
    string: 'hex',
    bitmask: 0xff00,
    buffer: null,
  });
  // Fields in any order; `dce` alone sets the endianness; a byte variable as the byte count.
  const r = rule(
    'byte_extract:1,0,n; byte_math:result out,rvalue 7,oper /,offset 3,bytes n,dce; content:"a"; within:out;',
  );
  if (typeof r === 'string') assert.fail(r);
  const v = r.options.find((o) => o.keyword === 'byte_math')!.value as Record<string, unknown>;
  assert.equal(v['bytes'], 'n');
  assert.equal(v['endian'], 'dce');
  assert.equal(v['relative'], false);
  assert.equal(v['string'], null);
  assert.equal(v['bitmask'], null);
  assert.equal(
    (value('http.uri; byte_math:bytes 1,offset 0,oper +,rvalue 1,result x;', 'byte_math') as { buffer: string }).buffer,
    'http.uri',
  );
  assert.match(reason('byte_math:bytes 1,offset 0,oper +,rvalue 1;'), /missing result/);
  assert.match(reason('byte_math:bytes 1,offset 0,oper %,rvalue 1,result x;'), /bad operator/);
  assert.match(reason('byte_math:bytes 11,offset 0,oper +,rvalue 1,result x;'), /bad byte count/);
  assert.match(reason('byte_math:bytes 5,offset 0,oper >>,rvalue 1,result x;'), /at most 4 bytes/);
  assert.match(reason('byte_math:bytes 1,offset 0,oper +,rvalue nope,result x;'), /bad rvalue/);
  assert.match(reason('byte_math:bytes 1,offset 70000,oper +,rvalue 1,result x;'), /bad offset/);
  assert.match(reason('byte_math:bytes 1,offset 0,oper +,rvalue 1,result x,dce,endian big;'), /dce conflicts/);
  assert.match(reason('byte_math:bytes 1,offset 0,oper +,rvalue 1,result x,bytes 2;'), /given twice/);
  assert.match(reason('byte_math:bytes 1,offset 0,oper +,rvalue 1,result x,align;'), /unknown option/);
  assert.match(reason('byte_math:bytes 1,offset 0,oper +,rvalue 1,result 9x;'), /bad variable name/);
  assert.match(reason('byte_math:bytes 1,offset 0,oper +,rvalue 1,result x,string bin;'), /bad string base/);
});

test('byte_test and byte_jump: variable byte counts, 0 with string, wide offsets', () => {
  const bt = value('byte_extract:1,5,n; byte_test:n,=,0x01,5, bitmask 0xFF;', 'byte_test') as Record<string, unknown>;
  assert.equal(bt['bytes'], 'n');
  assert.equal(bt['bitmask'], 0xff);
  assert.equal((value('byte_test:1,=,65,214748364;', 'byte_test') as Record<string, unknown>)['offset'], 214748364);
  assert.deepEqual(
    [
      (value('byte_test:1,!,2,0;', 'byte_test') as Record<string, unknown>)['negated'],
      (value('byte_test:1,!,2,0;', 'byte_test') as Record<string, unknown>)['op'],
    ],
    [true, '='],
  );
  const bj = value('content:"?"; byte_jump:0,0,relative,string,from_end,post_offset -3;', 'byte_jump') as Record<
    string,
    unknown
  >;
  assert.equal(bj['bytes'], 0);
  assert.equal(bj['fromEnd'], true);
  assert.equal(
    (value('byte_extract:1,4,len; byte_jump:len,0,relative;', 'byte_jump') as Record<string, unknown>)['bytes'],
    'len',
  );
  assert.equal((value('byte_jump:20,0,string,dec;', 'byte_jump') as Record<string, unknown>)['bytes'], 20);
  assert.match(reason('byte_jump:0,0;'), /bad byte count/);
  assert.match(reason('byte_jump:len,0;'), /bad byte count/);
  assert.match(reason('byte_jump:24,0,string,dec;'), /bad byte count/);
  assert.match(reason('byte_jump:2,70000;'), /bad offset/);
  assert.match(reason('byte_test:1,=,1,2147483648;'), /bad offset/);
  assert.match(reason('byte_extract:1,0,n; byte_extract:n,0,m;'), /bad byte count/);
});

test('pcre: capture variables and the ungreedy flag', () => {
  const p = value('pcre:"/^([a-z]+) (\\d)/,alert:ua, flow:ver";', 'pcre') as PcreMatch;
  assert.deepEqual(p.captures, [
    { scope: 'alert', name: 'ua' },
    { scope: 'flow', name: 'ver' },
  ]);
  assert.equal(p.flags, '');
  assert.deepEqual((value('pcre:"/a/i";', 'pcre') as PcreMatch).captures, []);
  assert.match(reason('pcre:"/a/i,global:x";'), /bad capture/);
  assert.match(reason('pcre:"/a/i,";'), /bad capture/);
  // G swaps greediness; group openers are not quantifiers.
  assert.deepEqual(translatePcre('a.*b+?c{2,3}(?:x)?\\d?[*+?]', 'G'), {
    source: 'a.*?b+c{2,3}?(?:x)??\\d??[*+?]',
    flags: '',
  });
  const g = value('pcre:"/<(.+)>/G";', 'pcre') as PcreMatch;
  assert.equal(g.regex.exec('<a><b>')![1], 'a');
  assert.match(reason('pcre:"/a*+/G";'), /possessive quantifier/);
});

test('rem is a remark', () => {
  assert.equal(value('rem:"a note: here";', 'rem'), 'a note: here');
  assert.match(reason('rem:note;'), /invalid value for rem/);
});

test('model keywords: ml.class, ml.confidence, ml.anomaly_score, ml.second_opinion', () => {
  assert.deepEqual(value('ml.class:Brute_Force, dos;', 'ml.class'), {
    negated: false,
    classes: ['brute_force', 'dos'],
  });
  assert.deepEqual(value('ml.class:!benign;', 'ml.class'), { negated: true, classes: ['benign'] });
  assert.deepEqual(value('ml.confidence:>=0.8;', 'ml.confidence'), { op: '>=', value: 0.8 });
  assert.deepEqual(value('ml.anomaly_score:>0.9;', 'ml.anomaly_score'), { op: '>', value: 0.9 });
  assert.deepEqual(value('ml.anomaly_score:0.5;', 'ml.anomaly_score'), { op: '=', value: 0.5 });
  assert.equal(value('ml.second_opinion;', 'ml.second_opinion'), true);
  assert.match(reason('ml.class:;'), /ml.class/);
  assert.match(reason('ml.class:!;'), /expected one or more class names/);
  assert.match(reason('ml.confidence:>1.5;'), /between 0 and 1/);
  assert.match(reason('ml.anomaly_score:high;'), /expected an operator and a number/);
  assert.match(reason('ml.second_opinion:yes;'), /ml.second_opinion/);
});
