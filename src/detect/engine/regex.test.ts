import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  enableLinearFallback,
  foldCase,
  hasNestedUnboundedQuantifier,
  needsBacktracking,
  unsafeRegexReason,
} from './regex.js';

test('catastrophic patterns finish in linear time with the fallback on', () => {
  enableLinearFallback();
  const subject = 'a'.repeat(5000) + '!';
  for (const src of ['(a+)+$', '^(a|aa)*$', '(?:a*)*b', '^(\\w+\\s?)*$']) {
    // `i` patterns are folded first (the linear engine has no `i`), as the compiler does.
    const re = new RegExp(foldCase(src));
    const t0 = process.hrtime.bigint();
    assert.equal(re.test(subject), false, src);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    // Exponential backtracking would take longer than the age of the universe; linear is milliseconds.
    assert.ok(ms < 2000, `${src} took ${ms} ms`);
  }
});

test('lookaround and backreferences are detected', () => {
  assert.equal(needsBacktracking('a(?=b)'), true);
  assert.equal(needsBacktracking('(?<!x)y'), true);
  assert.equal(needsBacktracking('(a)\\1'), true);
  assert.equal(needsBacktracking('[\\1(?=]x'), false);
  assert.equal(needsBacktracking('(?:ab)+c\\d'), false);
});

test('nested unbounded quantifiers are detected', () => {
  assert.equal(hasNestedUnboundedQuantifier('(a+)+'), true);
  assert.equal(hasNestedUnboundedQuantifier('(?:x*y)*'), true);
  assert.equal(hasNestedUnboundedQuantifier('(a|b+){2,}'), true);
  assert.equal(hasNestedUnboundedQuantifier('(ab)+c*'), false);
  assert.equal(hasNestedUnboundedQuantifier('(a+){1,3}'), false);
  assert.equal(hasNestedUnboundedQuantifier('[(a+)+]'), false);
});

test('only patterns the linear engine cannot run and that nest quantifiers are refused', () => {
  assert.match(unsafeRegexReason(/(?=x)(a+)+b/) ?? '', /catastrophic/);
  assert.equal(unsafeRegexReason(/(a+)+b/), null);
  assert.equal(unsafeRegexReason(/foo(?!bar)\d+/), null);
});

test('foldCase gives the same matches as the i flag', () => {
  const patterns = [
    'abc',
    '[a-f]+x',
    '[^a-z]q',
    '\\x41b\\d+',
    'a{2,3}[A-Za-z_]z',
    '\\bselect\\s+from\\b',
    '[\\]x-]y',
    'union(?:\\s|\\+)+select',
  ];
  const subjects = [
    'ABC',
    'abc',
    'aBc',
    'FFFx',
    'fx',
    '1Q',
    'Zq',
    'AB3',
    'Ab3',
    'ABAB',
    'abAB',
    'AAaZZ',
    'aaQz',
    ' SELECT  FROM ',
    ']Y',
    'xY',
    'UNION+SeLeCt',
    'qq',
  ];
  for (const p of patterns) {
    const a = new RegExp(p, 'i');
    const b = new RegExp(foldCase(p));
    for (const s of subjects) assert.equal(b.test(s), a.test(s), `${p} on ${s} (folded: ${foldCase(p)})`);
  }
});
