import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DIR, tempDir } from '../../test/helpers/paths.js';
import {
  MAX_ONEHOT_VALUES,
  OTHER_VALUE,
  checkEncoding,
  loadCsv,
  nslKddCategory,
  parseTimestamp,
  splitCsvLine,
  subsetEncoding,
} from './csv.js';
import { MlError } from './errors.js';

const dir = tempDir('vigil-csv-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};

/** Value of `feature` in row r. */
const at = (ds: { x: Float64Array; d: number; features: string[] }, r: number, feature: string): number => {
  const j = ds.features.indexOf(feature);
  assert.ok(j >= 0, `feature ${feature} missing from ${ds.features.join(',')}`);
  return ds.x[r * ds.d + j]!;
};

test('splitCsvLine: plain fields, quotes, escaped quotes, empty fields', () => {
  const out: string[] = [];
  assert.equal(splitCsvLine('a,b,,c', out), 4);
  assert.deepEqual(out, ['a', 'b', '', 'c']);
  splitCsvLine('"x,y",2,"say ""hi""",', out);
  assert.deepEqual(out, ['x,y', '2', 'say "hi"', '']);
});

test('CICFlowMeter CSV: original spellings with leading spaces map to our names; identifiers dropped', async () => {
  // Original MachineLearningCVE header style: leading spaces, CIC-IDS2017 spellings, a duplicate column.
  const p = write(
    'cic-orig.csv',
    [
      'Flow ID, Source IP, Source Port, Destination IP, Destination Port, Timestamp, Flow Duration, Total Fwd Packets,Fwd Header Length, Fwd Header Length.1, Label',
      '1-2-3,10.0.0.1,5000,10.0.0.2,80,3/7/2017 8:55,100,3,60,60,BENIGN',
      '1-2-4,10.0.0.1,5001,10.0.0.2,80,3/7/2017 8:56,200,4,80,80,DDoS',
      '1-2-5,10.0.0.3,5002,10.0.0.2,22,3/7/2017 8:57,300,5,100,100,  DDoS  ',
    ].join('\r\n') + '\r\n',
  );
  const { ds, stats, benignClass, encoding } = await loadCsv(p);
  assert.equal(stats.format, 'cicflowmeter');
  assert.deepEqual(ds.features, ['Dst Port', 'Flow Duration', 'Total Fwd Packet', 'Fwd Header Length']);
  assert.deepEqual(ds.classes, ['BENIGN', 'DDoS']);
  assert.equal(benignClass, 'BENIGN');
  assert.deepEqual(Array.from(ds.y), [0, 1, 1]);
  assert.equal(at(ds, 2, 'Total Fwd Packet'), 5);
  assert.equal(at(ds, 1, 'Dst Port'), 80);
  for (const c of ['Flow ID', 'Source IP', 'Source Port', 'Destination IP', 'Timestamp', 'Fwd Header Length.1'])
    assert.ok(stats.droppedColumns.includes(c), c);
  assert.equal(encoding.labelColumn, 'Label');
  // Original CIC-IDS2017 timestamps are day first.
  assert.ok(ds.ts !== undefined);
  assert.equal(ds.ts[0], Date.UTC(2017, 6, 3, 8, 55) * 1000);
});

test('Infinity/NaN rule: +Inf -> column max, -Inf -> column min, NaN/empty/junk -> 0; the values are recorded', async () => {
  const p = write(
    'inf.csv',
    [
      'Flow Bytes/s,Flow Packets/s,Label',
      'Infinity,NaN,BENIGN',
      '50,,BENIGN',
      '-inf,7,x',
      '10,oops,x',
      '-3,inf,x',
    ].join('\n'),
  );
  const { ds, stats, encoding } = await loadCsv(p);
  assert.deepEqual(
    Array.from({ length: 5 }, (_, r) => at(ds, r, 'Flow Bytes/s')),
    [50, 50, -3, 10, -3],
  );
  assert.deepEqual(
    Array.from({ length: 5 }, (_, r) => at(ds, r, 'Flow Packets/s')),
    [0, 0, 7, 0, 7],
  );
  assert.deepEqual(stats.replaced, { posInf: 2, negInf: 1, nan: 2, nonNumeric: 1 });
  const col = encoding.columns.find((c) => c.name === 'Flow Bytes/s')!;
  assert.deepEqual(col.kind === 'numeric' && [col.posInf, col.negInf], [50, -3]);
  // Re-importing other data with the encoding applies the training-time replacement values.
  const q = write('inf2.csv', 'Flow Bytes/s,Flow Packets/s,Label\nInfinity,1,BENIGN\n99,2,x\n');
  const again = await loadCsv(q, { encoding });
  assert.equal(at(again.ds, 0, 'Flow Bytes/s'), 50);
});

test('label column: --label-column is case-insensitive; missing label column is a clear error', async () => {
  const p = write('lab.csv', 'a,b,Attack_Type\n1,2,normal\n3,4,scan\n');
  const { ds, benignClass } = await loadCsv(p, { labelColumn: 'attack_type' });
  assert.deepEqual(ds.classes, ['normal', 'scan']);
  assert.equal(benignClass, 'normal');
  await assert.rejects(loadCsv(p), (e: unknown) => e instanceof MlError && /no label column "Label"/.test(e.message));
});

test('benign spellings unify; rows with empty labels or the wrong field count are skipped', async () => {
  const p = write('benign.csv', 'x,Label\n1,BENIGN\n2,benign\n3,\n4,Bot\n5,6,7\n6,Normal\n');
  const { ds, stats } = await loadCsv(p);
  assert.deepEqual(ds.classes, ['BENIGN', 'Bot']);
  assert.deepEqual(Array.from(ds.y), [0, 0, 1, 0]);
  assert.equal(stats.skippedRows, 2);
});

test('categorical columns: one-hot by frequency with an <other> column past the cap; ordinal mode', async () => {
  const rows = ['n,proto,service,Label'];
  // proto: tcp x3, udp x2, icmp x1; service: MAX_ONEHOT_VALUES + 2 distinct values.
  const protos = ['tcp', 'udp', 'tcp', 'icmp', 'udp', 'tcp'];
  for (let i = 0; i < MAX_ONEHOT_VALUES + 2; i++) rows.push(`${i},${protos[i % 6]},s${i},${i % 2 ? 'a' : 'normal'}`);
  const p = write('cat.csv', rows.join('\n'));
  const oh = await loadCsv(p);
  const protoCols = oh.ds.features.filter((f) => f.startsWith('proto='));
  assert.deepEqual(protoCols, ['proto=tcp', 'proto=udp', 'proto=icmp']);
  assert.equal(at(oh.ds, 3, 'proto=icmp'), 1);
  assert.equal(at(oh.ds, 3, 'proto=tcp'), 0);
  const svc = oh.ds.features.filter((f) => f.startsWith('service='));
  assert.equal(svc.length, MAX_ONEHOT_VALUES + 1);
  assert.ok(svc.includes(`service=${OTHER_VALUE}`));
  // Unseen values at evaluation go to <other> (one-hot) or -1 (ordinal).
  const q = write('cat2.csv', 'n,proto,service,Label\n1,gre,s0,normal\n');
  const again = await loadCsv(q, { encoding: oh.encoding });
  assert.deepEqual(again.ds.features, oh.ds.features);
  assert.equal(at(again.ds, 0, `service=${OTHER_VALUE}`), 0);
  assert.equal(at(again.ds, 0, 'service=s0'), 1);
  assert.deepEqual(
    protoCols.map((f) => at(again.ds, 0, f)),
    [0, 0, 0],
  );
  const ord = await loadCsv(p, { categorical: 'ordinal' });
  assert.deepEqual(ord.ds.features, ['n', 'proto', 'service']);
  assert.deepEqual(
    [0, 1, 3].map((r) => at(ord.ds, r, 'proto')),
    [0, 1, 2],
  );
  const ord2 = await loadCsv(q, { encoding: ord.encoding });
  assert.equal(at(ord2.ds, 0, 'proto'), -1);
  assert.deepEqual(checkEncoding(JSON.parse(JSON.stringify(ord.encoding))), ord.encoding);
});

test('NSL-KDD: headerless file detected, 41 named features, category label by default, difficulty dropped', async () => {
  const line = (proto: string, service: string, flag: string, label: string): string =>
    `0,${proto},${service},${flag},${Array.from({ length: 37 }, (_, i) => i).join(',')},${label},21`;
  const p = write(
    'kdd.txt',
    [
      line('tcp', 'http', 'SF', 'normal'),
      line('udp', 'private', 'S0', 'neptune'),
      line('tcp', 'ftp', 'SF', 'guess_passwd'),
    ].join('\r\n'),
  );
  const { ds, stats, encoding } = await loadCsv(p);
  assert.equal(stats.format, 'nsl-kdd');
  assert.equal(encoding.labelColumn, 'category');
  assert.deepEqual(ds.classes, ['normal', 'DoS', 'R2L']);
  assert.ok(ds.features.includes('src_bytes'));
  assert.ok(ds.features.includes('protocol_type=tcp'));
  assert.ok(!ds.features.includes('difficulty'));
  assert.equal(ds.features.filter((f) => !f.includes('=')).length, 38); // 41 minus the 3 categorical
  const byName = await loadCsv(p, { labelColumn: 'label' });
  assert.deepEqual(byName.ds.classes, ['normal', 'guess_passwd', 'neptune']);
  assert.equal(nslKddCategory('mscan'), 'Probe');
  assert.equal(nslKddCategory('unheard_of'), 'unheard_of');
});

test('UNSW-NB15: attack_cat by default with label dropped, or label 0/1 as normal/attack with attack_cat dropped', async () => {
  const p = write(
    'unsw.csv',
    '\uFEFFid,dur,proto,service,state,sbytes,attack_cat,label\n1,0.1,udp,-,INT,496,Normal,0\n2,0.2,tcp,http,FIN,900,Exploits,1\n',
  );
  const a = await loadCsv(p);
  assert.equal(a.stats.format, 'unsw-nb15');
  assert.deepEqual(a.ds.classes, ['Normal', 'Exploits']);
  assert.ok(a.stats.droppedColumns.includes('label') && a.stats.droppedColumns.includes('id'));
  assert.ok(!a.ds.features.includes('label'));
  const b = await loadCsv(p, { labelColumn: 'label' });
  assert.deepEqual(b.ds.classes, ['normal', 'attack']);
  assert.ok(!b.ds.features.includes('attack_cat') && b.stats.droppedColumns.includes('attack_cat'));
});

test('a directory of CSVs with one layout is one dataset; a later file missing a column is refused', async () => {
  const d = path.join(dir, 'split');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'A.csv'), 'Flow Duration,Total Fwd Packet,Label\n1,2,BENIGN\n');
  fs.writeFileSync(path.join(d, 'B.csv'), 'Total Fwd Packet, Flow Duration ,Label\n5,4,PortScan\n');
  const { ds, stats } = await loadCsv(d);
  assert.equal(stats.files.length, 2);
  assert.deepEqual(Array.from(ds.x), [1, 2, 4, 5]);
  fs.writeFileSync(path.join(d, 'C.csv'), 'Flow Duration,Label\n1,BENIGN\n');
  await assert.rejects(loadCsv(d), /C\.csv: missing feature columns Total Fwd Packet/);
});

