/**
 * The file store in `vigil serve` (VIGIL_FILE_STORE*): the engine settings come from the
 * environment, a relative directory lands under the data directory, PCAP jobs and the live
 * sensor's worker thread write wanted files (an HTTP upload here) and share one prepared store.
 * The live capture is a fake session relayed to the worker; waits on events only.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LINKTYPE } from '../../src/capture/batch.js';
import type { PacketBatch } from '../../src/capture/batch.js';
import { injectionBatch } from '../../src/server/inject.js';
import type { SessionHandlers, SessionOpener } from '../../src/capture/live.js';
import { PcapJobQueue } from '../../src/jobs/pcap-analysis.js';
import type { PcapAnalysisSummary } from '../../src/jobs/pcap-analysis.js';
import { fileStoreSpecOf } from '../../src/output/filestore-app.js';
import { startLiveSensorThread } from '../../src/pipeline/live-thread.js';
import { ConfigError } from '../../src/server/config.js';
import { serveExtensions } from '../../src/server/extensions.js';
import { ServerModels } from '../../src/server/models.js';
import { openRepository } from '../../src/store/open.js';
import { httpPcap } from '../helpers/http-pcap.js';
import { tempDir } from '../helpers/paths.js';
import { testConfig } from './server-suite.js';

const dir = tempDir('vigil-filestore-serve-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const PAYLOAD = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2500, 0x43)]);
const SHA = createHash('sha256').update(PAYLOAD).digest('hex');

/** One multipart upload of PAYLOAD as report.pdf, split into 1000-byte segments. */
function uploadPcap(): Buffer {
  const b = 'bnd42';
  const body = Buffer.concat([
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="f"; filename="report.pdf"\r\n\r\n`),
    PAYLOAD,
    Buffer.from(`\r\n--${b}--\r\n`),
  ]);
  const request = Buffer.concat([
    Buffer.from(
      `POST /submit HTTP/1.1\r\nHost: s.example\r\nContent-Type: multipart/form-data; boundary=${b}\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`,
    ),
    body,
  ]);
  return httpPcap([{ request, response: Buffer.from('HTTP/1.1 204 No Content\r\n\r\n') }], 1000);
}

/** The server's engine configuration with these variables (as serveExtensions builds it). */
function serverEngineConfig(dataDir: string, env: Record<string, string>): ReturnType<ServerModels['engineConfig']> {
  const cfg = new ServerModels({ dataDir, env }).engineConfig();
  cfg.ml.enabled = false;
  return cfg;
}

const ENV = { VIGIL_FILE_STORE: 'yes', VIGIL_FILE_STORE_FORCE: 'yes', VIGIL_FILE_STORE_MAX_SIZE: '10mb' };

test('PCAP job: the upload is stored under DATA_DIR/filestore, summary.file_store counts it', async () => {
  const dataDir = path.join(dir, 'job');
  const cfg = serverEngineConfig(dataDir, ENV);
  assert.equal(cfg.fileStore.dir, path.join(dataDir, 'filestore'));
  assert.equal(cfg.fileStore.maxSize, 10 * 1024 * 1024);
  const pcap = path.join(dir, 'upload.pcap');
  fs.writeFileSync(pcap, uploadPcap());
  const repo = await openRepository({ backend: 'sqlite', file: path.join(dataDir, 'vigil.db'), dedupWindowS: 300 });
  const q = new PcapJobQueue({ repo, engineConfig: () => cfg });
  try {
    const row = await q.submit({ path: pcap });
    const r = await q.wait(row.id)!;
    assert.equal(r.status, 'completed', r.error ?? '');
    const s = r.summary as PcapAnalysisSummary;
    assert.equal(s.file_store?.dir, path.join(dataDir, 'filestore'));
    assert.equal(s.file_store?.stored, 1);
    assert.deepEqual(fs.readFileSync(path.join(dataDir, 'filestore', SHA.slice(0, 2), SHA)), PAYLOAD);
  } finally {
    await q.close();
    await repo.close();
  }
});

test('live sensor worker: writes the upload into the store the main thread prepared', async () => {
  const dataDir = path.join(dir, 'live');
  const cfg = serverEngineConfig(dataDir, { ...ENV, VIGIL_FILE_STORE_DIR: 'carved' });
  cfg.detect.builtinRules = false;
  const spec = fileStoreSpecOf(cfg.fileStore, process.cwd())!;
  assert.equal(spec.dir, path.join(dataDir, 'carved'));
  let handlers: SessionHandlers | null = null;
  let opened: () => void = () => undefined;
  const open = new Promise<void>((r) => (opened = r));
  const opener: SessionOpener = (_p, h) => {
    handlers = h;
    opened();
    return { requestCounters: () => undefined, stop: () => h.onExit(null) };
  };
  let seen = 0;
  let fed: () => void = () => undefined;
  const processed = new Promise<void>((r) => (fed = r));
  const frames = framesOf(uploadPcap());
  const sensor = startLiveSensorThread({
    interface: 'fake0',
    engineConfig: cfg,
    fileStore: spec,
    opener,
    statsIntervalMs: 0,
    onPackets: (n) => {
      seen += n;
      if (seen >= frames.length) fed();
    },
  });
  try {
    await open;
    handlers!.onListening({ linkType: 'EN10MB' });
    handlers!.onBatch(batchOf(frames));
    await processed;
  } finally {
    // Stopping ends the flow: its last transaction is handed over and the file written.
    await sensor.stop();
  }
  assert.deepEqual(fs.readFileSync(path.join(dataDir, 'carved', SHA.slice(0, 2), SHA)), PAYLOAD);
});

test('serve: an unusable VIGIL_FILE_STORE_DIR stops start-up with a one-line ConfigError', () => {
  const d = path.join(dir, 'bad');
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'taken'), 'a file, not a directory');
  assert.throws(
    () =>
      serveExtensions(testConfig({ dataDir: d }), { env: { VIGIL_FILE_STORE: 'yes', VIGIL_FILE_STORE_DIR: 'taken' } }),
    (e: unknown) => e instanceof ConfigError && /^file-store\.dir .*taken/.test(e.message) && !e.message.includes('\n'),
  );
  // Off by default: nothing is created.
  serveExtensions(testConfig({ dataDir: d }), { env: {} });
  assert.equal(fs.existsSync(path.join(d, 'filestore')), false);
});

/** The frames of a classic pcap (24-byte header, 16-byte record headers). */
function framesOf(pcap: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 24; o + 16 <= pcap.length && out.length < 10_000;) {
    const len = pcap.readUInt32LE(o + 8);
    out.push(pcap.subarray(o + 16, o + 16 + len));
    o += 16 + len;
  }
  return out;
}

function batchOf(frames: Buffer[]): PacketBatch {
  return injectionBatch({ frames, linkType: LINKTYPE.ETHERNET, midstream: false }, Date.now() * 1000);
}
