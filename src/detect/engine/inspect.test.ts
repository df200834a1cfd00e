import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule } from '../signatures/parser.js';
import { compileRule } from './compile.js';
import { InspectState, inspect } from './inspect.js';

/** Compile `opts` as a tcp rule and run its payload program on `data`. */
function run(opts: string, data: string | Buffer): boolean {
  const r = parseRule(`alert tcp any any -> any any (${opts} sid:1;)`);
  assert.equal(r.kind, 'rule', r.kind === 'error' ? r.reason : '');
  if (r.kind !== 'rule') return false;
  const c = compileRule(r, 3);
  const st = new InspectState();
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  return c.progs.every((g) => inspect(g.ops, 0, buf, 0, st));
}

test('content with offset, depth, nocase and negation', () => {
  assert.equal(run('content:"abc";', 'xxabcxx'), true);
  assert.equal(run('content:"ABC"; nocase;', 'xxabcxx'), true);
  assert.equal(run('content:"ABC";', 'xxabcxx'), false);
  assert.equal(run('content:"abc"; offset:3;', 'xxabcxx'), false);
  assert.equal(run('content:"abc"; offset:2; depth:3;', 'xxabcxx'), true);
  assert.equal(run('content:"abc"; depth:4;', 'xxabcxx'), false);
  assert.equal(run('content:!"abd";', 'xxabcxx'), true);
  assert.equal(run('content:!"abc";', 'xxabcxx'), false);
  assert.equal(run('content:"|00 ff|";', Buffer.from([1, 0, 255, 2])), true);
});

test('distance and within are relative to the previous match, retried at later occurrences', () => {
  assert.equal(run('content:"ab"; content:"cd"; distance:0; within:2;', 'ab--ab cd abcd'), true);
  assert.equal(run('content:"ab"; content:"cd"; distance:0; within:2;', 'ab--cd'), false);
  assert.equal(run('content:"ab"; content:"cd"; distance:2;', 'abxxcd'), true);
  assert.equal(run('content:"ab"; content:"cd"; distance:3;', 'abxxcd'), false);
  // Negative distance looks back.
  assert.equal(run('content:"cd"; content:"ab"; distance:-4; within:2;', 'abcd'), true);
});

test('startswith, endswith, isdataat, bsize-like dsize checks', () => {
  assert.equal(run('content:"GET"; startswith;', 'GET /'), true);
  assert.equal(run('content:"GET"; startswith;', ' GET /'), false);
  assert.equal(run('content:".exe"; endswith;', 'a.exe'), true);
  assert.equal(run('content:".exe"; endswith;', 'a.exe '), false);
  assert.equal(run('content:"ab"; isdataat:2,relative;', 'abcd'), true);
  assert.equal(run('content:"ab"; isdataat:2,relative;', 'abc'), false);
  assert.equal(run('content:"ab"; isdataat:!1,relative;', 'ab'), true);
});

test('pcre, relative pcre and negated pcre', () => {
  assert.equal(run('pcre:"/a[0-9]+b/";', 'xxa123b'), true);
  assert.equal(run('content:"x"; pcre:"/^a/R";', 'xa'), true);
  assert.equal(run('content:"x"; pcre:"/^a/R";', 'xba'), false);
  assert.equal(run('pcre:!"/evil/i";', 'good'), true);
  assert.equal(run('pcre:!"/evil/i";', 'EVIL'), false);
});

test('byte_test, byte_jump and byte_extract', () => {
  const b = Buffer.from([0x00, 0x03, 0x41, 0x42, 0x43, 0x7a]);
  assert.equal(run('byte_test:2,=,3,0;', b), true);
  assert.equal(run('byte_test:2,>,3,0;', b), false);
  assert.equal(run('byte_test:2,=,768,0,little;', b), true);
  assert.equal(run('byte_jump:2,0; content:"z"; within:1;', b), true);
  assert.equal(run('byte_extract:2,0,len; content:"ABC"; distance:0; within:len;', b), true);
  assert.equal(run('byte_test:3,=,123,0,string,dec;', '123abc'), true);
});

test('the step limit bounds pathological retries', () => {
  const data = 'a'.repeat(20000);
  const t0 = process.hrtime.bigint();
  assert.equal(run('content:"a"; content:"a"; distance:0; content:"b"; distance:0;', data), false);
  assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 1000);
});
