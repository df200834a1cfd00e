import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseRule, ruleDialect, splitOptions } from './parser.js';
import type { ParsedRule, RuleParseError } from './parser.js';
import type { ContentMatch, PcreMatch } from './keywords/common.js';
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
  const alphabet =
    'alert tcp http any -> <> ! [ ] , : ; ( ) " \\ | 0 1 9 $HOME_NET content pcre msg sid / x ' +
    'http_uri nocase,depth 5 ,within service:http bufferlen <=> byte_math bytes oper rvalue result uricontent';
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
  // Snort 3 rules exercise the rewrite (comma modifiers, sticky http_*, service, header-less form).
  const s3file = path.join(SHARED_DIR, 'data', 'rules', 'snort3-community', 'snort3-community.rules');
  const snort3 = fs.existsSync(s3file)
    ? fs
        .readFileSync(s3file, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('alert') && /service:|",/.test(l))
        .filter((_l, i) => i % 50 === 0)
    : [];
  snort3.push(
    'alert http ( msg:"x"; http_header:field user-agent; content:"a",fast_pattern,nocase; bufferlen:1<=>9; sid:1; )',
    'alert tcp any any -> any 80 ( http_uri; content:"/a",depth 5,fast_pattern_offset 0,fast_pattern_length 2; service:http; sid:2; )',
  );
  for (const rule of [...real, ...snort3]) {
    for (let cut = 0; cut < rule.length; cut += 7) {
      const r = parseRule(rule.slice(0, cut));
      if (r.kind === 'error') assert.doesNotMatch(r.reason, /^internal error/);
    }
    // Mutations: a byte replaced by a syntax character the dialect detection looks at.
    for (let k = 0; k < 20; k++) {
      const at = rnd(rule.length);
      const r = parseRule(rule.slice(0, at) + ',;:"('[rnd(5)] + rule.slice(at + 1));
      if (r.kind === 'error') assert.doesNotMatch(r.reason, /^internal error/);
    }
  }
  // The parser still reads valid input after all that.
  assert.equal(ok(snort3[snort3.length - 1]!).sid, 2);
  assert.equal(parseRule('alert tcp ' + '!'.repeat(100000) + 'any any -> any any (sid:1;)').kind, 'error');
  assert.equal(parseRule('alert tcp ' + '['.repeat(5000) + ' any -> any any (sid:1;)').kind, 'error');
});

/** Buffers and modifiers of each match, for comparing two spellings of one rule. */
function shape(r: ParsedRule): unknown[] {
  return r.matches.map((m) =>
    m.kind === 'content' ? { ...m, bytes: [...m.bytes] } : { ...m, regex: m.regex.toString() },
  );
}

test('Snort 3: comma content modifiers', () => {
  const r = ok(
    'alert tcp $EXTERNAL_NET any -> $HOME_NET 7597 ( msg:"x"; flow:to_server,established; content:"BN|10 00|",depth 6; content:"|05 00|",depth 2,offset 8,nocase; content:"a",distance -1,within 10,fast_pattern; metadata:ruleset community; service:ftp; classtype:trojan-activity; sid:115; )',
  );
  const [a, b, c] = r.matches as ContentMatch[];
  assert.deepEqual([...a!.bytes], [0x42, 0x4e, 0x10, 0x00]);
  assert.equal(a!.depth, 6);
  assert.deepEqual([b!.depth, b!.offset, b!.nocase], [2, 8, true]);
  assert.deepEqual([c!.distance, c!.within, c!.fastPattern], [-1, 10, true]);
  assert.equal(r.rev, 0); // Snort 3 rules may omit rev
  assert.deepEqual(r.options.find((o) => o.keyword === 'service')!.value, ['ftp']);
  const fp = ok(
    'alert tcp any any -> any any ( content:"abcdef",fast_pattern_offset 1,fast_pattern_length 3; sid:1; )',
  );
  assert.deepEqual((fp.matches[0] as ContentMatch).fastPattern, [1, 3]);
});

