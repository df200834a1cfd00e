import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyTransforms, urlDecode } from './buffers.js';

/** The string-and-regex url_decode this replaced: `+` to space first, then `%XX` left to right. */
function reference(b: Buffer): Buffer {
  const s = b
    .toString('latin1')
    .replace(/\+/g, ' ')
    .replace(/%([0-9a-fA-F]{2})/g, (_m: string, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(s, 'latin1');
}

test('urlDecode: plus, escapes in either case, invalid and truncated escapes', () => {
  const dec = (s: string): string => urlDecode(Buffer.from(s, 'latin1')).toString('latin1');
  assert.equal(dec('a+b'), 'a b');
  assert.equal(dec('%41%62%2f%2F'), 'Ab//');
  assert.equal(dec('%2B'), '+'); // decoded plus is not turned into a space
  assert.equal(dec('%%41'), '%A');
  assert.equal(dec('%4'), '%4');
  assert.equal(dec('%'), '%');
  assert.equal(dec('%zz%4g'), '%zz%4g');
  assert.equal(dec('%00%ff'), '\x00\xff');
  assert.equal(dec(''), '');
  const plain = Buffer.from('/index.html');
  assert.equal(urlDecode(plain), plain, 'nothing to decode: the same buffer');
});

test('urlDecode agrees with the string-and-regex reference on random inputs', () => {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const alphabet = Buffer.from('%%%++aF09g/\x00\xff', 'latin1');
  for (let k = 0; k < 5000; k++) {
    const b = Buffer.alloc(rnd(24));
    for (let i = 0; i < b.length; i++) b[i] = alphabet[rnd(alphabet.length)]!;
    assert.deepEqual(urlDecode(b), reference(b), b.toString('hex'));
  }
});

test('applyTransforms: url_decode twice decodes a double-encoded string', () => {
  const out = applyTransforms(Buffer.from('%2527+or+1%3D1'), [
    { name: 'url_decode', arg: null },
    { name: 'url_decode', arg: null },
  ]);
  assert.equal(out.toString('latin1'), "' or 1=1");
});