test('evaluation data reuses the model classes; new labels are appended', async () => {
  const p = write('cls.csv', 'x,Label\n1,Bot\n2,benign\n3,Zeus\n');
  const { ds } = await loadCsv(p, { classes: ['BENIGN', 'Bot'] });
  assert.deepEqual(ds.classes, ['BENIGN', 'Bot', 'Zeus']);
  assert.deepEqual(Array.from(ds.y), [1, 0, 2]);
});

test('subsetEncoding keeps only the model features', async () => {
  const p = write('sub.csv', 'a,b,c,Label\n1,2,3,x\n');
  const { encoding } = await loadCsv(p);
  const sub = subsetEncoding(encoding, ['c', 'a']);
  const { ds } = await loadCsv(write('sub2.csv', 'c,a,Label\n7,8,x\n'), { encoding: sub });
  assert.deepEqual(ds.features, ['a', 'c']);
  assert.deepEqual(Array.from(ds.x), [8, 7]);
});

test('parseTimestamp: corrected CIC-IDS2017, original day-first, epoch seconds', () => {
  assert.equal(parseTimestamp('2017-07-05 18:12:15.650811'), Date.UTC(2017, 6, 5, 18, 12, 15) * 1000 + 650811);
  assert.equal(parseTimestamp('5/7/2017 1:02:03'), Date.UTC(2017, 6, 5, 1, 2, 3) * 1000);
  assert.equal(parseTimestamp('1421927414'), 1421927414e6);
  assert.ok(Number.isNaN(parseTimestamp('soon')));
});

test('maxRows stops early; a quoted field may hold a line break', async () => {
  const p = write('q.csv', 'note,x,Label\n"line one\nline two",1,a\nplain,2,b\nplain,3,c\n');
  const { ds } = await loadCsv(p, { maxRows: 2 });
  assert.equal(ds.n, 2);
  assert.deepEqual(ds.classes, ['a', 'b']);
});

const CIC = path.join(SHARED_DIR, 'data', 'datasets', 'cicids2017');
test(
  'real data: CIC-IDS2017 (corrected) directory maps every feature column',
  { skip: !fs.existsSync(CIC) },
  async () => {
    const files = ['Heartbleed.csv', 'Web_Attack_-_SQL_Injection.csv'].map((f) => path.join(CIC, f));
    const { ds, stats } = await loadCsv(files);
    assert.equal(stats.format, 'cicflowmeter');
    assert.equal(ds.n, 11 + 13);
    assert.deepEqual(ds.classes, ['Heartbleed', 'Web Attack - SQL Injection']);
    // 84 columns after the identifiers (`Dst Port`, `Protocol` and the 81 CIC features) are features.
    assert.equal(ds.d, 83);
    assert.ok(ds.ts !== undefined);
  },
);
