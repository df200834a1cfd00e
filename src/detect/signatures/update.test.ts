import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { tempDir } from '../../../test/helpers/paths.js';
import {
  RulesUpdateError,
  applyFilters,
  diffRules,
  displaySource,
  globRegExp,
  mergeRules,
  parseMatcher,
  parseMatcherConf,
  parseModifyConf,
  parseRulesText,
  pythonRegExp,
  pythonSub,
  readSource,
  readTar,
  readTarGz,
  ruleIdentity,
  runUpdate,
  shellSplit,
  testLoad,
  writeFileAtomic,
} from './update.js';
import type { Filters, RuleEntry, SourceFile } from './update.js';

/** A rule the engine loads: tcp, one content. */
const rule = (sid: number, extra = '', action = 'alert'): string =>
  `${action} tcp any any -> any any (msg:"r${sid}"; content:"x${sid}"; ${extra}sid:${sid}; rev:1;)`;

const file = (group: string, text: string, source = 'src'): SourceFile => ({
  source,
  path: `dir/${group}`,
  group,
  text,
});

const rulesOf = (...files: SourceFile[]): RuleEntry[] => mergeRules(files).rules;
const noFilters = (): Filters => ({ enable: [], disable: [], drop: [], modify: [] });
const sids = (rs: RuleEntry[]): number[] => rs.map((r) => r.sid);

// ---- a minimal tar writer (ustar), enough to build test archives ----

function tarHeader(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, 'utf8'); // name
  h.write('0000644\0', 100); // mode
  h.write('0000000\0', 108); // uid
  h.write('0000000\0', 116); // gid
  h.write(size.toString(8).padStart(11, '0') + '\0', 124); // size, octal
  h.write('00000000000\0', 136); // mtime
  h.fill(' ', 148, 156); // checksum counts as spaces while summing
  h.write(type, 156); // typeflag
  h.write('ustar\0', 257); // magic
  h.write('00', 263); // version
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

