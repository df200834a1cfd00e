import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpTransaction } from '../applayer/http/parser.js';
import { httpFileName, httpFileinfoObject, httpRequestFileinfoObject, magicOf } from './fileinfo.js';

test('magic bytes', () => {
  assert.equal(magicOf(Buffer.from('MZ\x90\x00', 'latin1')), 'PE32 executable (MS Windows)');
  assert.equal(magicOf(Buffer.from('%PDF-1.7')), 'PDF document');
  assert.equal(magicOf(Buffer.from('<!DOCTYPE html><html>')), 'HTML document, ASCII text');
  assert.equal(magicOf(Buffer.from('plain words\n')), 'ASCII text');
  assert.equal(magicOf(Buffer.from([0, 1, 2, 0xff])), 'data');
  assert.equal(magicOf(new Uint8Array(0)), '');
});

test('file name from Content-Disposition, else the URI path; truncated bodies are not hashed', () => {
  const tx = new HttpTransaction(3);
  tx.uri = '/dl/report.pdf?x=1';
  tx.responseHeaders = [['Content-Disposition', 'attachment; filename="a b.exe"']];
  assert.equal(httpFileName(tx), 'a b.exe');
  tx.responseHeaders = [];
  assert.equal(httpFileName(tx), '/dl/report.pdf');
  tx.responseBody = Buffer.from('%PDF-1.4 ...');
  tx.responseBodyLength = 12;
  tx.responseComplete = true;
  const fi = httpFileinfoObject(tx)!;
  assert.equal(fi['state'], 'CLOSED');
  assert.equal(fi['size'], 12);
  assert.equal(typeof fi['sha256'], 'string');
  tx.responseBodyTruncated = true;
  tx.responseBodyLength = 100000;
  const t = httpFileinfoObject(tx)!;
  assert.equal(t['state'], 'TRUNCATED');
  assert.equal(t['sha256'], undefined);
  assert.equal(t['size'], 100000);
  assert.equal(httpFileinfoObject(new HttpTransaction(0)), null);
});

test('request-body files: same fields as a response file; a truncated upload has no hashes', () => {
  const tx = new HttpTransaction(2);
  const data = Buffer.from('MZ\x90\x00rest', 'latin1');
  const done = httpRequestFileinfoObject(
    tx,
    { name: 'a.exe', data, size: data.length, complete: true },
    undefined,
    [7],
  );
  assert.deepEqual(Object.keys(done), [
    'filename',
    'sid',
    'gaps',
    'magic',
    'state',
    'md5',
    'sha1',
    'sha256',
    'stored',
    'size',
    'tx_id',
  ]);
  assert.equal(done['magic'], 'PE32 executable (MS Windows)');
  assert.equal(done['state'], 'CLOSED');
  assert.equal(done['tx_id'], 2);
  const cut = httpRequestFileinfoObject(tx, { name: 'a.exe', data, size: 9000, complete: false });
  assert.equal(cut['state'], 'TRUNCATED');
  assert.equal(cut['md5'], undefined);
  assert.equal(cut['sha256'], undefined);
  assert.equal(cut['size'], 9000);
  assert.equal(cut['stored'], false);
});