test('Snort 3: sticky http_* buffers before the contents give the Suricata structures', () => {
  const snort = ok(
    'alert tcp $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS ( msg:"x"; flow:to_server,established; http_uri; content:"/hsx.cgi",fast_pattern,nocase; http_raw_uri; content:"../../"; content:"%00",distance 1; http_header; content:"X-A|3A|"; pcre:"/^X-A\\x3a\\s*\\d+/mi"; pkt_data; content:"GET"; service:http; sid:803; rev:21; )',
  );
  const suri = ok(
    'alert tcp $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS (msg:"x"; flow:to_server,established; http.uri; content:"/hsx.cgi"; fast_pattern; nocase; http.uri.raw; content:"../../"; content:"%00"; distance:1; http.header; content:"X-A|3A|"; pcre:"/^X-A\\x3a\\s*\\d+/mi"; pkt_data; content:"GET"; sid:803; rev:21;)',
  );
  assert.deepEqual(shape(snort), shape(suri));
  assert.deepEqual(
    (snort.matches as ContentMatch[]).map((m) => m.buffer),
    ['http.uri', 'http.uri.raw', 'http.uri.raw', 'http.header', 'http.header', null],
  );
  assert.equal((snort.matches[4] as PcreMatch).buffer, 'http.header');
  // Every other keyword is recorded under its Suricata name, so the engine sees one language.
  assert.deepEqual(
    snort.options.map((o) => o.keyword).filter((k) => k.startsWith('http')),
    ['http.uri', 'http.uri.raw', 'http.header'],
  );
  const more = ok(
    'alert tcp any any -> any any ( http_method; content:"POST"; http_client_body; content:"a"; http_cookie; content:"b"; http_stat_code; content:"200"; file_data; content:"MZ"; raw_data; content:"c"; service:http; sid:1; )',
  );
  assert.deepEqual(
    (more.matches as ContentMatch[]).map((m) => m.buffer),
    ['http.method', 'http.request_body', 'http.cookie', 'http.stat_code', 'file.data', null],
  );
});

test('Snort 3: header-less service rules, ssl, http_header:field, bufferlen', () => {
  const h = ok(
    'alert http ( msg:"UA"; flow:to_server,established; http_header:field user-agent; content:"HttpBrowser/1.0",fast_pattern,nocase; metadata:ruleset community; service:http; gid:1; sid:42886; rev:4; )',
  );
  assert.equal(h.protocol, 'http');
  assert.deepEqual(
    [h.src, h.srcPorts, h.dst, h.dstPorts],
    [{ kind: 'any' }, { kind: 'any' }, { kind: 'any' }, { kind: 'any' }],
  );
  assert.equal(h.bidirectional, false);
  assert.equal((h.matches[0] as ContentMatch).buffer, 'http.user_agent');
  assert.equal(ok('alert ssl ( content:"|16 03|"; sid:2; )').protocol, 'tls');
  assert.equal(bad('alert file ( content:"MZ"; sid:3; )').reason, 'unsupported protocol: file');
  assert.equal(bad('alert smtp any any ( sid:1; )').reason, 'syntax: header has 4 fields, expected 7');
  const b = ok(
    'alert tcp any any -> any any ( http_raw_uri; bufferlen:11; http_uri; content:"/a",nocase; bufferlen:5<=>9; pkt_data; bufferlen:>100; service:http; sid:4; )',
  );
  const sizes = b.options
    .filter((o) => o.keyword === 'bsize' || o.keyword === 'dsize')
    .map((o) => [o.keyword, o.value]);
  assert.deepEqual(sizes, [
    ['bsize', { buffer: 'http.uri.raw', op: '=', a: 11, b: 11 }],
    ['bsize', { buffer: 'http.uri', op: '<>', a: 4, b: 10 }],
    ['dsize', { op: '>', a: 100, b: 100 }],
  ]);
  assert.match(
    bad('alert tcp any any -> any any ( http_uri; content:"/a"; bufferlen:>=519,relative; service:http; sid:5; )')
      .reason,
    /^invalid value for bufferlen: unsupported bufferlen option "relative"/,
  );
  assert.match(
    bad('alert http ( http_header:field x-custom; content:"a"; sid:6; )').reason,
    /^invalid value for http_header: header field x-custom/,
  );
  assert.match(
    bad('alert http ( http_uri:query; content:"a"; sid:7; )').reason,
    /^invalid value for http_uri: unsupported http_uri option/,
  );
});

