/**
 * `vigil analyze` on uploads (issue 4): a multipart/form-data POST carrying a PE stub across
 * several TCP segments, and a PUT. Checks the fileinfo records of request-body files (name, state,
 * hashes, the transaction's http object, direction), the stored file's SHA-256, request-body-limit
 * truncation, and `filestore:request` rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { httpPcap } from '../helpers/http-pcap.js';
import { tempDir } from '../helpers/paths.js';
import { assertEveSchema } from '../helpers/eve-schema.js';
import { runCli } from '../helpers/reference.js';

const EXE = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(6000, 0x42)]);
const NOTES = Buffer.from('meeting notes\n');
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const BODY_LIMIT = ['--set', 'app-layer.protocols.http.libhtp.default-config.request-body-limit=64kb'];

function upload(): Buffer {
  const b = '----vigilFormBoundary7MA4YWxk';
  const body = Buffer.concat([
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhere it is\r\n`),
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="tool.exe"\r\n`),
    Buffer.from('Content-Type: application/octet-stream\r\n\r\n'),
    EXE,
    Buffer.from(`\r\n--${b}--\r\n`),
  ]);
  return Buffer.concat([
    Buffer.from(
      `POST /upload.php HTTP/1.1\r\nHost: files.example\r\nContent-Type: multipart/form-data; boundary="${b}"\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`,
    ),
    body,
  ]);
}

const OK = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');

interface Fileinfo {
  filename: string;
  state: string;
  stored: boolean;
  size: number;
  sha256?: string;
  md5?: string;
  magic?: string;
  tx_id: number;
}

interface Run {
  summary: { file_store?: Record<string, number | string> };
  events: Record<string, unknown>[];
  lines: Record<string, unknown>[];
}

async function analyze(dir: string, extra: string[]): Promise<Run> {
  const pcap = path.join(dir, 'uploads.pcap');
  if (!fs.existsSync(pcap))
    fs.writeFileSync(
      pcap,
      httpPcap([
        { request: upload(), response: OK },
        {
          request: Buffer.concat([
            Buffer.from(
              `PUT /dav/notes.txt HTTP/1.1\r\nHost: files.example\r\nContent-Length: ${NOTES.length}\r\n\r\n`,
            ),
            NOTES,
          ]),
          response: Buffer.from('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'),
        },
      ]),
    );
  const eve = path.join(dir, 'eve.json');
  const r = await runCli(['analyze', pcap, '--json', '--no-builtin-rules', '--eve', eve, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  const lines = fs
    .readFileSync(eve, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const events = lines.filter((e) => e['event_type'] === 'fileinfo');
  return { summary: JSON.parse(r.stdout) as Run['summary'], events, lines };
}

function fileinfo(run: Run, name: string): { ev: Record<string, unknown>; fi: Fileinfo } {
  const ev = run.events.find((e) => (e['fileinfo'] as Fileinfo).filename === name);
  assert.ok(ev, `no fileinfo for ${name}: ${JSON.stringify(run.events)}`);
  return { ev, fi: ev['fileinfo'] as Fileinfo };
}

test('multipart upload and PUT: fileinfo with hashes and the http object, stored file has the upload sha256', async () => {
  const dir = tempDir();
  const run = await analyze(dir, [
    '--set',
    'file-store.enabled=yes',
    '--set',
    'file-store.force-filestore=yes',
    ...BODY_LIMIT,
  ]);
  const { ev, fi } = fileinfo(run, 'tool.exe');
  assert.equal(fi.state, 'CLOSED');
  assert.equal(fi.size, EXE.length);
  assert.equal(fi.magic, 'PE32 executable (MS Windows)');
  assert.equal(fi.sha256, sha(EXE));
  assert.equal(fi.md5, createHash('md5').update(EXE).digest('hex'));
  assert.equal(fi.stored, true);
  assert.equal(fi.tx_id, 0);
  // Uploads travel client -> server: the event keeps the flow's orientation.
  assert.equal(ev['src_ip'], '10.0.0.5');
  assert.equal(ev['dest_port'], 80);
  assert.equal(ev['app_proto'], 'http');
  assert.equal((ev['http'] as Record<string, unknown>)['http_method'], 'POST');
  assert.equal((ev['http'] as Record<string, unknown>)['url'], '/upload.php');
  // The form field is no file.
  assert.equal(run.events.filter((e) => (e['fileinfo'] as Fileinfo).filename === 'note').length, 0);
  const stored = path.join(dir, 'filestore', sha(EXE).slice(0, 2), sha(EXE));
  assert.equal(sha(fs.readFileSync(stored)), sha(EXE));
  const put = fileinfo(run, '/dav/notes.txt').fi;
  assert.deepEqual([put.state, put.size, put.sha256, put.stored], ['CLOSED', NOTES.length, sha(NOTES), true]);
  assert.equal(run.summary.file_store?.['stored'], 2);
  assertEveSchema(run.lines);
});

test('an upload past request-body-limit is TRUNCATED: no hashes, not stored, counted', async () => {
  const dir = tempDir();
  const run = await analyze(dir, ['--set', 'file-store.enabled=yes', '--set', 'file-store.force-filestore=yes']);
  const { fi } = fileinfo(run, 'tool.exe');
  assert.equal(fi.state, 'TRUNCATED');
  assert.equal(fi.sha256, undefined);
  assert.equal(fi.stored, false);
  assert.ok(fi.size > 0 && fi.size < EXE.length);
  assert.equal(run.summary.file_store?.['skipped_truncated'], 1);
  assert.equal(run.summary.file_store?.['stored'], 1); // the PUT
});

test('filestore:request rules store uploads only', async () => {
  const dir = tempDir();
  const rules = path.join(dir, 'store.rules');
  fs.writeFileSync(
    rules,
    'alert http any any -> any any (msg:"keep uploads"; http.method; content:"POST"; filestore:request,file; noalert; sid:200;)\n',
  );
  const run = await analyze(dir, ['--rules', rules, '--set', 'file-store.enabled=yes', ...BODY_LIMIT]);
  const exe = fileinfo(run, 'tool.exe').fi as Fileinfo & { sid?: number[] };
  assert.equal(exe.stored, true);
  assert.deepEqual(exe.sid, [200]);
  assert.equal(fileinfo(run, '/dav/notes.txt').fi.stored, false);
  assert.equal(run.summary.file_store?.['stored'], 1);
});