function tar(entries: { name: string; data?: string; type?: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    if (e.name.length > 100) {
      // GNU long name: an 'L' entry whose data is the name.
      const n = Buffer.from(e.name + '\0');
      parts.push(tarHeader('././@LongLink', n.length, 'L'), n, Buffer.alloc((512 - (n.length % 512)) % 512));
    }
    parts.push(tarHeader(e.name, data.length, e.type ?? '0'), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

test('ruleIdentity and parseRulesText: commented rules, continuations, metadata, noalert, invalid lines', () => {
  const text = [
    '# a comment (with parentheses)',
    rule(1, 'metadata: deployment Perimeter, signature_severity Major; '),
    '#' + rule(2),
    '# ' + rule(3, 'flowbits:noalert; ').replace('content', '\\\n# content'),
    '',
    'alert tcp any any -> any any (msg:"no sid";)',
    'garbage',
    rule(4, 'noalert; '),
  ].join('\n');
  const { rules, invalid } = parseRulesText(file('a.rules', text));
  assert.deepEqual(
    rules.map((r) => [r.sid, r.enabled, r.line, r.noalert]),
    [
      [1, true, 2, false],
      [2, false, 3, false],
      [3, false, 4, true],
      [4, true, 9, true],
    ],
  );
  assert.deepEqual(rules[0]!.metadata, ['deployment Perimeter', 'signature_severity Major']);
  assert.equal(rules[1]!.text, rule(2));
  assert.equal(rules[2]!.text.includes('#'), false);
  assert.deepEqual(
    invalid.map((v) => [v.line, v.reason]),
    [
      [7, 'not a rule: no sid'],
      [8, 'not a rule: no (options)'],
    ],
  );
  const id = ruleIdentity('drop udp any any -> any any (gid:3; sid:9; rev:4; msg:"m";)');
  assert.deepEqual(typeof id === 'object' && [id.action, id.gid, id.sid, id.rev, id.msg], ['drop', 3, 9, 4, 'm']);
});

test('matchers: sid, gid:sid, gid:sid:rev, lists, re:, group:, NAME.rules, filename:, metadata:, *', () => {
  const rs = rulesOf(
    file('emerging-dos.rules', [rule(1), rule(2, 'metadata:deployment Perimeter; ')].join('\n')),
    file(
      'local.rules',
      [rule(3, 'gid:5; '), rule(4, 'metadata:Deployment Internal, former_category DOS; ')].join('\n'),
    ),
  );
  const hits = (spec: string): number[] => {
    const m = parseMatcher(spec);
    assert.equal(typeof m, 'function', spec);
    return sids(rs.filter(m as (r: RuleEntry) => boolean));
  };
  assert.deepEqual(hits('1'), [1]);
  assert.deepEqual(hits('3'), [], 'a bare sid means gid 1');
  assert.deepEqual(hits('5:3'), [3]);
  assert.deepEqual(hits('1:2:1'), [2]);
  assert.deepEqual(hits('1:2:7'), []);
  assert.deepEqual(hits('1, 1:4'), [1, 4]);
  assert.deepEqual(hits('re:R[12]"'), [1, 2], 're: is case-insensitive');
  assert.deepEqual(hits('re:(?P<q>x)4'), [4]);
  assert.deepEqual(hits('group:emerging-dos.rules'), [1, 2]);
  assert.deepEqual(hits('group:emerging-*'), [1, 2]);
  assert.deepEqual(hits('group:local'), [3, 4], 'without the extension');
  assert.deepEqual(hits('local.rules'), [3, 4]);
  assert.deepEqual(hits('filename:dir/emerging-?os.rules'), [1, 2]);
  assert.deepEqual(hits('metadata: deployment perimeter'), [2]);
  assert.deepEqual(hits('metadata:deployment internal'), [4]);
  assert.deepEqual(hits('metadata:former_category dos'), [4]);
  assert.deepEqual(hits('*'), [1, 2, 3, 4]);
  assert.match(parseMatcher('bogus') as string, /unrecognised matcher/);
  assert.match(parseMatcher('re:(') as string, /bad regular expression/);
  assert.match(parseMatcher('metadata:deployment') as string, /key and a value/);
});

test('globRegExp follows fnmatch', () => {
  assert.ok(globRegExp('a[!b]c').test('axc'));
  assert.ok(!globRegExp('a[!b]c').test('abc'));
  assert.ok(globRegExp('[]]x').test(']x'));
  assert.ok(globRegExp('a.rules').test('a.rules'));
  assert.ok(!globRegExp('a.rules').test('axrules'));
  assert.ok(globRegExp('[').test('['));
});

test('enable/disable/drop conf files: comments, trailing " #" comments, bad lines', () => {
  const ms = parseMatcherConf('# header\n\n  1:2 # the second rule\nre:foo\n', 'disable.conf');
  assert.equal(ms.length, 2);
  assert.throws(
    () => parseMatcherConf('1\nnot-a-matcher\n', 'enable.conf'),
    (e: unknown) =>
      e instanceof RulesUpdateError &&
      e.code === 'VIGIL_RULES_CONF_INVALID' &&
      /^enable\.conf:2: unrecognised matcher/.test(e.message),
  );
});

test('filters: disable, then enable (which wins and turns on commented rules), drop skips noalert', () => {
  const rs = rulesOf(
    file(
      'a.rules',
      [rule(1), rule(2), '# ' + rule(3), rule(4, 'flowbits:noalert; '), rule(5), '#' + rule(6)].join('\n'),
    ),
  );
  const f: Filters = {
    disable: parseMatcherConf('1\n2\n5\n', 'd'),
    enable: parseMatcherConf('2\n3\n', 'e'),
    drop: parseMatcherConf('4\n5\n6\n', 'p'),
    modify: [],
  };
  const c = applyFilters(rs, f);
  assert.deepEqual(
    rs.map((r) => [r.sid, r.enabled, r.action]),
    [
      [1, false, 'alert'],
      [2, true, 'alert'],
      [3, true, 'alert'],
      [4, true, 'alert'],
      [5, false, 'drop'],
      [6, false, 'drop'],
    ],
  );
  assert.deepEqual(c, { enabledByConf: 2, disabledByConf: 3, dropped: 2, modified: 0 });
  assert.ok(rs[4]!.text.startsWith('drop tcp '));
});

test('modify.conf: back-references, shlex quoting, modifysid ${N}, metadata-add, refused edits', () => {
  const conf = [
    '# modify.conf',
    '1 "content:\\"x1\\"" "content:\\"y1\\""',
    're:r2 "(alert)(.*)" "drop\\\\2"',
    'modifysid 3 "(msg:\\")r(\\d+)" | "${1}renamed ${2}"',
    "4 'sid:(?P<n>\\d+);' 'sid:\\g<n>0;'",
    'metadata-add 5 policy balanced',
    '6 "^# " ""',
    '7 "\\(msg" "msg"',
  ].join('\n');
  const filters = parseModifyConf(conf, 'modify.conf');
  assert.equal(filters.length, 7);
  const rs = rulesOf(file('a.rules', [1, 2, 3, 4, 5, 7].map((n) => rule(n)).join('\n') + '\n# ' + rule(6)));
  const warnings: string[] = [];
  const c = applyFilters(rs, { ...noFilters(), modify: filters }, warnings);
  const bySid = new Map(rs.map((r) => [r.sid, r]));
  assert.match(bySid.get(1)!.text, /content:"y1"/);
  assert.equal(bySid.get(2)!.text, rule(2).replace(/^alert/, 'drop'));
  assert.equal(bySid.get(2)!.action, 'drop');
  assert.equal(bySid.get(3)!.msg, 'renamed 3');
  assert.deepEqual([rs[3]!.sid, bySid.has(4)], [40, false], 'the sid changed, in place');
  assert.match(bySid.get(5)!.text, /rev:1; metadata: policy balanced;\)$/);
  assert.deepEqual(bySid.get(5)!.metadata, ['policy balanced']);
  assert.equal(bySid.get(6)!.enabled, true, 'modify sees and can remove the "# " of a disabled rule');
  assert.equal(bySid.get(7)!.text, rule(7), 'an edit that breaks the rule is refused');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /rule 1:7 would no longer be a rule/);
  assert.equal(c.modified, 6);
  assert.throws(() => parseModifyConf('1 "a"', 'm.conf'), /m\.conf:1: expected MATCHER/);
  assert.throws(() => parseModifyConf('1 "(a" "b"', 'm.conf'), /bad regular expression/);
  assert.throws(() => parseModifyConf('1 "(a)" "\\2"', 'm.conf'), /invalid group reference 2/);
  assert.throws(() => parseModifyConf('1 "a" "b', 'm.conf'), /no closing quotation/);
});

test('shellSplit and Python regex/template translation', () => {
  assert.deepEqual(shellSplit(`a "b \\" \\\\ \\d" 'c \\d' d\\ e`), ['a', 'b " \\ \\d', 'c \\d', 'd e']);
  assert.equal(pythonSub(pythonRegExp('(?i)(A)(b)?', ''), '[\\1|\\2|\\g<1>]\\t', 'ac a'), '[a||a]\tc [a||a]\t');
  assert.equal(pythonSub(pythonRegExp('x\\Z', ''), 'y', 'xx'), 'xy');
  assert.equal(pythonSub(/(a)/, '$1\\\\', 'a'), '$1\\', 'a $ in the template is literal');
  assert.throws(() => pythonRegExp('(?x)a', ''), /not supported/);
});

test('sources: a later source overrides an earlier one for the same gid:sid, in the earlier position', () => {
  const m = mergeRules([
    file('a.rules', [rule(1), rule(2), rule(3)].join('\n'), 'first'),
    file('b.rules', [rule(4), '# ' + rule(2, 'priority:1; ')].join('\n'), 'second'),
  ]);
  assert.deepEqual(sids(m.rules), [1, 2, 3, 4]);
  assert.equal(m.rules[1]!.source, 'second');
  assert.equal(m.rules[1]!.enabled, false);
  assert.equal(m.warnings.length, 1);
  assert.match(m.warnings[0]!, /^rule 1:2 from dir\/b\.rules:2 overrides the one from dir\/a\.rules:2$/);
});

test('tar and tar.gz reading: ustar, GNU long names, directories, corruption, caps', () => {
  const long = 'rules/' + 'x'.repeat(120) + '.rules';
  const t = tar([
    { name: 'rules/', type: '5' },
    { name: 'rules/b.rules', data: rule(2) },
    { name: long, data: rule(3) },
    { name: 'rules/a.rules', data: rule(1) + '\n' },
  ]);
  const members = readTar(t);
  assert.deepEqual(
    members.map((m) => [m.name, m.data.toString()]),
    [
      ['rules/b.rules', rule(2)],
      [long, rule(3)],
      ['rules/a.rules', rule(1) + '\n'],
    ],
  );
  assert.deepEqual(
    readTarGz(zlib.gzipSync(t)).map((m) => m.name),
    members.map((m) => m.name),
  );
  const bad = Buffer.from(t);
  bad[600] = 0x41; // inside the second header's name: checksum no longer matches
  assert.throws(() => readTar(bad), /bad tar header checksum at offset 512/);
  assert.throws(() => readTar(t.subarray(0, 1024 + 10)), /runs past the end/);
  assert.throws(() => readTar(t, 2), /more than 2 tar members/);
  assert.throws(() => readTarGz(zlib.gzipSync(t), 1000), /larger than 1000 bytes unpacked/);
});

test('readSource: file, directory (sorted *.rules), tar.gz archive, unreadable path', async () => {
  const dir = tempDir('vigil-rupd-');
  const rulesDir = path.join(dir, 'local');
  fs.mkdirSync(rulesDir);
  fs.writeFileSync(path.join(rulesDir, 'b.rules'), rule(2));
  fs.writeFileSync(path.join(rulesDir, 'a.rules'), rule(1));
  fs.writeFileSync(path.join(rulesDir, 'notes.txt'), rule(9));
  fs.mkdirSync(path.join(rulesDir, 'sub.rules'));
  const d = await readSource(rulesDir);
  assert.deepEqual(
    d.map((f) => [f.group, f.text]),
    [
      ['a.rules', rule(1)],
      ['b.rules', rule(2)],
    ],
  );
  const one = await readSource(path.join(rulesDir, 'b.rules'));
  assert.deepEqual([one.length, one[0]!.group, one[0]!.path], [1, 'b.rules', path.join(rulesDir, 'b.rules')]);
  const tgz = path.join(dir, 'emerging.rules.tar.gz');
  fs.writeFileSync(
    tgz,
    zlib.gzipSync(
      tar([
        { name: 'rules/emerging-b.rules', data: rule(2) },
        { name: 'rules/classification.config', data: 'config classification: x,y,1' },
        { name: 'rules/emerging-a.rules', data: rule(1) },
      ]),
    ),
  );
  const a = await readSource(tgz);
  assert.deepEqual(
    a.map((f) => [f.path, f.group]),
    [
      ['rules/emerging-a.rules', 'emerging-a.rules'],
      ['rules/emerging-b.rules', 'emerging-b.rules'],
    ],
  );
  await assert.rejects(
    readSource(path.join(dir, 'missing.rules')),
    (e: unknown) =>
      e instanceof RulesUpdateError &&
      e.code === 'VIGIL_RULES_SOURCE_UNREADABLE' &&
      /missing\.rules: ENOENT$/.test(e.message),
  );
});

test('readSource over http: rules file, tar.gz, 404, size cap, timeout; URLs are redacted', async () => {
  const tgz = zlib.gzipSync(tar([{ name: 'rules/emerging-x.rules', data: rule(7) }]));
  const server = http.createServer((req, res) => {
    if (req.url === '/secret-code/suricata/custom.rules') res.end(rule(5));
    else if (req.url === '/open/emerging.rules.tar.gz') res.end(tgz);
    else if (req.url === '/big.rules') res.end('#'.repeat(5000));
    else if (req.url === '/chunked.rules') {
      // No content-length: the cap applies while reading.
      res.write('#'.repeat(800));
      res.end('#'.repeat(800));
    } else if (req.url === '/hang.rules')
      res.flushHeaders(); // headers only: the body never ends
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const f = await readSource(`${base}/secret-code/suricata/custom.rules`);
    assert.deepEqual(
      f.map((x) => [x.group, x.text, x.source]),
      [['custom.rules', rule(5), `${base}/.../custom.rules`]],
    );
    const a = await readSource(`${base}/open/emerging.rules.tar.gz`);
    assert.deepEqual(
      a.map((x) => [x.path, x.text]),
      [['rules/emerging-x.rules', rule(7)]],
    );
    await assert.rejects(readSource(`${base}/nothing`), /cannot read source .*nothing: HTTP 404$/);
    await assert.rejects(readSource(`${base}/big.rules`, { maxBytes: 1000 }), /larger than 1000 bytes$/);
    await assert.rejects(readSource(`${base}/chunked.rules`, { maxBytes: 1000 }), /larger than 1000 bytes$/);
    await assert.rejects(readSource(`${base}/hang.rules`, { timeoutMs: 200 }), /timed out after 0\.2 s$/);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  // A port nothing listens on any more.
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  await assert.rejects(readSource(`http://127.0.0.1:${port}/x.rules`), /ECONNREFUSED$/);
  assert.equal(displaySource('https://user:pw@example.com/a/b.tgz?k=1'), 'https://example.com/.../b.tgz');
});

test('testLoad: parse and compile enabled rules only; skips by reason', () => {
  const rs = rulesOf(
    file('a.rules', [rule(1), '# ' + rule(2, 'lua:x.lua; '), rule(3, 'lua:x.lua; '), rule(4)].join('\n')),
  );
  const t = testLoad(rs);
  assert.equal(t.loaded, 2);
  assert.deepEqual(
    t.skipped.map((s) => [s.rule.sid, s.group]),
    [[3, 'unsupported keyword: lua']],
  );
  assert.equal(testLoad(rs, undefined, false).loaded, 2);
});

test('diffRules: added, removed, changed (text or state)', () => {
  const prev = [rule(1), rule(2), '# ' + rule(3), rule(4)].join('\n');
  const rs = rulesOf(file('a.rules', [rule(1), '# ' + rule(2), rule(3), rule(4, 'nocase; '), rule(5)].join('\n')));
  assert.deepEqual(diffRules(prev, rs.slice(0, 4)), { added: [], removed: [], changed: ['1:2', '1:3', '1:4'] });
  assert.deepEqual(diffRules(prev, [rs[0]!, rs[4]!]), { added: ['1:5'], removed: ['1:2', '1:3', '1:4'], changed: [] });
  assert.deepEqual(diffRules(null, [rs[0]!]), { added: ['1:1'], removed: [], changed: [] });
});

test('writeFileAtomic: replaces the file, keeps its mode, leaves no temporary file', () => {
  const dir = tempDir('vigil-rupd-');
  const out = path.join(dir, 'deep', 'suricata.rules');
  writeFileAtomic(out, 'one\n');
  fs.chmodSync(out, 0o600);
  writeFileAtomic(out, 'two\n');
  assert.equal(fs.readFileSync(out, 'utf8'), 'two\n');
  assert.equal(fs.statSync(out).mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(path.dirname(out)), ['suricata.rules']);
  assert.throws(
    () => writeFileAtomic(path.join(out, 'x.rules'), 'x'),
    (e: unknown) => e instanceof RulesUpdateError && e.code === 'VIGIL_RULES_WRITE_FAILED',
  );
});

test('runUpdate: writes the merged file; a failing test load or dry run leaves the old file byte-identical', async () => {
  const dir = tempDir('vigil-rupd-');
  const a = path.join(dir, 'a.rules');
  const b = path.join(dir, 'b.rules');
  const out = path.join(dir, 'out', 'suricata.rules');
  fs.writeFileSync(a, [rule(1), '# ' + rule(2), rule(3, 'lua:x; ')].join('\n'));
  fs.writeFileSync(b, rule(1, 'nocase; '));
  const conf = path.join(dir, 'enable.conf');
  fs.writeFileSync(conf, '2\n');
  const ok = await runUpdate({ sources: [a, b], enableConf: conf, output: out });
  assert.deepEqual(ok.report.errors, []);
  assert.equal(ok.report.written, true);
  assert.deepEqual(
    [ok.report.total, ok.report.enabled, ok.report.loaded, ok.report.skipped, ok.report.enabled_by_conf],
    [3, 3, 2, 1, 1],
  );
  assert.deepEqual(ok.report.skipped_by_reason, { 'unsupported keyword: lua': 1 });
  assert.deepEqual(ok.report.sources, [
    { source: a, files: 1, rules: 2 },
    { source: b, files: 1, rules: 1 },
  ]);
  assert.deepEqual(ok.warnings.length, 1);
  const written = fs.readFileSync(out);
  assert.deepEqual(written.toString().split('\n').slice(2), [rule(1, 'nocase; '), rule(2), rule(3, 'lua:x; '), '']);

  // Every enabled rule fails to load: nothing is written.
  const broken = path.join(dir, 'broken.rules');
  fs.writeFileSync(broken, [rule(1, 'lua:x; '), '# ' + rule(2)].join('\n'));
  const bad = await runUpdate({ sources: [broken], output: out });
  assert.equal(bad.report.written, false);
  assert.deepEqual(bad.report.errors, ['no enabled rule loads: refusing to write']);
  assert.deepEqual(fs.readFileSync(out), written);
  const empty = await runUpdate({ sources: [path.join(dir, 'enable.conf')], output: out, test: false });
  assert.deepEqual(empty.report.errors, ['no enabled rules: refusing to write an empty ruleset']);
  // An unreadable source or filter file throws before anything is written.
  await assert.rejects(runUpdate({ sources: [a, path.join(dir, 'gone')], output: out }), RulesUpdateError);
  await assert.rejects(runUpdate({ sources: [a], disableConf: path.join(dir, 'gone'), output: out }), /ENOENT/);
  assert.deepEqual(fs.readFileSync(out), written);

  const dry = await runUpdate({ sources: [a], output: out, dryRun: true });
  assert.equal(dry.report.written, false);
  assert.equal(dry.report.dry_run, true);
  assert.deepEqual(dry.diff, { added: [], removed: [], changed: ['1:1', '1:2'] });
  assert.deepEqual(fs.readFileSync(out), written);
  assert.deepEqual(fs.readdirSync(path.dirname(out)), ['suricata.rules']);
});