test('Snort 3: flowbits lists, tag, stream_size and content option errors', () => {
  const r = ok(
    'alert tcp any any -> any any ( content:"a",nocase; flowbits:set,a.b&c; flowbits:noalert; tag:session,packets 5; stream_size:>10,to_server; sid:1; )',
  );
  assert.deepEqual(
    r.options.filter((o) => o.keyword === 'flowbits').map((o) => o.value),
    [
      { cmd: 'set', names: ['a.b'], any: false },
      { cmd: 'set', names: ['c'], any: false },
      { cmd: 'noalert', names: [] },
    ],
  );
  assert.deepEqual(r.options.find((o) => o.keyword === 'tag')!.value, {
    type: 'session',
    count: 5,
    unit: 'packets',
    dir: null,
  });
  assert.deepEqual(r.options.find((o) => o.keyword === 'stream_size')!.value, { side: 'client', op: '>', value: 10 });
  const t = ok('alert tcp any any -> any any ( content:"a",nocase; tag:host_dst,seconds 60; stream_size:1; sid:1; )');
  assert.deepEqual(t.options.find((o) => o.keyword === 'tag')!.value, {
    type: 'host',
    count: 60,
    unit: 'seconds',
    dir: 'dst',
  });
  assert.deepEqual(t.options.find((o) => o.keyword === 'stream_size')!.value, { side: 'either', op: '=', value: 1 });
  assert.match(
    bad('alert tcp any any -> any any ( content:"a",rawbytes; sid:1; )').reason,
    /^invalid value for content: unknown content option "rawbytes"/,
  );
  assert.match(bad('alert tcp any any -> any any ( content:"a",depth; sid:1; )').reason, /depth needs a value/);
  assert.match(
    bad('alert tcp any any -> any any ( content:"abc",depth 2; sid:1; )').reason,
    /^invalid value for depth: depth 2 is shorter/,
  );
  assert.match(bad('alert tcp any any -> any any ( content:"a",fast_pattern_offset 0; sid:1; )').reason, /go together/);
  assert.match(
    bad('alert tcp any any -> any any ( content:"a" x,nocase; service:http; sid:1; )').reason,
    /unexpected text after the pattern/,
  );
  assert.match(
    bad('alert tcp any any -> any any ( content:"a",nocase; stream_size:1<>5; sid:1; )').reason,
    /^invalid value for stream_size/,
  );
});

test('dialect: Suricata and Snort 2 legacy modifiers keep their meaning', () => {
  const legacy = 'alert http any any -> any any (content:"/a"; http_uri; content:"b"; nocase; http_header; sid:1;)';
  assert.equal(ruleDialect(legacy), 'suricata');
  assert.deepEqual(
    (ok(legacy).matches as ContentMatch[]).map((m) => m.buffer),
    ['http.uri', 'http.header'],
  );
  // A lone http_uri with nothing reading the buffer is still a modifier without a content.
  assert.match(bad('alert tcp any any -> any any (http_uri; sid:1;)').reason, /needs a preceding content/);
  assert.equal(ruleDialect('alert tcp any any -> any any (http_uri; content:"a"; sid:1;)'), 'snort3');
  assert.equal(ruleDialect('alert tcp any any -> any any (content:"a",nocase; sid:1;)'), 'snort3');
  assert.equal(ruleDialect('alert tcp any any -> any any (content:"a,b"; sid:1;)'), 'suricata');
  assert.equal(ruleDialect('alert tcp any any -> any any (content:"a\\",b"; sid:1;)'), 'suricata');
  assert.equal(ruleDialect('alert tcp any any -> any any (service:dns; sid:1;)'), 'snort3');
  assert.equal(ruleDialect('alert http (sid:1;)'), 'snort3');
  assert.equal(ruleDialect('alert tcp any any -> any any (file_data; content:"a"; sid:1;)'), 'suricata');
  assert.equal(ruleDialect('alert tcp any any -> any any (sid:1;'), null);
  // In Suricata syntax, ssl is no protocol.
  assert.equal(bad('alert ssl any any -> any any (sid:1;)').reason, 'unsupported protocol: ssl');
});

test('uricontent goes into matches like content', () => {
  const r = ok('alert tcp any any -> any any (uricontent:"/index.html"; nocase; content:"x"; sid:1;)');
  assert.deepEqual(
    (r.matches as ContentMatch[]).map((m) => [m.buffer, m.nocase]),
    [
      ['http.uri', true],
      [null, false],
    ],
  );
});
