/**
 * The repository test body, run against every backend (store-sqlite.test.ts, store-postgres.test.ts):
 * the same assertions on SQLite and on a real PostgreSQL server.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertDeduplicator } from '../../src/alerts/dedup.js';
import { StoreError } from '../../src/store/errors.js';
import type { Migration } from '../../src/store/migrations/migrate.js';
import type { Repository } from '../../src/store/repository.js';
import { COUNT_CAP } from '../../src/store/repository.js';
import type { AlertSeverity, StoredAlert, StoredAlertInput } from '../../src/store/types.js';

/** Open (or re-open) one database of the backend under test. */
export type Opener = (opts?: { migrations?: readonly Migration[]; dedupWindowS?: number }) => Promise<Repository>;

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A new, empty database; the opener can be called several times on it. */
  newDatabase(): Promise<Opener>;
}

/** 2026-11-26T10:00:00Z in microseconds. */
const T0 = Date.UTC(2026, 10, 26, 10, 0, 0) * 1000;
const S = 1_000_000;
const HOUR = 3600 * S;

let n = 0;
function alert(over: Partial<StoredAlertInput> = {}): StoredAlertInput {
  n++;
  return {
    tsUs: T0 + n * S,
    type: 'port_scan',
    severity: 'medium',
    detector: 'behavior',
    gid: 1,
    signatureId: 9_000_001,
    rev: 1,
    message: 'VIGIL port scan',
    category: 'Detection of a Network Scan',
    sourceIp: '10.0.0.1',
    sourcePort: 40000,
    destinationIp: '10.0.0.2',
    destinationPort: 80,
    protocol: 'TCP',
    appProto: null,
    flowId: 1000 + n,
    communityId: '1:abc=',
    sensor: 'sensor-a',
    metadata: { vigil_type: ['port_scan'], detector: ['behavior'] },
    evidence: { ports: ['22', '80'] },
    mitre: ['T1046'],
    raw: { event_type: 'alert', n },
    ...over,
  };
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof StoreError, `expected a StoreError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

/**
 * The repository with every listAlerts also answered by listAlertsJson (the database-built JSON the
 * API sends): the same alerts, field for field, and the same totals, for every query of the suite.
 */
function checkingJsonPages(r: Repository): Repository {
  return new Proxy(r, {
    get(target, prop, receiver) {
      if (prop !== 'listAlerts') return Reflect.get(target, prop, receiver) as unknown;
      return async (q?: Parameters<Repository['listAlerts']>[0]) => {
        const page = await target.listAlerts(q);
        const text = await target.listAlertsJson(q);
        const { alerts, ...totals } = text;
        const { alerts: objects, ...want } = page;
        assert.deepEqual(totals, want, `totals of ${JSON.stringify(q)}`);
        assert.deepEqual(JSON.parse(alerts), JSON.parse(JSON.stringify(objects)), `alerts of ${JSON.stringify(q)}`);
        return page;
      };
    },
  });
}

export function repositorySuite(backend: Backend): void {
  /** A fresh repository (dedup window 300 s unless given); closed after the callback. */
  async function withRepo(fn: (r: Repository) => Promise<void>, dedupWindowS = 300): Promise<void> {
    const open = await backend.newDatabase();
    const r = await open({ dedupWindowS });
    try {
      await fn(checkingJsonPages(r));
    } finally {
      await r.close();
    }
  }

  describe(`store on ${backend.name}`, () => {
    test('migrations: applied at open, idempotent, data kept across re-opens', async () => {
      const open = await backend.newDatabase();
      const a = await open();
      assert.equal(a.backend, backend.name);
      assert.equal(a.schemaVersion, 1);
      const [res] = await a.insertAlerts([alert()]);
      await a.close();
      const b = await open();
      assert.equal(b.schemaVersion, 1);
      assert.equal((await b.getAlert(res!.id))?.type, 'port_scan');
      assert.equal((await b.health()).ok, true);
      await b.close();
    });

    test('a failing migration is rolled back whole and reported as VIGIL_STORE_MIGRATION_FAILED', async () => {
      const open = await backend.newDatabase();
      const v1: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE one (id INTEGER PRIMARY KEY);' };
      const broken: Migration = {
        version: 2,
        name: 'two',
        sql: 'CREATE TABLE two (id INTEGER PRIMARY KEY); CREATE INDEX two_x ON two (no_such_column);',
      };
      await expectCode(open({ migrations: [v1, broken] }), 'VIGIL_STORE_MIGRATION_FAILED');
      // Version 1 stayed applied, version 2 left nothing: the database is at version 1 ...
      const r1 = await open({ migrations: [v1] });
      assert.equal(r1.schemaVersion, 1);
      await r1.close();
      // ... and a corrected version 2 can create table `two` (it would fail if `two` had survived).
      const fixed: Migration = { ...broken, sql: 'CREATE TABLE two (id INTEGER PRIMARY KEY);' };
      const r2 = await open({ migrations: [v1, fixed] });
      assert.equal(r2.schemaVersion, 2);
      await r2.close();
      // A build that knows fewer migrations than the database has refuses to run on it.
      await expectCode(open({ migrations: [v1] }), 'VIGIL_STORE_SCHEMA_TOO_NEW');
    });

    test('an alert round-trips with every field', () =>
      withRepo(async (r) => {
        const input = alert({
          tsUs: T0 + 123_456,
          severity: 'high',
          appProto: 'http',
          evidence: { context: { user: 'admin' } },
          raw: { event_type: 'alert', alert: { signature_id: 9_000_001 } },
        });
        const [res] = await r.insertAlerts([input]);
        assert.deepEqual(res, { id: res!.id, isNew: true, count: 1 });
        const got = await r.getAlert(res!.id);
        assert.ok(got !== null);
        assert.equal(got.timestamp, '2026-11-26T10:00:00.123456Z');
        assert.equal(got.first_seen, got.timestamp);
        assert.equal(got.last_seen, got.timestamp);
        assert.deepEqual(
          {
            type: got.type,
            severity: got.severity,
            detector: got.detector,
            gid: got.gid,
            signature_id: got.signature_id,
            rev: got.rev,
            message: got.message,
            category: got.category,
            source_ip: got.source_ip,
            source_port: got.source_port,
            destination_ip: got.destination_ip,
            destination_port: got.destination_port,
            protocol: got.protocol,
            app_proto: got.app_proto,
            flow_id: got.flow_id,
            community_id: got.community_id,
            sensor: got.sensor,
            status: got.status,
            resolved: got.resolved,
            acknowledged: got.acknowledged,
            assignee: got.assignee,
            notes: got.notes,
            count: got.count,
            metadata: got.metadata,
            evidence: got.evidence,
            mitre: got.mitre,
            analysis_id: got.analysis_id,
            raw: got.raw,
          },
          {
            type: 'port_scan',
            severity: 'high',
            detector: 'behavior',
            gid: 1,
            signature_id: 9_000_001,
            rev: 1,
            message: 'VIGIL port scan',
            category: 'Detection of a Network Scan',
            source_ip: '10.0.0.1',
            source_port: 40000,
            destination_ip: '10.0.0.2',
            destination_port: 80,
            protocol: 'TCP',
            app_proto: 'http',
            flow_id: input.flowId,
            community_id: '1:abc=',
            sensor: 'sensor-a',
            status: 'open',
            resolved: false,
            acknowledged: false,
            assignee: null,
            notes: [],
            count: 1,
            metadata: { vigil_type: ['port_scan'], detector: ['behavior'] },
            evidence: { context: { user: 'admin' } },
            mitre: ['T1046'],
            analysis_id: null,
            raw: { event_type: 'alert', alert: { signature_id: 9_000_001 } },
          },
        );
        // Lists leave the EVE record out.
        const page = await r.listAlerts();
        assert.equal(page.alerts[0]!.raw, undefined);
        assert.equal(await r.getAlert(res!.id + 1000), null);
      }));

    test('deduplication folds exactly as src/alerts/dedup.ts does, within and across batches', () =>
      withRepo(async (r) => {
        const W = 300;
        const ref = new AlertDeduplicator(W);
        // Three groups hit at varying gaps (some beyond the window), plus one earlier-than-first alert.
        const gaps = [0, 10, 290, 301, 5, 299, 400, 1, 1, 1000, 3, 300];
        const inputs: StoredAlertInput[] = [];
        const pairs = [
          ['10.0.0.1', '10.0.0.2'],
          ['10.0.0.3', '10.0.0.2'],
          ['10.0.0.1', '10.0.0.9'],
        ] as const;
        let t = T0;
        for (const g of gaps) {
          t += g * S;
          for (const [src, dst] of pairs) inputs.push(alert({ tsUs: t, sourceIp: src, destinationIp: dst }));
        }
        inputs.push(alert({ tsUs: T0 - 10 * S, sourceIp: '10.0.0.1', destinationIp: '10.0.0.2' }));
        // Batches of 1, 5, 2, the rest: folds happen inside a batch and into rows of earlier ones.
        const sizes = [1, 5, 2, inputs.length];
        const results: { isNew: boolean; count: number }[] = [];
        let at = 0;
        for (const size of sizes) {
          if (at >= inputs.length) break;
          results.push(...(await r.insertAlerts(inputs.slice(at, at + size))));
          at += size;
        }
        const expected = inputs.map((a) => ref.add(a.type, a.gid, a.signatureId, a.sourceIp, a.destinationIp, a.tsUs));
        assert.deepEqual(
          results.map((x) => x.isNew),
          expected.map((e) => e.isNew),
        );
        const page = await r.listAlerts({ limit: 1000, sort: 'timestamp', order: 'asc' });
        assert.equal(page.alerts.length, expected.filter((e) => e.isNew).length);
        // Each stored row matches the deduplicator's entry it started (count, first and last seen).
        const entries = expected.filter((e) => e.isNew).map((e) => e.entry);
        const rows = page.alerts.map((a) => ({
          key: `${a.type}|${a.gid}:${a.signature_id}|${a.source_ip}|${a.destination_ip}`,
          count: a.count,
          first: a.first_seen,
          last: a.last_seen,
        }));
        const want = entries.map((e) => ({
          key: e.key,
          count: e.count,
          first: new Date(e.firstUs / 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
          last: new Date(e.lastUs / 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
        }));
        const byKey = (a: { key: string; first: string }, b: { key: string; first: string }): number =>
          a.key.localeCompare(b.key) || a.first.localeCompare(b.first);
        assert.deepEqual(rows.sort(byKey), want.sort(byKey));
        // The insert results carry the row's running count.
        const last = results[results.length - 2]!;
        assert.equal(last.isNew, false);
        assert.ok(last.count >= 2);
      }));

    test('deduplication: resolved rows, PCAP analyses and window 0 start new rows', async () => {
      await withRepo(async (r) => {
        const [a] = await r.insertAlerts([alert({ tsUs: T0 })]);
        await r.updateAlert(a!.id, { status: 'resolved' });
        const [b] = await r.insertAlerts([alert({ tsUs: T0 + S })]);
        assert.equal(b!.isNew, true, 'a resolved alert does not absorb new activity');
        const [c] = await r.insertAlerts([alert({ tsUs: T0 + 2 * S })]);
        assert.deepEqual([c!.isNew, c!.id, c!.count], [false, b!.id, 2]);
        const pa = await r.createPcapAnalysis({ filename: 'x.pcap' });
        const [d] = await r.insertAlerts([alert({ tsUs: T0 + 3 * S, analysisId: pa.id })]);
        assert.equal(d!.isNew, true, "an analysis' alerts do not fold into live ones");
        const [e] = await r.insertAlerts([alert({ tsUs: T0 + 4 * S, analysisId: pa.id })]);
        assert.deepEqual([e!.isNew, e!.id], [false, d!.id]);
      });
      await withRepo(async (r) => {
        const res = await r.insertAlerts([alert({ tsUs: T0 }), alert({ tsUs: T0 })]);
        assert.deepEqual(
          res.map((x) => x.isNew),
          [true, true],
        );
      }, 0);
    });

    test('a batch is one transaction: a failing batch stores nothing', () =>
      withRepo(async (r) => {
        // The second alert names a PCAP analysis that does not exist (foreign key).
        await assert.rejects(r.insertAlerts([alert({ type: 'xss' }), alert({ analysisId: 'no-such-analysis' })]));
        assert.equal((await r.listAlerts()).total, 0);
        assert.equal((await r.insertAlerts([alert()])).length, 1);
      }));

    test('the database-built alert JSON equals the alert objects on every field and odd value', () =>
      withRepo(async (r) => {
        const ids = (
          await r.insertAlerts([
            alert({ tsUs: T0 + 5, appProto: null, sourcePort: null, destinationPort: null, flowId: null }),
            alert({ tsUs: T0 + 999_999, communityId: null, evidence: null, metadata: {}, mitre: [] }),
            alert({
              tsUs: Date.UTC(1999, 11, 31, 23, 59, 59) * 1000 + 123_456,
              message: 'quote " backslash \\ tab \t nl \n nul-ish \u0001 é ü 日本 😀 </script>',
              category: '',
              metadata: { k: ['a"b', 'ü'], z: [], a: ['1'] },
              evidence: { nested: { deep: [1, 2.5, -3e-7, true, null, 'x'] }, big: 2 ** 52 },
              mitre: ['T1046', 'T1190'],
            }),
          ])
        ).map((x) => x.id);
        await r.updateAlert(ids[0]!, { status: 'acknowledged', actor: 'ana', nowUs: T0 + 7 });
        await r.updateAlert(ids[0]!, { assignee: 'bob', note: 'looked "here"\n', actor: 'ana', nowUs: T0 + 8 });
        await r.updateAlert(ids[1]!, { status: 'resolved', actor: null, nowUs: T0 + HOUR + 1 });
        // The checking wrapper compares both forms; asserted here too, for the values above.
        const page = await r.listAlertsJson({ limit: 10, sort: 'timestamp', order: 'asc' });
        const got = JSON.parse(page.alerts) as StoredAlert[];
        assert.deepEqual(
          got.map((a) => [a.timestamp, a.acknowledged, a.resolved]),
          [
            ['1999-12-31T23:59:59.123456Z', false, false],
            ['2026-11-26T10:00:00.000005Z', true, false],
            ['2026-11-26T10:00:00.999999Z', false, true],
          ],
        );
        await r.listAlerts({ limit: 10 });
        await r.listAlerts({ limit: 10, ip: '10.0.0.1', sort: 'severity' });
      }, 0));

    test('list: every filter, sorting, pagination and the limit bounds', () =>
      withRepo(async (r) => {
        const types = ['port_scan', 'sql_injection', 'xss', 'dos'];
        const sevs: AlertSeverity[] = ['low', 'medium', 'high', 'critical'];
        const inputs: StoredAlertInput[] = [];
        for (let i = 0; i < 60; i++)
          inputs.push(
            alert({
              tsUs: T0 + i * 60 * S,
              type: types[i % 4]!,
              severity: sevs[Math.floor(i / 4) % 4]!,
              detector: i % 3 === 0 ? 'signature' : 'behavior',
              sourceIp: `10.0.1.${i % 5}`,
              destinationIp: `10.0.2.${i % 7}`,
              signatureId: 1000 + i, // distinct: no folding
            }),
          );
        const ids = (await r.insertAlerts(inputs)).map((x) => x.id);
        await r.resolveAlerts({ ids: ids.filter((_, i) => i % 6 === 0) });
        const all = inputs.map((a, i) => ({ ...a, id: ids[i]!, resolved: i % 6 === 0 }));
        const check = async (
          q: Parameters<Repository['listAlerts']>[0],
          pred: (a: (typeof all)[number]) => boolean,
        ) => {
          const want = all
            .filter(pred)
            .sort((x, y) => y.tsUs - x.tsUs || y.id - x.id)
            .map((a) => a.id);
          const page = await r.listAlerts({ limit: 1000, ...q });
          assert.deepEqual(
            page.alerts.map((a) => a.id),
            want,
            JSON.stringify(q),
          );
          assert.equal(page.total, want.length);
          assert.equal(page.total_exact, true);
        };
        await check({}, () => true);
        await check({ type: 'xss' }, (a) => a.type === 'xss');
        await check({ type: ['xss', 'dos'] }, (a) => a.type === 'xss' || a.type === 'dos');
        await check({ severity: 'critical' }, (a) => a.severity === 'critical');
        await check({ type: 'dos', severity: 'high' }, (a) => a.type === 'dos' && a.severity === 'high');
        await check({ resolved: true }, (a) => a.resolved);
        await check({ resolved: false, type: 'port_scan' }, (a) => !a.resolved && a.type === 'port_scan');
        await check({ status: 'resolved' }, (a) => a.resolved);
        await check({ sourceIp: '10.0.1.3' }, (a) => a.sourceIp === '10.0.1.3');
        await check({ destinationIp: '10.0.2.6' }, (a) => a.destinationIp === '10.0.2.6');
        await check({ ip: '10.0.2.1' }, (a) => a.sourceIp === '10.0.2.1' || a.destinationIp === '10.0.2.1');
        await check({ detector: 'signature' }, (a) => a.detector === 'signature');
        await check(
          { fromUs: T0 + 10 * 60 * S, toUs: T0 + 20 * 60 * S },
          (a) => a.tsUs >= T0 + 600 * S && a.tsUs <= T0 + 1200 * S,
        );
        await check({ analysisId: null, sensor: 'sensor-a' }, () => true);
        await check({ type: [] }, () => false);

        // Sorting.
        const asc = await r.listAlerts({ limit: 5, order: 'asc' });
        assert.deepEqual(
          asc.alerts.map((a) => a.id),
          ids.slice(0, 5),
        );
        const bySev = await r.listAlerts({ limit: 1000, sort: 'severity' });
        const rank = { low: 1, medium: 2, high: 3, critical: 4 };
        for (let i = 1; i < bySev.alerts.length; i++) {
          const p = bySev.alerts[i - 1]!;
          const c = bySev.alerts[i]!;
          assert.ok(rank[p.severity] > rank[c.severity] || (p.severity === c.severity && p.timestamp >= c.timestamp));
        }
        const byType = await r.listAlerts({ limit: 1000, sort: 'type', order: 'asc' });
        assert.deepEqual(
          byType.alerts.map((a) => a.type),
          [...byType.alerts.map((a) => a.type)].sort(),
        );
        await expectCode(r.listAlerts({ sort: 'message' as 'type' }), 'VIGIL_STORE_INVALID');

        // Pagination: pages tile the list; the limit is clamped to 1..1000; default 100.
        const p1 = await r.listAlerts({ limit: 25, offset: 0 });
        const p2 = await r.listAlerts({ limit: 25, offset: 25 });
        const p3 = await r.listAlerts({ limit: 25, offset: 50 });
        assert.deepEqual(
          [...p1.alerts, ...p2.alerts, ...p3.alerts].map((a) => a.id),
          [...ids].reverse(),
        );
        assert.deepEqual([p1.total, p2.total, p3.total], [60, 60, 60]);
        assert.equal((await r.listAlerts({ offset: 100 })).total, 60);
        assert.equal((await r.listAlerts({ limit: 0 })).limit, 1);
        assert.equal((await r.listAlerts({ limit: 5000 })).limit, 1000);
        assert.equal((await r.listAlerts()).limit, 100);
      }));

    test('list by ip (either side): same rows, order and pages as the OR it replaces', () =>
      withRepo(async (r) => {
        // The address on the source side, the destination side and both; equal times tie on id.
        const X = '192.0.2.9';
        const ends: [string, string][] = [
          [X, '10.0.9.1'],
          ['10.0.9.2', X],
          [X, X],
          ['10.0.9.3', '10.0.9.4'],
        ];
        const inputs = Array.from({ length: 48 }, (_, i) =>
          alert({
            tsUs: T0 + Math.floor(i / 3) * S,
            sourceIp: ends[i % 4]![0],
            destinationIp: ends[i % 4]![1],
            type: i % 2 === 0 ? 'dos' : 'xss',
            severity: (['low', 'high', 'critical'] as const)[i % 3]!,
            signatureId: 7000 + i,
          }),
        );
        const ids = (await r.insertAlerts(inputs)).map((x) => x.id);
        const rows = inputs.map((a, i) => ({ ...a, id: ids[i]! }));
        const rank = { low: 1, medium: 2, high: 3, critical: 4 };
        for (const q of [
          { limit: 1000 },
          { limit: 5, offset: 0 },
          { limit: 5, offset: 5 },
          { limit: 7, offset: 30 },
          { limit: 1000, type: 'dos' },
          { limit: 4, offset: 2, sort: 'severity' as const },
          { limit: 1000, sort: 'severity' as const, order: 'asc' as const },
        ]) {
          const dir = q.order === 'asc' ? 1 : -1;
          const want = rows
            .filter((a) => (a.sourceIp === X || a.destinationIp === X) && (q.type === undefined || a.type === q.type))
            .sort(
              (a, b) =>
                dir *
                  (q.sort === 'severity' ? rank[a.severity] - rank[b.severity] || a.tsUs - b.tsUs : a.tsUs - b.tsUs) ||
                dir * (a.id - b.id),
            )
            .map((a) => a.id);
          const page = await r.listAlerts({ ...q, ip: X });
          const off = q.offset ?? 0;
          assert.deepEqual(
            page.alerts.map((a) => a.id),
            want.slice(off, off + q.limit),
            JSON.stringify(q),
          );
          assert.equal(page.total, want.length, JSON.stringify(q));
        }
      }));

    test(`totals are exact up to ${COUNT_CAP} rows and an estimate above`, () =>
      withRepo(async (r) => {
        const batch: StoredAlertInput[] = [];
        for (let i = 0; i < COUNT_CAP + 50; i++)
          batch.push(alert({ tsUs: T0 + i, type: i < 50 ? 'xss' : 'port_scan', raw: null }));
        await r.insertAlerts(batch);
        const all = await r.listAlerts({ limit: 10 });
        assert.equal(all.total_exact, false);
        assert.ok(all.total > COUNT_CAP, `estimate ${all.total}`);
        // Exactly at the cap: still exact.
        const some = await r.listAlerts({ limit: 10, type: 'port_scan', offset: 0 });
        assert.deepEqual([some.total, some.total_exact], [COUNT_CAP, true]);
        const few = await r.listAlerts({ type: 'xss', limit: 20 });
        assert.deepEqual([few.total, few.total_exact, few.alerts.length], [50, true, 20]);
        const beyond = await r.listAlerts({ type: 'xss', offset: 60 });
        assert.deepEqual([beyond.total, beyond.alerts.length], [50, 0]);
      }, 0));

    test('a filter known to match more than the cap is recounted after writes that remove matches', () =>
      withRepo(async (r) => {
        const batch: StoredAlertInput[] = [];
        for (let i = 0; i < COUNT_CAP + 20; i++) batch.push(alert({ tsUs: T0 + i, type: 'dos', raw: null }));
        const ids = (await r.insertAlerts(batch)).map((x) => x.id);
        const q = { type: 'dos', resolved: false, limit: 10 } as const;
        const first = await r.listAlerts(q);
        assert.equal(first.total_exact, false);
        // Asked again (remembered): still above the cap, still an estimate, same page.
        const again = await r.listAlerts(q);
        assert.deepEqual([again.total_exact, again.total > COUNT_CAP], [false, true]);
        assert.deepEqual(
          again.alerts.map((a) => a.id),
          first.alerts.map((a) => a.id),
        );
        // Inserting more keeps it above the cap; a short last page is exact.
        await r.insertAlerts([alert({ tsUs: T0 - 1, type: 'dos', raw: null })]);
        const last = await r.listAlerts({ ...q, offset: COUNT_CAP + 15 });
        assert.deepEqual([last.total, last.total_exact, last.alerts.length], [COUNT_CAP + 21, true, 6]);
        // Resolving by filter and deleting by ids bring it under the cap: exact counts at once.
        assert.equal(await r.resolveAlerts({ ids: ids.slice(0, 30) }), 30);
        const resolved = await r.listAlerts(q);
        assert.deepEqual([resolved.total, resolved.total_exact], [COUNT_CAP - 9, true]);
        await r.listAlerts({ type: 'dos', limit: 10 }); // remembered again (all rows, > cap)
        assert.equal(await r.deleteAlerts({ ids: ids.slice(0, 40) }), 40);
        const deleted = await r.listAlerts({ type: 'dos', limit: 10 });
        assert.deepEqual([deleted.total, deleted.total_exact], [COUNT_CAP - 19, true]);
      }, 0));

    test('update: resolve, reopen, acknowledge, assign, annotate', () =>
      withRepo(async (r) => {
        const [a] = await r.insertAlerts([alert()]);
        const id = a!.id;
        const at = T0 + HOUR;
        let u = await r.updateAlert(id, { status: 'resolved', actor: 'ana', nowUs: at });
        assert.deepEqual(
          [u?.status, u?.resolved, u?.resolved_by, u?.resolved_at],
          ['resolved', true, 'ana', '2026-11-26T11:00:00.000000Z'],
        );
        u = await r.updateAlert(id, { status: 'open' });
        assert.deepEqual([u?.status, u?.resolved, u?.resolved_at], ['open', false, null]);
        u = await r.updateAlert(id, {
          status: 'acknowledged',
          actor: 'bob',
          assignee: 'bob',
          note: 'looking',
          nowUs: at,
        });
        assert.deepEqual(
          [u?.status, u?.acknowledged, u?.acknowledged_by, u?.assignee],
          ['acknowledged', true, 'bob', 'bob'],
        );
        u = await r.updateAlert(id, { note: 'false positive: backup job', actor: 'ana', nowUs: at + S });
        assert.deepEqual(u?.notes, [
          { at: '2026-11-26T11:00:00.000000Z', by: 'bob', text: 'looking' },
          { at: '2026-11-26T11:00:01.000000Z', by: 'ana', text: 'false positive: backup job' },
        ]);
        u = await r.updateAlert(id, { assignee: null });
        assert.equal(u?.assignee, null);
        assert.equal(await r.updateAlert(id + 999, { status: 'resolved' }), null);
      }));

    test('delete and bulk delete / resolve by ids and by filter', () =>
      withRepo(async (r) => {
        const res = await r.insertAlerts(
          Array.from({ length: 20 }, (_, i) =>
            alert({ tsUs: T0 + i * S, type: i < 10 ? 'xss' : 'dos', signatureId: 5000 + i }),
          ),
        );
        const ids = res.map((x) => x.id);
        assert.equal(await r.deleteAlert(ids[0]!), true);
        assert.equal(await r.deleteAlert(ids[0]!), false);
        assert.equal(await r.deleteAlerts({ ids: [ids[1]!, ids[2]!, 999_999] }), 2);
        assert.equal(await r.deleteAlerts({ ids: [] }), 0);
        assert.equal(await r.resolveAlerts({ ids: [ids[3]!, ids[4]!] }, 'ana'), 2);
        assert.equal(await r.resolveAlerts({ ids: [ids[3]!] }), 0, 'already resolved');
        assert.equal(await r.resolveAlerts({ filter: { type: 'dos' } }, 'ana'), 10);
        assert.equal((await r.listAlerts({ resolved: true })).total, 12);
        assert.equal((await r.getAlert(ids[15]!))?.resolved_by, 'ana');
        assert.equal(await r.deleteAlerts({ filter: { type: 'dos', resolved: true } }), 10);
        assert.equal((await r.listAlerts()).total, 7);
        assert.equal(await r.deleteAlerts({ filter: {} }), 7);
        assert.equal((await r.listAlerts()).total, 0);
      }));

    test('summary, critical list and hourly / daily history', () =>
      withRepo(async (r) => {
        const inputs = [
          alert({ tsUs: T0, type: 'xss', severity: 'critical', signatureId: 1 }),
          alert({ tsUs: T0 + 10 * S, type: 'xss', severity: 'critical', signatureId: 1 }), // folds
          alert({ tsUs: T0 + HOUR, type: 'dos', severity: 'high', signatureId: 2 }),
          alert({ tsUs: T0 + 3 * HOUR, type: 'dos', severity: 'low', signatureId: 3, detector: 'signature' }),
          alert({ tsUs: T0 + 3 * HOUR + S, type: 'port_scan', severity: 'critical', signatureId: 4 }),
        ];
        const res = await r.insertAlerts(inputs);
        await r.updateAlert(res[4]!.id, { status: 'resolved' });
        await r.updateAlert(res[2]!.id, { status: 'acknowledged' });
        const s = await r.alertSummary();
        assert.deepEqual(s, {
          total: 4,
          unresolved: 3,
          occurrences: 5,
          by_type: { xss: 1, dos: 2, port_scan: 1 },
          by_severity: { low: 1, medium: 0, high: 1, critical: 2 },
          by_status: { open: 2, acknowledged: 1, resolved: 1 },
          by_detector: { behavior: 3, signature: 1 },
        });
        assert.equal((await r.alertSummary({ type: 'dos' })).total, 2);

        const crit = await r.criticalAlerts();
        assert.deepEqual(
          crit.map((a) => a.id),
          [res[2]!.id, res[0]!.id],
        );
        assert.deepEqual(
          (await r.criticalAlerts({ sinceUs: T0 + 1 })).map((a) => a.id),
          [res[2]!.id],
        );

        const h = await r.alertHistory({ bucket: 'hour', fromUs: T0, toUs: T0 + 4 * HOUR - 1 });
        assert.deepEqual(
          h.map((b) => [b.bucket, b.count, b.occurrences, b.critical, b.high, b.low]),
          [
            ['2026-11-26T10:00:00.000000Z', 1, 2, 1, 0, 0],
            ['2026-11-26T11:00:00.000000Z', 1, 1, 0, 1, 0],
            ['2026-11-26T12:00:00.000000Z', 0, 0, 0, 0, 0],
            ['2026-11-26T13:00:00.000000Z', 2, 2, 1, 0, 1],
          ],
        );
        const d = await r.alertHistory({ bucket: 'day', fromUs: T0 - 24 * HOUR, toUs: T0, filter: { type: 'xss' } });
        assert.deepEqual(
          d.map((b) => [b.bucket, b.count]),
          [
            ['2026-11-25T00:00:00.000000Z', 0],
            ['2026-11-26T00:00:00.000000Z', 1],
          ],
        );
        await expectCode(r.alertHistory({ bucket: 'hour', fromUs: 0, toUs: T0 }), 'VIGIL_STORE_INVALID');
      }));

    test('traffic stats: per-minute upserts add up; range queries and totals; retention', () =>
      withRepo(async (r) => {
        const m = 60 * S;
        await r.addTrafficStats([
          { tsUs: T0 + 5 * S, packets: 10, bytes: 1000, flows: 2, tcp: 8, udp: 2, protocols: { http: 1 } },
          { tsUs: T0 + 50 * S, packets: 5, bytes: 500, alerts: 1, tcp: 5, protocols: { http: 2, dns: 1 } },
          { tsUs: T0 + m, packets: 1, bytes: 60, icmp: 1 },
        ]);
        await r.addTrafficStats([
          { tsUs: T0 + 59 * S, packets: 1, bytes: 40, dropped: 3, other: 1, protocols: { tls: 4 } },
        ]);
        await r.addTrafficStats([{ tsUs: T0 + 2 * m, sensor: 'sensor-b', packets: 7 }]);
        const pts = await r.trafficStats({ fromUs: T0, toUs: T0 + 10 * m });
        assert.deepEqual(
          pts.map((p) => [
            p.minute,
            p.sensor,
            p.packets,
            p.bytes,
            p.flows,
            p.alerts,
            p.dropped,
            p.tcp,
            p.udp,
            p.icmp,
            p.other,
          ]),
          [
            ['2026-11-26T10:00:00.000000Z', 'local', 16, 1540, 2, 1, 3, 13, 2, 0, 1],
            ['2026-11-26T10:01:00.000000Z', 'local', 1, 60, 0, 0, 0, 0, 0, 1, 0],
            ['2026-11-26T10:02:00.000000Z', 'sensor-b', 7, 0, 0, 0, 0, 0, 0, 0, 0],
          ],
        );
        assert.deepEqual(pts[0]!.protocols, { http: 3, dns: 1, tls: 4 });
        assert.deepEqual(
          (await r.trafficStats({ limit: 1 })).map((p) => p.sensor),
          ['sensor-b'],
        );
        assert.equal((await r.trafficStats({ sensor: 'local' })).length, 2);
        const t = await r.trafficTotals({ fromUs: T0, toUs: T0 + m });
        assert.deepEqual(t, {
          minutes: 2,
          packets: 17,
          bytes: 1600,
          flows: 2,
          alerts: 1,
          dropped: 3,
          tcp: 13,
          udp: 2,
          icmp: 1,
          other: 1,
          protocols: { http: 3, dns: 1, tls: 4 },
        });
        assert.equal((await r.trafficTotals({ fromUs: T0 + 100 * m })).packets, 0);
        // Retention: keep one day back from "now" = the third minute + 1 day.
        const res = await r.applyRetention({ trafficStatsDays: 1 }, T0 + 2 * m + 24 * HOUR);
        assert.equal(res.traffic_stats, 2);
        assert.equal((await r.trafficStats()).length, 1);
      }));

    test('retention of alerts, audit log and finished PCAP analyses', () =>
      withRepo(async (r) => {
        const now = Date.now() * 1000;
        await r.insertAlerts([
          alert({ tsUs: now - 10 * 24 * HOUR, signatureId: 1 }),
          alert({ tsUs: now + 30 * 24 * HOUR, signatureId: 2 }), // still active in 30 days
        ]);
        await r.appendActivity({ action: 'login', tsUs: now - 100 * 24 * HOUR });
        await r.appendActivity({ action: 'login', tsUs: now });
        const pa = await r.createPcapAnalysis({ filename: 'old.pcap', nowUs: now - 100 * 24 * HOUR });
        await r.updatePcapAnalysis(pa.id, { status: 'completed' });
        await r.createPcapAnalysis({ filename: 'queued.pcap', nowUs: now - 100 * 24 * HOUR });
        // Nothing happens without a policy.
        assert.deepEqual(await r.applyRetention({}), {
          alerts: 0,
          traffic_stats: 0,
          user_activities: 0,
          pcap_analyses: 0,
        });
        const res = await r.applyRetention(
          { alertsDays: 5, activitiesDays: 30, pcapAnalysesDays: 30 },
          now + 7 * 24 * HOUR,
        );
        assert.deepEqual(res, { alerts: 1, traffic_stats: 0, user_activities: 1, pcap_analyses: 1 });
        assert.equal((await r.listAlerts()).total, 1);
        assert.equal((await r.listActivities()).total, 1);
        assert.equal((await r.listPcapAnalyses()).total, 1, 'a queued analysis is kept');
      }));

    test('PCAP analyses: lifecycle, list, last, counts, delete with its alerts', () =>
      withRepo(async (r) => {
        const a = await r.createPcapAnalysis({ filename: 'scan.pcap', sizeBytes: 1234, createdBy: 'ana', nowUs: T0 });
        assert.deepEqual(
          [a.status, a.progress, a.summary, a.started_at, a.finished_at],
          ['queued', 0, null, null, null],
        );
        assert.match(a.id, /^[0-9a-f-]{36}$/);
        let u = await r.updatePcapAnalysis(a.id, { status: 'running', nowUs: T0 + S });
        assert.equal(u?.started_at, '2026-11-26T10:00:01.000000Z');
        u = await r.updatePcapAnalysis(a.id, { progress: 0.5 });
        assert.equal(u?.progress, 0.5);
        const summary = { packets: 100, alerts_by_type: { port_scan: 3 } };
        u = await r.updatePcapAnalysis(a.id, { status: 'completed', summary, nowUs: T0 + 2 * S });
        assert.deepEqual(
          [u?.status, u?.progress, u?.summary, u?.finished_at],
          ['completed', 1, summary, '2026-11-26T10:00:02.000000Z'],
        );
        assert.equal(u?.started_at, '2026-11-26T10:00:01.000000Z');
        const b = await r.createPcapAnalysis({ filename: 'bad.pcap', nowUs: T0 + 10 * S });
        await r.updatePcapAnalysis(b.id, { status: 'failed', error: 'not a capture file' });
        assert.equal(await r.updatePcapAnalysis('nope', { status: 'failed' }), null);

        const list = await r.listPcapAnalyses();
        assert.deepEqual(
          list.analyses.map((x) => x.filename),
          ['bad.pcap', 'scan.pcap'],
        );
        assert.equal(list.total, 2);
        assert.equal((await r.listPcapAnalyses({ status: 'failed' })).analyses[0]?.error, 'not a capture file');
        assert.equal((await r.lastPcapAnalysis())?.id, b.id);
        assert.equal((await r.lastPcapAnalysis('completed'))?.id, a.id);
        assert.deepEqual(await r.pcapAnalysisCounts(), { queued: 0, running: 0, completed: 1, failed: 1 });
        await expectCode(r.createPcapAnalysis({ id: a.id, filename: 'again' }), 'VIGIL_STORE_CONFLICT');

        await r.insertAlerts([alert({ analysisId: a.id }), alert({ analysisId: a.id, signatureId: 7 }), alert()]);
        assert.equal((await r.listAlerts({ analysisId: a.id })).total, 2);
        assert.equal((await r.listAlerts({ analysisId: null })).total, 1);
        assert.equal(await r.deletePcapAnalysis(a.id), true);
        assert.equal(await r.getPcapAnalysis(a.id), null);
        assert.equal((await r.listAlerts()).total, 1, "the analysis' alerts went with it");
      }));

    test('users and tokens', () =>
      withRepo(async (r) => {
        assert.equal(await r.countUsers(), 0);
        const u = await r.createUser({ username: 'admin', passwordHash: 'scrypt$x', role: 'admin', nowUs: T0 });
        assert.deepEqual(
          [u.username, u.role, u.disabled, u.created_at, u.last_login_at],
          ['admin', 'admin', false, '2026-11-26T10:00:00.000000Z', null],
        );
        assert.equal('password_hash' in u, false);
        await expectCode(
          r.createUser({ username: 'admin', passwordHash: 'h', role: 'viewer' }),
          'VIGIL_STORE_CONFLICT',
        );
        const v = await r.createUser({ username: 'vera', passwordHash: 'h2', role: 'viewer' });
        assert.equal((await r.getUserCredentials('admin'))?.password_hash, 'scrypt$x');
        assert.equal(await r.getUserCredentials('nobody'), null);
        assert.equal((await r.getUserByUsername('vera'))?.id, v.id);
        assert.deepEqual(
          (await r.listUsers()).map((x) => x.username),
          ['admin', 'vera'],
        );
        assert.equal(await r.countUsers(), 2);
        const up = await r.updateUser(v.id, { role: 'analyst', lastLoginUs: T0 + S });
        assert.deepEqual([up?.role, up?.last_login_at], ['analyst', '2026-11-26T10:00:01.000000Z']);
        assert.equal(await r.updateUser(9999, { role: 'admin' }), null);

        const tok = await r.createApiToken({
          userId: v.id,
          kind: 'api_key',
          name: 'ci',
          tokenHash: 'h-1',
          prefix: 'vk_ab',
        });
        assert.deepEqual([tok.kind, tok.name, tok.prefix, tok.revoked], ['api_key', 'ci', 'vk_ab', false]);
        await expectCode(
          r.createApiToken({ userId: v.id, kind: 'session', name: 's', tokenHash: 'h-1', prefix: 'x' }),
          'VIGIL_STORE_CONFLICT',
        );
        const found = await r.findApiToken('h-1');
        assert.deepEqual([found?.token.id, found?.user.username, found?.user.role], [tok.id, 'vera', 'analyst']);
        assert.equal(await r.findApiToken('h-2'), null);
        const ses = await r.createApiToken({
          userId: v.id,
          kind: 'session',
          name: 'login',
          tokenHash: 'h-s',
          prefix: 's',
          expiresUs: T0 + HOUR,
        });
        assert.equal((await r.findApiToken('h-s', T0))?.token.id, ses.id);
        assert.equal(await r.findApiToken('h-s', T0 + HOUR), null, 'expired');
        await r.touchApiToken(tok.id, T0 + 5 * S);
        assert.equal((await r.listApiTokens(v.id, 'api_key'))[0]?.last_used_at, '2026-11-26T10:00:05.000000Z');
        assert.equal((await r.listApiTokens(v.id)).length, 2);
        await r.updateUser(v.id, { disabled: true });
        assert.equal(await r.findApiToken('h-1'), null, 'a disabled user has no valid token');
        await r.updateUser(v.id, { disabled: false });
        assert.equal(await r.revokeApiToken(tok.id), true);
        assert.equal(await r.revokeApiToken(tok.id), false);
        assert.equal(await r.findApiToken('h-1'), null, 'revoked');
        assert.equal(await r.deleteUser(v.id), true);
        assert.deepEqual(await r.listApiTokens(v.id), [], "the user's tokens went with it");
        assert.equal(await r.getUser(v.id), null);
      }));

    test('deleteExpiredTokens removes expired sessions only', () =>
      withRepo(async (r) => {
        const u = await r.createUser({ username: 'sam', passwordHash: 'h', role: 'viewer' });
        const mk = (name: string, kind: 'session' | 'api_key', expiresUs: number | null) =>
          r.createApiToken({ userId: u.id, kind, name, tokenHash: `h-${name}`, prefix: name, expiresUs, nowUs: T0 });
        await mk('old', 'session', T0 + HOUR);
        await mk('at-now', 'session', T0 + 2 * HOUR);
        const live = await mk('live', 'session', T0 + 2 * HOUR + 1);
        const revoked = await mk('revoked-live', 'session', T0 + 3 * HOUR);
        await r.revokeApiToken(revoked.id);
        const oldKey = await mk('old-key', 'api_key', T0 + HOUR);
        const key = await mk('key', 'api_key', null);
        // Expired at T0 + 2 h: valid while expires_us > now, as findApiToken reads it.
        assert.equal(await r.findApiToken('h-at-now', T0 + 2 * HOUR), null);
        assert.equal(await r.deleteExpiredTokens(T0 + 2 * HOUR), 2);
        assert.deepEqual(
          (await r.listApiTokens(u.id)).map((t) => t.id),
          [live.id, revoked.id, oldKey.id, key.id],
        );
        assert.equal((await r.findApiToken('h-live', T0 + 2 * HOUR))?.token.id, live.id);
        assert.equal(await r.deleteExpiredTokens(T0 + 2 * HOUR), 0, 'nothing left to delete');
        // Revoked sessions go once they expire too; API keys never.
        assert.equal(await r.deleteExpiredTokens(T0 + 4 * HOUR), 2);
        assert.deepEqual(
          (await r.listApiTokens(u.id)).map((t) => t.id),
          [oldKey.id, key.id],
        );
        assert.equal(await r.deleteExpiredTokens(), 0, 'default: now');
      }));

    test('audit log: append and list with filters', () =>
      withRepo(async (r) => {
        const a = await r.appendActivity({
          username: 'ana',
          action: 'alert.resolve',
          resource: 'alert',
          resourceId: '7',
          details: { note: 'fp' },
          ip: '192.0.2.1',
          tsUs: T0,
        });
        assert.deepEqual(a, {
          id: a.id,
          timestamp: '2026-11-26T10:00:00.000000Z',
          username: 'ana',
          action: 'alert.resolve',
          resource: 'alert',
          resource_id: '7',
          details: { note: 'fp' },
          ip: '192.0.2.1',
        });
        await r.appendActivity({ username: 'bob', action: 'login', tsUs: T0 + S });
        await r.appendActivity({ action: 'settings.update', tsUs: T0 + 2 * S });
        const all = await r.listActivities();
        assert.deepEqual(
          all.activities.map((x) => x.action),
          ['settings.update', 'login', 'alert.resolve'],
        );
        assert.equal(all.total, 3);
        assert.equal((await r.listActivities({ username: 'bob' })).total, 1);
        assert.equal((await r.listActivities({ action: 'alert.resolve' })).activities[0]?.id, a.id);
        assert.equal((await r.listActivities({ fromUs: T0 + S })).total, 2);
        assert.equal((await r.listActivities({ limit: 1, offset: 1 })).activities[0]?.action, 'login');
      }));

    test('training samples: vectors survive exactly, labels, counts, paging', () =>
      withRepo(async (r) => {
        const f1 = [0, 1.5, -2.25, NaN, Infinity, -Infinity, 1e300, 5e-324];
        const ids = await r.insertSamples([
          { features: f1, source: 'import', featureSet: 'cic-v1', label: 'BENIGN', labeledBy: 'import' },
          { features: new Float64Array([1, 2, 3]), source: 'live', featureSet: 'cic-v1' },
          { features: [4, 5, 6], source: 'live', featureSet: 'cic-v1', metadata: { flow_id: 9 } },
          { features: [7], source: 'import', featureSet: 'other', label: 'DoS' },
        ]);
        assert.equal(ids.length, 4);
        const s1 = await r.getSample(ids[0]!);
        assert.deepEqual(s1?.features, f1);
        assert.deepEqual(
          [s1?.label, s1?.source, s1?.feature_set, s1?.labeled_by],
          ['BENIGN', 'import', 'cic-v1', 'import'],
        );
        assert.deepEqual((await r.getSample(ids[2]!))?.metadata, { flow_id: 9 });
        assert.equal((await r.getSample(ids[1]!))?.labeled_at, null);

        assert.deepEqual(
          (await r.listSamples({ label: null })).samples.map((s) => s.id),
          [ids[1], ids[2]],
        );
        assert.equal((await r.listSamples({ labeled: true })).total, 2);
        assert.equal((await r.listSamples({ label: 'DoS' })).samples[0]?.id, ids[3]);
        assert.deepEqual(
          (await r.listSamples({ afterId: ids[1]!, limit: 1 })).samples.map((s) => s.id),
          [ids[2]],
        );
        const labeled = await r.labelSample(ids[1]!, 'PortScan', 'ana', T0);
        assert.deepEqual(
          [labeled?.label, labeled?.labeled_by, labeled?.labeled_at],
          ['PortScan', 'ana', '2026-11-26T10:00:00.000000Z'],
        );
        assert.equal(await r.labelSample(99999, 'x'), null);
        assert.deepEqual(await r.sampleCounts('cic-v1'), [
          { label: 'BENIGN', count: 1 },
          { label: 'PortScan', count: 1 },
          { label: null, count: 1 },
        ]);
        assert.equal(
          (await r.sampleCounts()).reduce((a, c) => a + c.count, 0),
          4,
        );
        assert.equal(await r.deleteSample(ids[0]!), true);
        assert.equal(await r.deleteSample(ids[0]!), false);
        assert.equal((await r.listSamples()).total, 3);
      }));

    test('models: versions, one active per kind, metrics', () =>
      withRepo(async (r) => {
        const m1 = await r.createModel({
          kind: 'classifier',
          name: 'rf',
          algorithm: 'random_forest',
          metrics: { f1: 0.9 },
        });
        const m2 = await r.createModel({ kind: 'classifier', name: 'rf', algorithm: 'random_forest', samples: 1000 });
        const a1 = await r.createModel({ kind: 'anomaly', name: 'iforest', algorithm: 'isolation_forest', version: 7 });
        assert.deepEqual([m1.version, m2.version, a1.version], [1, 2, 7]);
        await expectCode(
          r.createModel({ kind: 'anomaly', name: 'iforest', algorithm: 'isolation_forest', version: 7 }),
          'VIGIL_STORE_CONFLICT',
        );
        assert.equal(await r.activeModel('classifier'), null);
        assert.equal((await r.activateModel(m1.id))?.active, true);
        assert.equal((await r.activateModel(a1.id))?.active, true);
        assert.equal((await r.activateModel(m2.id))?.active, true);
        assert.equal((await r.activeModel('classifier'))?.id, m2.id);
        assert.equal((await r.getModel(m1.id))?.active, false);
        assert.equal((await r.activeModel('anomaly'))?.id, a1.id, 'kinds are independent');
        assert.equal(await r.activateModel(9999), null);
        assert.deepEqual(
          (
            await r.updateModelMetrics(m2.id, {
              f1: 0.95,
              confusion: [
                [1, 0],
                [0, 1],
              ],
            })
          )?.metrics,
          {
            f1: 0.95,
            confusion: [
              [1, 0],
              [0, 1],
            ],
          },
        );
        assert.equal((await r.listModels({ kind: 'classifier' })).length, 2);
        assert.equal((await r.listModels({ name: 'iforest' }))[0]?.algorithm, 'isolation_forest');
        assert.equal(await r.deleteModel(m1.id), true);
        assert.equal((await r.listModels()).length, 2);
      }));

    test('settings hold any JSON value', () =>
      withRepo(async (r) => {
        const values: unknown[] = ['text', 42, true, null, { retention: { alertsDays: 30 } }, [1, 'a']];
        for (const [i, v] of values.entries()) await r.setSetting(`k${i}`, v, 'admin', T0);
        for (const [i, v] of values.entries()) assert.deepEqual((await r.getSetting(`k${i}`))?.value, v);
        const s = await r.setSetting('k0', 'changed', 'ana', T0 + S);
        assert.deepEqual([s.value, s.updated_by, s.updated_at], ['changed', 'ana', '2026-11-26T10:00:01.000000Z']);
        assert.equal((await r.listSettings()).length, values.length);
        assert.equal(await r.deleteSetting('k0'), true);
        assert.equal(await r.getSetting('k0'), null);
      }));

    test('concurrent callers: a transaction is never interleaved with other writes', () =>
      withRepo(async (r) => {
        // Many batches and single updates in flight at once; every insert lands exactly once.
        const batches = Array.from({ length: 20 }, (_, b) =>
          Array.from({ length: 50 }, (_, i) => alert({ tsUs: T0 + (b * 50 + i) * S, signatureId: b * 100 + i })),
        );
        const results = await Promise.all(batches.map((x) => r.insertAlerts(x)));
        const first = results[0]![0]!.id;
        const ops: Promise<unknown>[] = [];
        for (let i = 0; i < 20; i++) {
          ops.push(r.updateAlert(first, { note: `n${i}` }));
          ops.push(r.listAlerts({ limit: 5 }));
        }
        await Promise.all(ops);
        assert.equal((await r.listAlerts({ limit: 1 })).total, 1000);
        assert.equal(new Set(results.flat().map((x) => x.id)).size, 1000);
        assert.equal((await r.getAlert(first))?.notes.length, 20, 'no note lost to a concurrent read-modify-write');
      }, 0));
  });
}

/** Re-exported for the backend files. */
export type { StoredAlert };
