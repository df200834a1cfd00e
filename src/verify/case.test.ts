import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyzeArgv, discoverCases, expandVars, loadCase, splitArgs } from './case.js';
import { VerifyError } from './errors.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-verify-case-'));
}

/** Write files (path relative to root → content) and return root. */
function tree(root: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

const badCase = (re: RegExp) => (e: unknown) =>
  e instanceof VerifyError && e.code === 'VIGIL_VERIFY_BAD_CASE' && re.test(e.message);

test('splitArgs splits like a shell', () => {
  assert.deepEqual(splitArgs('-k none --set stream.midstream=true'), ['-k', 'none', '--set', 'stream.midstream=true']);
  assert.deepEqual(splitArgs('  -k\tnone  '), ['-k', 'none']);
  assert.deepEqual(splitArgs(''), []);
  assert.deepEqual(splitArgs(`--set "a b=c d" 'x "y"' z\\ w`), ['--set', 'a b=c d', 'x "y"', 'z w']);
  assert.deepEqual(splitArgs(`--set=a"b c"'d'`), ['--set=ab cd']);
  assert.deepEqual(splitArgs(`"" ''`), ['', '']);
  assert.deepEqual(splitArgs(`"q\\"q" "back\\\\slash" "keep\\n"`), ['q"q', 'back\\slash', 'keep\\n']);
  // Quoted or escaped $ is kept literal ($$ for expandVars); unquoted and "..." $ expand later.
  assert.deepEqual(splitArgs(`'$HOME' \\$HOME "\\$HOME" "$HOME" $HOME`), [
    '$$HOME',
    '$$HOME',
    '$$HOME',
    '$HOME',
    '$HOME',
  ]);
  assert.throws(() => splitArgs(`--set 'a`), badCase(/unterminated '/));
  assert.throws(() => splitArgs(`--set "a`), badCase(/unterminated "/));
  assert.throws(() => splitArgs('a\\'), badCase(/trailing backslash/));
});

test('expandVars substitutes ${NAME} and $NAME as string.Template does', () => {
  const vars = { TEST_DIR: '/cases/t 1', X: 'x' };
  assert.equal(
    expandVars('threshold-file=${TEST_DIR}/threshold.config', vars),
    'threshold-file=/cases/t 1/threshold.config',
  );
  assert.equal(expandVars('$TEST_DIR/a', vars), '/cases/t 1/a');
  assert.equal(expandVars('$X$X ${X}y', vars), 'xx xy');
  assert.equal(expandVars('$$X cost $5 $', vars), '$X cost $5 $');
  assert.equal(expandVars('no vars', {}), 'no vars');
  assert.throws(() => expandVars('${SRCDIR}/etc', vars), badCase(/unknown variable \$SRCDIR/));
  // Through splitArgs: single quotes keep $ literal.
  assert.deepEqual(
    splitArgs(`--set 'a=$X' --set "b=$X"`).map((a) => expandVars(a, vars)),
    ['--set', 'a=$X', '--set', 'b=x'],
  );
});

test('discoverCases: a case directory, or a directory containing cases', () => {
  const root = tree(tempDir(), {
    'b-case/test.yaml': '',
    'a-case/test.yaml': '',
    'a-case/inner/test.yaml': '', // a case inside a case is not a separate case
    'group/c-case/test.yaml': '',
    'group/notes.txt': '',
    '.hidden/d-case/test.yaml': '',
    'empty/x.txt': '',
  });
  try {
    assert.deepEqual(
      discoverCases([root]).map((c) => [c.name, c.dir]),
      [
        ['a-case', path.join(root, 'a-case')],
        ['b-case', path.join(root, 'b-case')],
        ['group/c-case', path.join(root, 'group', 'c-case')],
      ],
    );
    assert.deepEqual(
      discoverCases([path.join(root, 'b-case'), path.join(root, 'group')]).map((c) => c.name),
      ['b-case', 'c-case'],
    );
    const notFound = (re: RegExp) => (e: unknown) =>
      e instanceof VerifyError && e.code === 'VIGIL_VERIFY_NOT_FOUND' && re.test(e.message);
    assert.throws(() => discoverCases([path.join(root, 'nope')]), notFound(/nope: no such directory/));
    assert.throws(() => discoverCases([path.join(root, 'group', 'notes.txt')]), notFound(/not a directory/));
    assert.throws(() => discoverCases([path.join(root, 'empty')]), notFound(/no case directory/));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('loadCase reads test.yaml and finds the capture, rules and suricata.yaml', () => {
  const root = tree(tempDir(), {
    'full/test.yaml': [
      'requires:',
      '  min-version: 7',
      'args:',
      '  - -k none',
      '  - --set threshold-file=${TEST_DIR}/threshold.config',
      'checks:',
      '  - filter:',
      '      count: 1',
      '      match: { event_type: alert, alert.signature_id: 1 }',
      '  - filter:',
      '      requires: { lt-version: 8.0.5 }',
      '      min-version: 6',
      '      gt: 0',
      '      lt: 10',
      '      comment: flows',
      '      match: { event_type: flow }',
      '  - stats: { decoder.ipv4: 17 }',
      '    shell: { args: "true" }',
    ].join('\n'),
    'full/input.pcap': '',
    'full/test.rules': '',
    'full/suricata.yaml': '',
    'named/test.yaml': 'pcap: b.pcapng\nargs: --set "a b=1"\n',
    'named/a.pcap': '',
    'named/b.pcapng': '',
  });
  try {
    const dir = path.join(root, 'full');
    const c = loadCase({ name: 'full', dir });
    assert.equal(c.pcap, path.join(dir, 'input.pcap'));
    assert.deepEqual(c.rules, [path.join(dir, 'test.rules')]);
    assert.equal(c.config, path.join(dir, 'suricata.yaml'));
    assert.deepEqual(c.args, ['-k', 'none', '--set', 'threshold-file=${TEST_DIR}/threshold.config']);
    assert.deepEqual(c.requires, { 'min-version': 7 });
    assert.deepEqual(c.checks, [
      {
        type: 'filter',
        index: 1,
        match: { event_type: 'alert', 'alert.signature_id': 1 },
        expect: { count: 1 },
        requires: {},
        filename: null,
        comment: null,
      },
      {
        type: 'filter',
        index: 2,
        match: { event_type: 'flow' },
        expect: { lt: 10, gt: 0 },
        requires: { 'lt-version': '8.0.5', 'min-version': 6 },
        filename: null,
        comment: 'flows',
      },
      { type: 'other', index: 3, kind: 'stats' },
      { type: 'other', index: 3, kind: 'shell' },
    ]);
    assert.deepEqual(analyzeArgv(c, '/out', {}), [
      'analyze',
      path.join(dir, 'input.pcap'),
      '--no-builtin-rules',
      '--no-ml',
      '--set',
      'behavior.enabled=no',
      '--rules',
      path.join(dir, 'test.rules'),
      '-k',
      'none',
      '--set',
      `threshold-file=${dir}/threshold.config`,
      '-c',
      path.join(dir, 'suricata.yaml'),
      '--eve',
      path.join('/out', 'eve.json'),
      '--workers',
      '1',
    ]);

    const n = loadCase({ name: 'named', dir: path.join(root, 'named') });
    assert.equal(n.pcap, path.join(root, 'named', 'b.pcapng'));
    assert.deepEqual(n.args, ['--set', 'a b=1'], 'args may be one string');
    assert.deepEqual(n.rules, []);
    assert.equal(n.config, null);
    assert.deepEqual(n.checks, []);
    assert.deepEqual(analyzeArgv(n, '/o', {}).slice(6, 8), ['--set', 'a b=1']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('loadCase rejects cases it cannot run, with a reason', () => {
  const root = tempDir();
  const cases: [string, Record<string, string>, RegExp][] = [
    ['bad yaml', { 'test.yaml': 'checks: [\n', 'a.pcap': '' }, /invalid YAML in test\.yaml/],
    ['not a map', { 'test.yaml': '- 1\n', 'a.pcap': '' }, /not a map/],
    ['no pcap', { 'test.yaml': 'checks: []\n' }, /no \.pcap or \.pcapng/],
    ['two pcaps', { 'test.yaml': '', 'a.pcap': '', 'b.pcap': '' }, /more than one capture \(a\.pcap, b\.pcap\)/],
    ['named missing', { 'test.yaml': 'pcap: x.pcap\n', 'a.pcap': '' }, /pcap x\.pcap does not exist/],
    ['command', { 'test.yaml': 'command: suricata -r x\n', 'a.pcap': '' }, /own command/],
    ['args map', { 'test.yaml': 'args: { a: 1 }\n', 'a.pcap': '' }, /args: expects/],
    [
      'no count',
      { 'test.yaml': 'checks:\n- filter: { match: {} }\n', 'a.pcap': '' },
      /check 1: filter needs count, lt or gt/,
    ],
    [
      'no match',
      { 'test.yaml': 'checks:\n- filter: { count: 1 }\n', 'a.pcap': '' },
      /check 1: filter has no match map/,
    ],
    [
      'bad count',
      { 'test.yaml': 'checks:\n- filter: { count: x, match: {} }\n', 'a.pcap': '' },
      /count must be a number/,
    ],
    ['checks map', { 'test.yaml': 'checks: { filter: 1 }\n', 'a.pcap': '' }, /checks: expects a list/],
    ['quote', { 'test.yaml': `args: ["--set 'a"]\n`, 'a.pcap': '' }, /unterminated '/],
  ];
  try {
    for (const [name, files, re] of cases) {
      const dir = tree(path.join(root, name.replace(/ /g, '-')), files);
      assert.throws(() => loadCase({ name, dir }), badCase(re), name);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
