/**
 * `vigil analyze` with the file store on a small capture built here: two HTTP downloads (a PE
 * stub and a PDF stub) in two TCP connections. Checks the stored files (named by SHA-256, same
 * bytes), the fileinfo records (`stored`, schema-valid), force and rule-triggered modes, the cap,
 * truncated bodies and the suricata.yaml form.
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

const EXE = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(3000, 0x41)]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n');
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** One HTTP download per TCP connection (test/helpers/http-pcap.ts; checksums left 0: -k none). */
function capture(downloads: { uri: string; body: Buffer }[]): Buffer {
  return httpPcap(
    downloads.map((d) => ({
      request: Buffer.from(`GET ${d.uri} HTTP/1.1\r\nHost: files.example\r\n\r\n`),
      response: Buffer.concat([
        Buffer.from(
          `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${d.body.length}\r\n\r\n`,
        ),
        d.body,
      ]),
    })),
  );
}

interface Fileinfo {
  filename: string;
  stored: boolean;
  sha256?: string;
  file_id?: number;
  sid?: number[];
}

interface Run {
  summary: { file_store?: Record<string, number | string> };
  fileinfos: Fileinfo[];
  lines: Record<string, unknown>[];
  stderr: string;
}

async function analyze(dir: string, extra: string[], workers = '1'): Promise<Run> {
  const pcap = path.join(dir, 'downloads.pcap');
  if (!fs.existsSync(pcap))
    fs.writeFileSync(
      pcap,
      capture([
        { uri: '/dl/tool.exe', body: EXE },
        { uri: '/docs/report.pdf', body: PDF },
      ]),
    );
  const eve = path.join(dir, 'eve.json');
  const r = await runCli([
    'analyze',
    pcap,
    '--json',
    '--workers',
    workers,
    '--no-builtin-rules',
    '--eve',
    eve,
    ...extra,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = fs
    .readFileSync(eve, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const fileinfos = lines.filter((e) => e['event_type'] === 'fileinfo').map((e) => e['fileinfo'] as Fileinfo);
  return { summary: JSON.parse(r.stdout) as Run['summary'], fileinfos, lines, stderr: r.stderr };
}

const byName = (run: Run, name: string): Fileinfo => {
  const f = run.fileinfos.find((x) => x.filename === name);
  assert.ok(f, `no fileinfo for ${name}`);
  return f;
};

test('force-filestore: every complete file stored under DIR/xx/<sha256>, fileinfo stored:true, schema-valid', async () => {
  const dir = tempDir();
  const run = await analyze(dir, ['--set', 'file-store.enabled=yes', '--set', 'file-store.force-filestore=yes'], '2');
  const store = path.join(dir, 'filestore');
  assert.equal(run.summary.file_store?.['dir'], store);
  assert.equal(run.summary.file_store?.['stored'], 2);
  for (const [name, body] of [
    ['/dl/tool.exe', EXE],
    ['/docs/report.pdf', PDF],
  ] as const) {
    const f = byName(run, name);
    assert.equal(f.stored, true);
    assert.equal(f.sha256, sha(body));
    assert.ok(typeof f.file_id === 'number' && f.file_id > 0);
    const file = path.join(store, f.sha256.slice(0, 2), f.sha256);
    assert.deepEqual(fs.readFileSync(file), body);
  }
  assertEveSchema(run.lines);
  // A second run finds the files there and does not write them again.
  const again = await analyze(dir, ['--set', 'file-store.enabled=yes', '--set', 'file-store.force-filestore=yes']);
  assert.equal(again.summary.file_store?.['stored'], 0);
  assert.equal(again.summary.file_store?.['duplicates'], 2);
  assert.ok(again.fileinfos.every((f) => f.stored));
});

test('without force, only files of transactions a filestore rule matched are stored', async () => {
  const dir = tempDir();
  const rules = path.join(dir, 'store.rules');
  fs.writeFileSync(
    rules,
    'alert http any any -> any any (msg:"store exe downloads"; http.uri; content:".exe"; endswith; filestore:response; noalert; sid:100;)\n',
  );
  const run = await analyze(dir, ['--rules', rules, '--set', 'file-store.enabled=yes']);
  assert.equal(run.summary.file_store?.['stored'], 1);
  const exe = byName(run, '/dl/tool.exe');
  assert.equal(exe.stored, true);
  assert.deepEqual(exe.sid, [100]);
  assert.equal(byName(run, '/docs/report.pdf').stored, false);
  const files = fs.readdirSync(path.join(dir, 'filestore'), { recursive: true }) as string[];
  assert.deepEqual(
    files.filter((f) => f.length > 3),
    [path.join(sha(EXE).slice(0, 2), sha(EXE))],
  );
  assert.equal(run.lines.filter((e) => e['event_type'] === 'alert').length, 0, 'noalert: stored without an alert');
});

test('max-size: a file that would pass the cap is not stored and counted', async () => {
  const dir = tempDir();
  const run = await analyze(dir, [
    '--set',
    'file-store.enabled=yes',
    '--set',
    'file-store.force-filestore=yes',
    '--set',
    `file-store.max-size=${EXE.length - 1}`,
  ]);
  assert.equal(run.summary.file_store?.['stored'], 1);
  assert.equal(run.summary.file_store?.['skipped_max_size'], 1);
  assert.equal(byName(run, '/dl/tool.exe').stored, false);
  assert.equal(byName(run, '/docs/report.pdf').stored, true);
  assert.match(run.stderr, /reached max-size/);
});

test('suricata.yaml outputs file-store; truncated bodies are skipped with a counter', async () => {
  const dir = tempDir();
  const yaml = path.join(dir, 'suricata.yaml');
  fs.writeFileSync(
    yaml,
    [
      'app-layer:',
      '  protocols:',
      '    http:',
      '      libhtp:',
      '        default-config:',
      '          response-body-limit: 1kb',
      'outputs:',
      '  - file-store:',
      '      version: 2',
      '      enabled: yes',
      '      dir: stored-files',
      '      force-filestore: yes',
      '',
    ].join('\n'),
  );
  const run = await analyze(dir, ['-c', yaml]);
  assert.equal(run.summary.file_store?.['dir'], path.join(dir, 'stored-files'));
  assert.equal(run.summary.file_store?.['stored'], 1, 'the PDF, under 1 KiB');
  assert.equal(run.summary.file_store?.['skipped_truncated'], 1, 'the 3 KiB executable');
  assert.equal(byName(run, '/dl/tool.exe').stored, false);
  assert.match(run.stderr, /truncated and not stored/);
});

test('file-store off (the default): nothing written, no file_store summary, stored:false', async () => {
  const dir = tempDir();
  const run = await analyze(dir, []);
  assert.equal(run.summary.file_store, undefined);
  assert.equal(fs.existsSync(path.join(dir, 'filestore')), false);
  assert.ok(run.fileinfos.length === 2 && run.fileinfos.every((f) => !f.stored));
});
