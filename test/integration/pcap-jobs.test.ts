/**
 * PCAP analysis jobs against a real SQLite store and real captures from ../shared/corpus.
 * Outcomes per docs/pcap-jobs.md: completed, completed with the reader's error, truncated by
 * PCAP_MAX_PACKETS or PCAP_ANALYSIS_TIMEOUT, failed (not a capture, cancelled).
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PcapJobQueue, pcapJobConfigFromEnv, PcapJobConfigError } from '../../src/jobs/pcap-analysis.js';
import type { PcapAnalysisSummary, PcapJobQueueOptions, PcapProgress } from '../../src/jobs/pcap-analysis.js';
import { openRepository } from '../../src/store/open.js';
import type { Repository } from '../../src/store/repository.js';
import { SHARED_DIR, tempDir } from '../helpers/paths.js';

const PORT_SCAN = path.join(SHARED_DIR, 'corpus', 'port_scan.pcap');
const PORT_SCAN_PACKETS = 4573;
const skip = fs.existsSync(PORT_SCAN) ? false : `${PORT_SCAN} missing (set VIGIL_SHARED_DIR)`;
const dir = tempDir('vigil-pcap-jobs-');
let dbs = 0;
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function withQueue(
  opts: Omit<PcapJobQueueOptions, 'repo'>,
  fn: (q: PcapJobQueue, repo: Repository) => Promise<void>,
): Promise<void> {
  const repo = await openRepository({
    backend: 'sqlite',
    file: path.join(dir, `db-${++dbs}`, 'vigil.db'),
    dedupWindowS: 300,
  });
  const q = new PcapJobQueue({ ...opts, repo });
  try {
    await fn(q, repo);
  } finally {
    await q.close();
    await repo.close();
  }
}

const summaryOf = (s: Record<string, unknown> | null): PcapAnalysisSummary => s as unknown as PcapAnalysisSummary;

test(
  'port_scan.pcap: a completed analysis with port_scan alerts stored under its id, progress to 100 %',
  { skip },
  async () => {
    await withQueue({}, async (q, repo) => {
      const progress: PcapProgress[] = [];
      const statuses: string[] = [];
      q.on('progress', (p) => progress.push(p));
      q.on('status', (s) => statuses.push(s.status));
      const row = await q.submit({ path: PORT_SCAN, createdBy: 'analyst' });
      assert.equal(row.status, 'queued');
      assert.equal(row.filename, 'port_scan.pcap');
      const r = await q.wait(row.id)!;
      assert.equal(r.status, 'completed', r.error ?? '');
      assert.equal(r.error, null);
      const got = await repo.getPcapAnalysis(row.id);
      assert.ok(got);
      assert.equal(got.status, 'completed');
      assert.equal(got.progress, 1);
      assert.ok(got.started_at !== null && got.finished_at !== null);
      const s = summaryOf(got.summary);
      assert.equal(s.packets, PORT_SCAN_PACKETS);
      assert.ok((s.alerts_by_type['port_scan'] ?? 0) > 0, JSON.stringify(s.alerts_by_type));
      assert.equal(s.truncated, false);
      assert.equal(s.format, 'pcap');
      assert.equal(s.protocols['tcp'], 4490);
      assert.equal(s.top_talkers[0]!.ip, '10.66.0.10');
      assert.deepEqual(s.errors, []);
      const stored = await repo.listAlerts({ analysisId: row.id, type: 'port_scan' });
      assert.ok(stored.total > 0);
      assert.equal(stored.alerts[0]!.type, 'port_scan');
      assert.equal((await repo.listAlerts({ analysisId: null })).total, 0, 'nothing stored as a live alert');
      assert.equal((await repo.listAlerts({ analysisId: row.id })).total, s.alerts_stored);
      assert.deepEqual(statuses, ['queued', 'running', 'completed']);
      assert.ok(progress.length >= 2);
      assert.equal(progress.at(-1)!.percent, 100);
      assert.equal(progress.at(-1)!.packets, PORT_SCAN_PACKETS);
      for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.bytes >= progress[i - 1]!.bytes);
    });
  },
);

test('a truncated capture completes with the readable packets and the reader error', { skip }, async () => {
  const cut = path.join(dir, 'cut.pcap');
  fs.writeFileSync(cut, fs.readFileSync(PORT_SCAN).subarray(0, 200_003));
  await withQueue({}, async (q, repo) => {
    const row = await q.submit({ path: cut, removeFile: true });
    const r = await q.wait(row.id)!;
    assert.equal(r.status, 'completed');
    assert.match(r.error ?? '', /truncated packet record: .* at offset \d+; analysed the \d+ packets before it/);
    const s = summaryOf((await repo.getPcapAnalysis(row.id))!.summary);
    assert.ok(s.packets > 1000 && s.packets < PORT_SCAN_PACKETS, String(s.packets));
    assert.equal(s.errors.length, 1);
    assert.equal(fs.existsSync(cut), false, 'the upload is removed');
  });
});

test('not a capture, and a missing file, fail with a one-line reason', { skip }, async () => {
  const text = path.join(dir, 'notes.pcap');
  fs.writeFileSync(text, 'this is not a capture at all\n');
  await withQueue({}, async (q, repo) => {
    const a = await q.submit({ path: text, filename: 'notes.pcap' });
    const b = await q.submit({ path: path.join(dir, 'gone.pcap') });
    const ra = await q.wait(a.id)!;
    const rb = await q.wait(b.id)!;
    assert.equal(ra.status, 'failed');
    assert.match(ra.error ?? '', /not a pcap or pcapng capture/);
    assert.equal(rb.status, 'failed');
    assert.match(rb.error ?? '', /not found/);
    assert.equal((await repo.getPcapAnalysis(a.id))!.status, 'failed');
    assert.match((await repo.getPcapAnalysis(b.id))!.error ?? '', /not found/);
  });
});

test('PCAP_MAX_PACKETS: completed, truncated, exactly the limit', { skip }, async () => {
  await withQueue({ maxPackets: 1500 }, async (q, repo) => {
    const row = await q.submit({ path: PORT_SCAN });
    const r = await q.wait(row.id)!;
    assert.equal(r.status, 'completed');
    assert.match(r.error ?? '', /PCAP_MAX_PACKETS \(1500\)/);
    const s = summaryOf((await repo.getPcapAnalysis(row.id))!.summary);
    assert.equal(s.packets, 1500);
    assert.equal(s.truncated, true);
    assert.equal(s.truncated_reason, 'max_packets');
    assert.equal(s.truncated_by_max_packets, true);
  });
});

test(
  'PCAP_ANALYSIS_TIMEOUT: completed with the packets read before it, truncated_reason timeout',
  { skip },
  async () => {
    // A clock that advances 400 ms each time the job looks at it: the 1 s budget runs out after a
    // few batches, whatever the machine's speed.
    let t = 0;
    await withQueue({ timeoutS: 1, now: () => (t += 400) }, async (q, repo) => {
      const row = await q.submit({ path: PORT_SCAN });
      const r = await q.wait(row.id)!;
      assert.equal(r.status, 'completed');
      assert.match(r.error ?? '', /PCAP_ANALYSIS_TIMEOUT \(1 s\)/);
      const s = summaryOf((await repo.getPcapAnalysis(row.id))!.summary);
      assert.equal(s.truncated_reason, 'timeout');
      assert.ok(s.packets > 0 && s.packets < PORT_SCAN_PACKETS, String(s.packets));
      assert.equal(s.packets % 1024, 0, 'stopped between batches');
    });
  },
);

test(
  'cancel: a running job fails "cancelled", a queued one never starts; concurrency 1 runs jobs in turn',
  { skip },
  async () => {
    await withQueue({}, async (q, repo) => {
      const order: string[] = [];
      q.on('status', (s) => order.push(`${s.analysis_id}:${s.status}`));
      // Cancel the first job when its first progress event arrives (after its first batch).
      let cancelled: string | null = null;
      q.on('progress', (p) => {
        if (cancelled !== null) return;
        cancelled = p.analysis_id;
        q.cancel(p.analysis_id);
      });
      const a = await q.submit({ path: PORT_SCAN });
      const b = await q.submit({ path: PORT_SCAN });
      const c = await q.submit({ path: PORT_SCAN });
      assert.deepEqual(q.counts(), { queued: 2, running: 1 });
      assert.equal(q.cancel(c.id), true);
      const ra = await q.wait(a.id)!;
      const rb = await q.wait(b.id)!;
      const rc = await q.wait(c.id)!;
      assert.equal(cancelled, a.id);
      assert.equal(ra.status, 'failed');
      assert.equal(ra.error, 'cancelled after 1024 packets');
      assert.equal(summaryOf((await repo.getPcapAnalysis(a.id))!.summary).truncated_reason, 'cancelled');
      assert.equal(rc.status, 'failed');
      assert.equal(rc.error, 'cancelled before it started');
      assert.equal(rb.status, 'completed');
      assert.ok(order.indexOf(`${a.id}:failed`) < order.indexOf(`${b.id}:running`), order.join(' '));
      assert.equal(order.includes(`${c.id}:running`), false);
      assert.equal(q.cancel(b.id), false, 'a finished job cannot be cancelled');
      await q.idle();
      assert.deepEqual(await repo.pcapAnalysisCounts(), { queued: 0, running: 0, completed: 1, failed: 2 });
    });
  },
);

test('pcapng input, and rows left running by a previous process are marked failed', { skip }, async (t) => {
  const ng = path.join(dir, 'port_scan.pcapng');
  const conv = spawnSync('editcap', ['-F', 'pcapng', PORT_SCAN, ng]);
  await withQueue({}, async (q, repo) => {
    const stale = await repo.createPcapAnalysis({ filename: 'old.pcap' });
    await repo.updatePcapAnalysis(stale.id, { status: 'running' });
    assert.equal(await q.recoverInterrupted(), 1);
    assert.match((await repo.getPcapAnalysis(stale.id))!.error ?? '', /interrupted/);
    if (conv.status !== 0) {
      t.skip('editcap unavailable');
      return;
    }
    const row = await q.submit({ path: ng });
    const r = await q.wait(row.id)!;
    assert.equal(r.status, 'completed');
    assert.equal(r.summary!.format, 'pcapng');
    assert.equal(r.summary!.packets, PORT_SCAN_PACKETS);
    assert.ok((r.summary!.alerts_by_type['port_scan'] ?? 0) > 0);
  });
});

test('configuration from the environment', () => {
  assert.deepEqual(pcapJobConfigFromEnv({}), { concurrency: 1, maxPackets: 0, timeoutS: 300 });
  assert.deepEqual(
    pcapJobConfigFromEnv({ PCAP_MAX_PACKETS: '2000', PCAP_ANALYSIS_TIMEOUT: '60', PCAP_JOB_CONCURRENCY: '2' }),
    {
      concurrency: 2,
      maxPackets: 2000,
      timeoutS: 60,
    },
  );
  assert.throws(() => pcapJobConfigFromEnv({ PCAP_MAX_PACKETS: '-5' }), PcapJobConfigError);
  assert.throws(
    () => pcapJobConfigFromEnv({ PCAP_JOB_CONCURRENCY: '0' }),
    /PCAP_JOB_CONCURRENCY must be an integer >= 1/,
  );
});
