/**
 * Streaming CSV import of labeled flow datasets into a Dataset (dense row-major Float64Array that
 * grows geometrically; no object per row). Formats (docs/ml.md, "Data formats"):
 *
 * - CICFlowMeter CSVs (CIC-IDS2017 corrected or original, CSE-CIC-IDS2018, Python cicflowmeter):
 *   header names are whitespace-trimmed and mapped to Vigil's feature names through
 *   canonicalFeatureName (src/flow/features.ts), so the original spellings are aliases.
 * - NSL-KDD: no header row; the standard 41 feature names, then `label` and `difficulty`. A derived
 *   `category` column maps the attack names to the standard five classes (normal, DoS, Probe, R2L,
 *   U2R) and is the default label.
 * - UNSW-NB15 (the partitioned CSVs, recognised by an `attack_cat` column): default label
 *   `attack_cat`; with `--label-column label` the 0/1 column is read as normal/attack.
 * - Any other CSV with a header: numeric columns are features, the label column is `Label`.
 *
 * Rules:
 * - Values: NaN, empty and non-numeric fields in numeric columns become 0; +Infinity becomes the
 *   column's largest finite value in the training data and -Infinity its smallest (0 when the
 *   column has none). The values used are recorded in the DataEncoding (stored with the model), so
 *   evaluation and later imports apply the same replacement. CICFlowMeter writes Infinity for
 *   rates of zero-duration flows, where "the largest rate seen" keeps the order a tree splits on.
 * - Categorical columns (mostly non-numeric values in the first SNIFF_ROWS rows: proto, service,
 *   state, flag, ...) are one-hot encoded (the MAX_ONEHOT_VALUES most frequent values, then one `=<other>`
 *   column for the rest) or ordinal encoded (code = rank by frequency, -1 for a value unseen in
 *   training). The values are recorded in the DataEncoding.
 * - Identifier and bookkeeping columns (flow id, addresses, source port, timestamp, row id, the
 *   other label columns, NSL-KDD difficulty, CIC-IDS2017 `Attempted Category`) are never features:
 *   they would let a model learn the capture, not the attack.
 * - Labels are trimmed; `BENIGN`, `benign`, `normal` (any case) are the benign class, named as the
 *   data first spells it. Class order: benign first, then the others sorted. Rows with an empty label
 *   are skipped and counted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { canonicalFeatureName } from '../flow/features.js';
import type { Dataset } from './types.js';
import { MlError } from './errors.js';

/** Rows read before deciding which columns are categorical. */
export const SNIFF_ROWS = 1000;
/** One-hot columns per categorical column at most (most frequent values; the rest share `=<other>`). */
export const MAX_ONEHOT_VALUES = 32;
/** Suffix value of the one-hot column collecting rare and unseen values. */
export const OTHER_VALUE = '<other>';
/** Bytes read at once. */
const CHUNK_BYTES = 4 * 1024 * 1024;

export type DataFormat = 'cicflowmeter' | 'nsl-kdd' | 'unsw-nb15' | 'csv' | 'pcap';
export type CategoricalMode = 'onehot' | 'ordinal';

/** One output feature and how it is computed from a source column. */
export interface NumericColumn {
  kind: 'numeric';
  name: string;
  source: string;
  posInf: number;
  negInf: number;
}
export type EncodedColumn =
  | NumericColumn
  | { kind: 'onehot'; name: string; source: string; value: string }
  | { kind: 'ordinal'; name: string; source: string; values: string[] };

/** How raw data becomes feature vectors; stored in ModelFile.training.encoding. */
export interface DataEncoding {
  format: DataFormat;
  labelColumn: string;
  columns: EncodedColumn[];
}

export interface CsvImportOptions {
  /** Label column, matched case-insensitively after trimming. Default: `Label`, or the format's own. */
  labelColumn?: string;
  /** Categorical encoding for a new import (default onehot). Ignored when `encoding` is given. */
  categorical?: CategoricalMode;
  /** Reuse a training-time encoding: same features, categories and Infinity replacements. */
  encoding?: DataEncoding;
  /** Initial class list (a model's), so class indices match it; new labels are appended sorted. */
  classes?: readonly string[];
  /** Bytes read so far of all files, and their total size. */
  onProgress?: (done: number, total: number) => void;
  /** Stop after this many rows (0 or undefined: all). */
  maxRows?: number;
}

export interface ImportStats {
  files: string[];
  format: DataFormat;
  rows: number;
  /** Rows without a label, or with the wrong number of fields. */
  skippedRows: number;
  /** Columns not used as features (identifiers, label columns, extra columns of later files). */
  droppedColumns: string[];
  /** Values replaced by the rules above. */
  replaced: { posInf: number; negInf: number; nan: number; nonNumeric: number };
  /** Labels as found in the data, per class name. */
  classCounts: Record<string, number>;
  /** Problems that did not stop the import (a truncated capture, ...). */
  warnings?: string[];
}

export interface LoadedData {
  ds: Dataset;
  encoding: DataEncoding;
  benignClass: string | null;
  stats: ImportStats;
}

// ---- Format knowledge ----------------------------------------------------------------------------

/** NSL-KDD's 41 features, then the label and difficulty (the dataset's documented column order). */
export const NSL_KDD_COLUMNS: readonly string[] = [
  'duration',
  'protocol_type',
  'service',
  'flag',
  'src_bytes',
  'dst_bytes',
  'land',
  'wrong_fragment',
  'urgent',
  'hot',
  'num_failed_logins',
  'logged_in',
  'num_compromised',
  'root_shell',
  'su_attempted',
  'num_root',
  'num_file_creations',
  'num_shells',
  'num_access_files',
  'num_outbound_cmds',
  'is_host_login',
  'is_guest_login',
  'count',
  'srv_count',
  'serror_rate',
  'srv_serror_rate',
  'rerror_rate',
  'srv_rerror_rate',
  'same_srv_rate',
  'diff_srv_rate',
  'srv_diff_host_rate',
  'dst_host_count',
  'dst_host_srv_count',
  'dst_host_same_srv_rate',
  'dst_host_diff_srv_rate',
  'dst_host_same_src_port_rate',
  'dst_host_srv_diff_host_rate',
  'dst_host_serror_rate',
  'dst_host_srv_serror_rate',
  'dst_host_rerror_rate',
  'dst_host_srv_rerror_rate',
  'label',
  'difficulty',
];

/** The derived NSL-KDD column holding the five-class category. */
export const NSL_KDD_CATEGORY = 'category';

/** NSL-KDD attack name -> category (the standard mapping, listed in the dataset's README). */
const NSL_KDD_CATEGORIES: Readonly<Record<string, string>> = (() => {
  const m: Record<string, string> = { normal: 'normal' };
  const groups: Record<string, string[]> = {
    DoS: ['back', 'land', 'neptune', 'pod', 'smurf', 'teardrop', 'apache2', 'mailbomb', 'processtable', 'udpstorm'],
    Probe: ['ipsweep', 'nmap', 'portsweep', 'satan', 'mscan', 'saint'],
    R2L: [
      'ftp_write',
      'guess_passwd',
      'imap',
      'multihop',
      'phf',
      'spy',
      'warezclient',
      'warezmaster',
      'named',
      'sendmail',
      'snmpgetattack',
      'snmpguess',
      'worm',
      'xlock',
      'xsnoop',
      'httptunnel',
    ],
    U2R: ['buffer_overflow', 'loadmodule', 'perl', 'rootkit', 'ps', 'sqlattack', 'xterm'],
  };
  for (const [cat, names] of Object.entries(groups)) for (const n of names) m[n] = cat;
  return m;
})();

/** NSL-KDD category of an attack name; an unlisted name keeps its own name (so it is not hidden). */
export function nslKddCategory(label: string): string {
  return NSL_KDD_CATEGORIES[label.trim().toLowerCase()] ?? label.trim();
}

/** Columns that identify a flow or a row, or carry bookkeeping: never features (lower-case, trimmed). */
const IDENTIFIER_COLUMNS: ReadonlySet<string> = new Set([
  'id',
  'flow id',
  'flow_id',
  'src ip',
  'source ip',
  'src_ip',
  'srcip',
  'dst ip',
  'destination ip',
  'dst_ip',
  'dstip',
  'src port',
  'source port',
  'src_port',
  'sport',
  'timestamp',
  'stime',
  'ltime',
  'attempted category',
  'difficulty',
]);

/** Label-like columns: when one is the label, the others are dropped (they give the answer away). */
const LABEL_COLUMNS: ReadonlySet<string> = new Set(['label', 'attack_cat', NSL_KDD_CATEGORY]);

/** Columns holding the row's capture time. */
const TIME_COLUMNS: ReadonlySet<string> = new Set(['timestamp', 'stime']);

/** True for the labels that mean "no attack". */
export function isBenignLabel(label: string): boolean {
  const l = label.trim().toLowerCase();
  return l === 'benign' || l === 'normal';
}

// ---- Parsing helpers -----------------------------------------------------------------------------

/**
 * Split one CSV line (RFC 4180 quoting: `"a,b"` and `""` inside quotes) into `out`; fields are not
 * trimmed. Returns the number of fields.
 */
export function splitCsvLine(line: string, out: string[]): number {
  out.length = 0;
  if (line.indexOf('"') < 0) {
    let start = 0;
    for (;;) {
      const c = line.indexOf(',', start);
      if (c < 0) {
        out.push(line.slice(start));
        return out.length;
      }
      out.push(line.slice(start, c));
      start = c + 1;
    }
  }
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out.length;
}

/** Odd number of quote characters: the line ends inside a quoted field. */
function opensQuote(line: string): boolean {
  let n = 0;
  for (let i = line.indexOf('"'); i >= 0; i = line.indexOf('"', i + 1)) n++;
  return (n & 1) === 1;
}

/** Result kinds of parseValue besides a number. */
const NON_NUMERIC = Symbol('non-numeric');

/**
 * A numeric field: numbers, `Infinity`/`inf` (any case, signed) and NaN spellings; empty is NaN;
 * anything else is NON_NUMERIC.
 */
function parseValue(s: string): number | typeof NON_NUMERIC {
  // Number() ignores surrounding whitespace; it reads a blank field as 0, which is a missing value here.
  const v = Number(s);
  if (v === v) return v !== 0 || s.trim() !== '' ? v : NaN;
  const l = s.trim().toLowerCase();
  if (l === '' || l === 'nan' || l === '-nan' || l === 'null' || l === 'na' || l === 'n/a') return NaN;
  if (l === 'inf' || l === '+inf' || l === 'infinity' || l === '+infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  return NON_NUMERIC;
}

const ISO_TS = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?/;
const DMY_TS = /^(\d{1,2})\/(\d{1,2})\/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?/;

/**
 * Capture time of a row in µs, or NaN. `YYYY-MM-DD HH:MM[:SS[.ffffff]]` (corrected CIC-IDS2017),
 * `D/M/YYYY H:MM[:SS]` (original CIC-IDS2017, day first) and epoch seconds (UNSW-NB15 stime). Read
 * as UTC: only the order matters (time-aware split).
 */
export function parseTimestamp(s: string): number {
  const t = s.trim();
  if (t === '') return NaN;
  let m = ISO_TS.exec(t);
  if (m !== null) {
    const frac = m[7] === undefined ? 0 : Number((m[7] + '000000').slice(0, 6));
    const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, m[6] === undefined ? 0 : +m[6]);
    return ms * 1000 + frac;
  }
  m = DMY_TS.exec(t);
  if (m !== null) {
    const ms = Date.UTC(+m[3]!, +m[2]! - 1, +m[1]!, +m[4]!, +m[5]!, m[6] === undefined ? 0 : +m[6]);
    return ms * 1000;
  }
  const v = Number(t);
  return Number.isFinite(v) ? v * 1e6 : NaN;
}

/** Key two column names are compared by: our feature name when it is one, else trimmed lower-case. */
function columnKey(name: string): string {
  return (canonicalFeatureName(name) ?? name.trim()).toLowerCase();
}

/** Output name of a numeric source column. */
function featureName(name: string): string {
  return canonicalFeatureName(name) ?? name.trim();
}

// ---- Growing storage -----------------------------------------------------------------------------

class GrowF64 {
  buf: Float64Array;
  len = 0;
  constructor(cap: number) {
    this.buf = new Float64Array(Math.max(16, cap));
  }
  reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const g = new Float64Array(cap);
    g.set(this.buf.subarray(0, this.len));
    this.buf = g;
  }
  trimmed(): Float64Array {
    return this.len === this.buf.length ? this.buf : this.buf.slice(0, this.len);
  }
}

class GrowI32 {
  buf: Int32Array;
  len = 0;
  constructor(cap: number) {
    this.buf = new Int32Array(Math.max(16, cap));
  }
  reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const g = new Int32Array(cap);
    g.set(this.buf.subarray(0, this.len));
    this.buf = g;
  }
  trimmed(): Int32Array {
    return this.len === this.buf.length ? this.buf : this.buf.slice(0, this.len);
  }
}

// ---- Header resolution ---------------------------------------------------------------------------

interface FileSchema {
  format: DataFormat;
  /** Source column names (trimmed; NSL-KDD's standard names, plus nothing for the derived category). */
  header: string[];
  /** Field count of a data row. */
  width: number;
  /** Whether the first line is data (NSL-KDD). */
  headerless: boolean;
  /** Source index of the label, or of `label` for NSL-KDD's derived category. */
  labelIdx: number;
  labelMap: ((v: string) => string) | null;
  tsIdx: number;
  labelColumn: string;
}

/** Work out the format, header and label column of a file from its first line. */
function resolveSchema(file: string, firstLine: string, labelOpt: string | undefined): FileSchema {
  const fields: string[] = [];
  splitCsvLine(firstLine.replace(/^\uFEFF/, ''), fields);
  const trimmed = fields.map((f) => f.trim());
  const lower = trimmed.map((f) => f.toLowerCase());
  // NSL-KDD has no header: 42 or 43 fields whose first is a number and which name no column we know.
  const known = trimmed.some((f) => canonicalFeatureName(f) !== null || LABEL_COLUMNS.has(f.toLowerCase()));
  let format: DataFormat;
  let header: string[];
  let headerless = false;
  if (!known && (fields.length === 43 || fields.length === 42) && typeof parseValue(fields[0]!) === 'number') {
    format = 'nsl-kdd';
    header = NSL_KDD_COLUMNS.slice(0, fields.length);
    headerless = true;
  } else {
    header = trimmed;
    if (lower.includes('attack_cat')) format = 'unsw-nb15';
    else if (trimmed.filter((f) => canonicalFeatureName(f) !== null).length >= Math.max(3, trimmed.length / 3))
      format = 'cicflowmeter';
    else format = 'csv';
  }
  const hlower = header.map((h) => h.toLowerCase());
  const dflt = format === 'nsl-kdd' ? NSL_KDD_CATEGORY : format === 'unsw-nb15' ? 'attack_cat' : 'Label';
  const want = (labelOpt ?? dflt).trim();
  const wantL = want.toLowerCase();
  let labelIdx: number;
  let labelMap: ((v: string) => string) | null = null;
  let labelColumn: string;
  if (format === 'nsl-kdd' && wantL === NSL_KDD_CATEGORY) {
    labelIdx = hlower.indexOf('label');
    labelMap = nslKddCategory;
    labelColumn = NSL_KDD_CATEGORY;
  } else {
    labelIdx = hlower.indexOf(wantL);
    if (labelIdx < 0) {
      const shown = header.slice(0, 12).join(', ') + (header.length > 12 ? ', ...' : '');
      throw new MlError(
        'VIGIL_ML_DATA_INVALID',
        `${file}: no label column "${want}" (columns: ${shown}); choose one with --label-column`,
      );
    }
    labelColumn = header[labelIdx]!;
    if (format === 'unsw-nb15' && wantL === 'label') labelMap = (v) => (v.trim() === '0' ? 'normal' : 'attack');
  }
  let tsIdx = -1;
  for (let i = 0; i < hlower.length; i++) if (TIME_COLUMNS.has(hlower[i]!)) tsIdx = tsIdx < 0 ? i : tsIdx;
  return { format, header, width: header.length, headerless, labelIdx, labelMap, tsIdx, labelColumn };
}

// ---- Import --------------------------------------------------------------------------------------

/**
 * Records of a file, read in chunks: `take()` returns the next record without awaiting (undefined
 * when the chunk is used up), `refill()` reads the next chunk (false at the end of the file). One
 * promise per chunk rather than per line. Lines are joined while a quoted field spans a line break.
 */
class RecordSource {
  private readonly buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private readonly dec = new StringDecoder('utf8');
  private lines: string[] = [];
  private pos = 0;
  private rest = '';
  private pending: string | null = null;
  private eof = false;

  private constructor(
    private readonly fh: fs.promises.FileHandle,
    private readonly onBytes: (n: number) => void,
  ) {}

  static async open(file: string, onBytes: (n: number) => void): Promise<RecordSource> {
    return new RecordSource(await fs.promises.open(file, 'r'), onBytes);
  }

  take(): string | undefined {
    return this.pos < this.lines.length ? this.lines[this.pos++] : undefined;
  }

  async refill(): Promise<boolean> {
    this.lines = [];
    this.pos = 0;
    while (this.lines.length === 0) {
      if (this.eof) return false;
      const { bytesRead } = await this.fh.read(this.buf, 0, CHUNK_BYTES, null);
      let text: string;
      if (bytesRead === 0) {
        this.eof = true;
        text = this.rest + this.dec.end();
        if (text.endsWith('\r')) text = text.slice(0, -1);
        if (text !== '') this.push(text);
        if (this.pending !== null) this.lines.push(this.pending);
        this.pending = null;
        this.rest = '';
        continue;
      }
      this.onBytes(bytesRead);
      text = this.rest + this.dec.write(this.buf.subarray(0, bytesRead));
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        this.push(text.slice(start, end));
        start = nl + 1;
      }
      this.rest = text.slice(start);
    }
    return true;
  }

  private push(line: string): void {
    if (this.pending !== null) {
      this.pending += '\n' + line;
      if (opensQuote(line)) {
        this.lines.push(this.pending);
        this.pending = null;
      }
    } else if (line.indexOf('"') >= 0 && opensQuote(line)) this.pending = line;
    else this.lines.push(line);
  }

  /** Next record, awaiting a chunk when needed; undefined at the end. */
  async next(): Promise<string | undefined> {
    const l = this.take();
    if (l !== undefined || !(await this.refill())) return l;
    return this.take();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** The CSV files of `data`: the file itself, or every *.csv / *.txt in a directory (sorted). */
export function csvFiles(data: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(data);
  } catch (e) {
    throw new MlError('VIGIL_ML_DATA_INVALID', `cannot read ${data}: ${(e as Error).message}`);
  }
  if (!st.isDirectory()) return [data];
  const files = fs
    .readdirSync(data)
    .filter((n) => /\.(csv|txt)$/i.test(n))
    .sort()
    .map((n) => path.join(data, n));
  if (files.length === 0) throw new MlError('VIGIL_ML_DATA_INVALID', `${data}: no *.csv files in the directory`);
  return files;
}

interface CatState {
  source: string;
  /** Values in first-seen order (a new import) or the encoding's values (fixed). */
  values: string[];
  index: Map<string, number>;
  counts: number[];
  fixed: boolean;
}

/**
 * Import one CSV file or a directory of CSVs sharing one layout (e.g. CIC-IDS2017 split per label).
 * Throws MlError with the file and reason when a file cannot be used.
 */
export async function loadCsv(data: string | string[], opts: CsvImportOptions = {}): Promise<LoadedData> {
  const files = Array.isArray(data) ? data : csvFiles(data);
  let total = 0;
  for (const f of files) {
    try {
      total += fs.statSync(f).size;
    } catch (e) {
      throw new MlError('VIGIL_ML_DATA_INVALID', `cannot read ${f}: ${(e as Error).message}`);
    }
  }
  let done = 0;
  const onBytes = (n: number): void => {
    done += n;
    opts.onProgress?.(done, total);
  };
  const maxRows = opts.maxRows !== undefined && opts.maxRows > 0 ? opts.maxRows : Infinity;
  const enc = opts.encoding;
  const labelOpt = opts.labelColumn ?? (enc !== undefined ? enc.labelColumn : undefined);

  // Layout, fixed by the first file (or the encoding): numeric sources and categorical sources.
  let numericKeys: string[] | null = null; // columnKey of each numeric source
  let numericNames: string[] = [];
  let catKeys: string[] = [];
  let cats: CatState[] = [];
  let format: DataFormat | null = null;
  let labelColumn = '';
  const dropped = new Set<string>();

  if (enc !== undefined) {
    numericKeys = [];
    const catByKey = new Map<string, CatState>();
    for (const c of enc.columns) {
      if (c.kind === 'numeric') {
        numericKeys.push(columnKey(c.source));
        numericNames.push(c.name);
      } else {
        const k = c.source.trim().toLowerCase();
        let st = catByKey.get(k);
        if (st === undefined) {
          st = { source: c.source, values: [], index: new Map(), counts: [], fixed: true };
          catByKey.set(k, st);
          catKeys.push(k);
          cats.push(st);
        }
        const vals = c.kind === 'onehot' ? (c.value === OTHER_VALUE ? [] : [c.value]) : c.values;
        for (const v of vals) {
          if (!st.index.has(v)) {
            st.index.set(v, st.values.length);
            st.values.push(v);
            st.counts.push(0);
          }
        }
      }
    }
  }

  const x = new GrowF64(1 << 16);
  const codes = new GrowI32(1 << 12);
  const labels = new GrowI32(1 << 12);
  const tsStore = new GrowF64(1 << 12);
  let haveTs = true;
  const classIdx = new Map<string, number>();
  const classNames: string[] = [];
  let benignName: string | null = null;
  for (const c of opts.classes ?? []) {
    classIdx.set(c, classNames.length);
    classNames.push(c);
    if (benignName === null && isBenignLabel(c)) benignName = c;
  }
  const replaced = { posInf: 0, negInf: 0, nan: 0, nonNumeric: 0 };
  let skipped = 0;
  let rows = 0;
  let dn = 0;
  let dc = 0;
  let maxFinite = new Float64Array(0);
  let minFinite = new Float64Array(0);

  const fields: string[] = [];
  for (const file of files) {
    if (rows >= maxRows) break;
    let src: RecordSource;
    try {
      src = await RecordSource.open(file, onBytes);
    } catch (e) {
      throw new MlError('VIGIL_ML_DATA_INVALID', `cannot read ${file}: ${(e as Error).message}`);
    }
    try {
      const first = await src.next();
      if (first === undefined) throw new MlError('VIGIL_ML_DATA_INVALID', `${file}: the file is empty`);
      const schema = resolveSchema(file, first, labelOpt);
      if (format === null) {
        format = schema.format;
        labelColumn = schema.labelColumn;
      } else if (schema.format !== format) {
        throw new MlError(
          'VIGIL_ML_DATA_INVALID',
          `${file}: ${schema.format} data, but the first file was ${format}; a directory must hold one format`,
        );
      }
      // Source columns that are features.
      const hkey = schema.header.map(columnKey);
      const hlower = schema.header.map((h) => h.toLowerCase());
      const candidate: number[] = [];
      for (let i = 0; i < schema.header.length; i++) {
        const l = hlower[i]!;
        if (i === schema.labelIdx || schema.header[i] === '') continue;
        if (IDENTIFIER_COLUMNS.has(l) || LABEL_COLUMNS.has(l)) {
          dropped.add(schema.header[i]!);
          continue;
        }
        candidate.push(i);
      }
      // Buffer the first rows: they decide categorical columns (first file only) before any row is stored.
      const sniff: string[][] = [];
      if (schema.headerless) sniff.push([...splitFirst(first, fields)]);
      while (sniff.length < SNIFF_ROWS) {
        const line = await src.next();
        if (line === undefined) break;
        if (line === '') continue;
        splitCsvLine(line, fields);
        sniff.push(fields.slice());
      }
      let numSrc: Int32Array;
      let catSrc: Int32Array;
      if (numericKeys === null) {
        const nums: number[] = [];
        const cs: number[] = [];
        const seen = new Set<string>();
        for (const i of candidate) {
          const k = hkey[i]!;
          if (seen.has(k)) {
            // e.g. the original CIC-IDS2017 `Fwd Header Length.1`, a duplicate of `Fwd Header Length`.
            dropped.add(schema.header[i]!);
            continue;
          }
          seen.add(k);
          // Categorical when most non-empty sniffed values are text: a stray junk value in a
          // numeric column (counted and read as 0) must not turn it into one-hot columns.
          let text = 0;
          let filled = 0;
          for (const row of sniff) {
            const v = row[i];
            if (v === undefined || v.trim() === '') continue;
            filled++;
            if (parseValue(v) === NON_NUMERIC) text++;
          }
          const categorical = text * 2 > filled;
          (categorical ? cs : nums).push(i);
        }
        numericKeys = nums.map((i) => hkey[i]!);
        numericNames = nums.map((i) => featureName(schema.header[i]!));
        catKeys = cs.map((i) => hlower[i]!);
        cats = cs.map((i) => ({ source: schema.header[i]!, values: [], index: new Map(), counts: [], fixed: false }));
        numSrc = Int32Array.from(nums);
        catSrc = Int32Array.from(cs);
      } else {
        const byKey = new Map<string, number>();
        for (let i = 0; i < hkey.length; i++) if (!byKey.has(hkey[i]!)) byKey.set(hkey[i]!, i);
        const byLower = new Map<string, number>();
        for (let i = 0; i < hlower.length; i++) if (!byLower.has(hlower[i]!)) byLower.set(hlower[i]!, i);
        const missing: string[] = [];
        numSrc = Int32Array.from(numericKeys, (k, j) => {
          const i = byKey.get(k);
          if (i === undefined) missing.push(numericNames[j]!);
          return i ?? -1;
        });
        catSrc = Int32Array.from(catKeys, (k, j) => {
          const i = byLower.get(k);
          if (i === undefined) missing.push(cats[j]!.source);
          return i ?? -1;
        });
        if (missing.length > 0) {
          throw new MlError(
            'VIGIL_ML_DATA_INVALID',
            `${file}: missing feature columns ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}`,
          );
        }
        const used = new Set<number>([...numSrc, ...catSrc]);
        for (const i of candidate) if (!used.has(i)) dropped.add(schema.header[i]!);
      }
      if (dn === 0 && dc === 0) {
        dn = numSrc.length;
        dc = catSrc.length;
        if (dn + dc === 0) throw new MlError('VIGIL_ML_DATA_INVALID', `${file}: no feature columns`);
        maxFinite = new Float64Array(dn).fill(-Infinity);
        minFinite = new Float64Array(dn).fill(Infinity);
      }

      const width = schema.width;
      const addRow = (f: string[]): void => {
        if (f.length !== width) {
          skipped++;
          return;
        }
        let lab = f[schema.labelIdx]!.trim();
        if (schema.labelMap !== null && lab !== '') lab = schema.labelMap(lab);
        if (lab === '') {
          skipped++;
          return;
        }
        if (isBenignLabel(lab)) {
          if (benignName === null) benignName = lab;
          lab = benignName;
        }
        let cls = classIdx.get(lab);
        if (cls === undefined) {
          cls = classNames.length;
          classIdx.set(lab, cls);
          classNames.push(lab);
        }
        x.reserve(dn);
        const o = x.len;
        const xb = x.buf;
        for (let j = 0; j < dn; j++) {
          const v = parseValue(f[numSrc[j]!]!);
          if (v === NON_NUMERIC) {
            replaced.nonNumeric++;
            xb[o + j] = 0;
          } else if (Number.isNaN(v)) {
            replaced.nan++;
            xb[o + j] = 0;
          } else {
            xb[o + j] = v;
            if (v === Infinity) replaced.posInf++;
            else if (v === -Infinity) replaced.negInf++;
            else {
              if (v > maxFinite[j]!) maxFinite[j] = v;
              if (v < minFinite[j]!) minFinite[j] = v;
            }
          }
        }
        x.len += dn;
        if (dc > 0) {
          codes.reserve(dc);
          for (let j = 0; j < dc; j++) {
            const st = cats[j]!;
            const v = f[catSrc[j]!]!.trim();
            let c = st.index.get(v);
            if (c === undefined && !st.fixed) {
              c = st.values.length;
              st.index.set(v, c);
              st.values.push(v);
              st.counts.push(0);
            }
            if (c !== undefined) st.counts[c]!++;
            codes.buf[codes.len + j] = c ?? -1;
          }
          codes.len += dc;
        }
        labels.reserve(1);
        labels.buf[labels.len++] = cls;
        tsStore.reserve(1);
        tsStore.buf[tsStore.len++] = schema.tsIdx >= 0 ? parseTimestamp(f[schema.tsIdx]!) : NaN;
        if (schema.tsIdx < 0) haveTs = false;
        rows++;
      };
      for (const row of sniff) {
        if (rows >= maxRows) break;
        addRow(row);
      }
      for (;;) {
        const line = src.take();
        if (line === undefined) {
          if (!(await src.refill())) break;
          continue;
        }
        if (rows >= maxRows) break;
        if (line === '') continue;
        splitCsvLine(line, fields);
        addRow(fields);
      }
    } finally {
      await src.close();
    }
  }
  if (rows === 0) throw new MlError('VIGIL_ML_DATA_INVALID', `${files.join(', ')}: no labeled rows`);

  // Infinity replacements: the encoding's, else this data's finite extremes.
  const posInf = new Float64Array(dn);
  const negInf = new Float64Array(dn);
  const encNumeric = enc?.columns.filter((c): c is NumericColumn => c.kind === 'numeric') ?? [];
  for (let j = 0; j < dn; j++) {
    const e = encNumeric[j];
    posInf[j] = e !== undefined ? e.posInf : maxFinite[j]! === -Infinity ? 0 : maxFinite[j]!;
    negInf[j] = e !== undefined ? e.negInf : minFinite[j]! === Infinity ? 0 : minFinite[j]!;
  }
  const xn = x.buf;
  for (let r = 0; r < rows; r++) {
    const o = r * dn;
    for (let j = 0; j < dn; j++) {
      const v = xn[o + j]!;
      if (v === Infinity) xn[o + j] = posInf[j]!;
      else if (v === -Infinity) xn[o + j] = negInf[j]!;
    }
  }

  // Output columns: the encoding's order, or numeric then categorical expansions.
  const columns: EncodedColumn[] = [];
  if (enc !== undefined) {
    for (const c of enc.columns) columns.push(c);
  } else {
    for (let j = 0; j < dn; j++)
      columns.push({
        kind: 'numeric',
        name: numericNames[j]!,
        source: numericNames[j]!,
        posInf: posInf[j]!,
        negInf: negInf[j]!,
      });
    const mode = opts.categorical ?? 'onehot';
    for (const st of cats) {
      // Most frequent first; ties by value, so the order does not depend on row order.
      const order = st.values
        .map((_, i) => i)
        .sort((a, b) => st.counts[b]! - st.counts[a]! || cmp(st.values[a]!, st.values[b]!));
      if (mode === 'ordinal') {
        columns.push({ kind: 'ordinal', name: st.source, source: st.source, values: order.map((i) => st.values[i]!) });
      } else {
        const keep = order.slice(0, MAX_ONEHOT_VALUES);
        for (const i of keep)
          columns.push({
            kind: 'onehot',
            name: `${st.source}=${st.values[i]!}`,
            source: st.source,
            value: st.values[i]!,
          });
        if (order.length > keep.length)
          columns.push({ kind: 'onehot', name: `${st.source}=${OTHER_VALUE}`, source: st.source, value: OTHER_VALUE });
      }
    }
  }

  // Final matrix.
  const d = columns.length;
  let out: Float64Array;
  if (dc === 0 && d === dn) out = x.trimmed();
  else {
    out = new Float64Array(rows * d);
    // Per output column: its numeric source index, or categorical source and value code.
    const numOf = new Int32Array(d).fill(-1);
    const catOf = new Int32Array(d).fill(-1);
    const codeOf = new Int32Array(d).fill(-1);
    const ordinal = new Uint8Array(d);
    const isOther = new Uint8Array(d);
    let nj = 0;
    const catIndex = new Map(cats.map((s, j) => [s.source.trim().toLowerCase(), j]));
    for (let k = 0; k < d; k++) {
      const c = columns[k]!;
      if (c.kind === 'numeric') numOf[k] = nj++;
      else {
        const j = catIndex.get(c.source.trim().toLowerCase())!;
        catOf[k] = j;
        if (c.kind === 'ordinal') ordinal[k] = 1;
        else if (c.value === OTHER_VALUE) isOther[k] = 1;
        else codeOf[k] = cats[j]!.index.get(c.value) ?? -1;
      }
    }
    // Ordinal columns: data code -> rank in the column's value list.
    const rankOf: Int32Array[] = cats.map(() => new Int32Array(0));
    for (let k = 0; k < d; k++) {
      const c = columns[k]!;
      if (c.kind !== 'ordinal') continue;
      const st = cats[catOf[k]!]!;
      const rank = new Int32Array(st.values.length).fill(-1);
      c.values.forEach((v, r) => {
        const code = st.index.get(v);
        if (code !== undefined) rank[code] = r;
      });
      rankOf[catOf[k]!] = rank;
    }
    // One-hot "other": codes not given a column of their own.
    const named: Uint8Array[] = cats.map((st) => new Uint8Array(st.values.length));
    for (let k = 0; k < d; k++) if (codeOf[k]! >= 0) named[catOf[k]!]![codeOf[k]!] = 1;
    const cb = codes.buf;
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      const on = r * dn;
      const oc = r * dc;
      for (let k = 0; k < d; k++) {
        const nk = numOf[k]!;
        if (nk >= 0) {
          out[o + k] = xn[on + nk]!;
          continue;
        }
        const j = catOf[k]!;
        const code = cb[oc + j]!;
        if (ordinal[k] === 1) out[o + k] = code >= 0 ? rankOf[j]![code]! : -1;
        else if (isOther[k] === 1) out[o + k] = code < 0 || named[j]![code] === 0 ? 1 : 0;
        else out[o + k] = code === codeOf[k] && code >= 0 ? 1 : 0;
      }
    }
  }

  // Classes: the given list first, else benign first and the rest sorted; y remapped.
  const initial = opts.classes?.length ?? 0;
  const added = classNames.slice(initial);
  const order = [
    ...classNames.slice(0, initial),
    ...added.filter((c) => c === benignName && initial === 0),
    ...added.filter((c) => !(c === benignName && initial === 0)).sort(cmp),
  ];
  const remap = new Int32Array(classNames.length);
  for (let i = 0; i < classNames.length; i++) remap[i] = order.indexOf(classNames[i]!);
  const y = labels.trimmed();
  const classCounts: Record<string, number> = {};
  for (let i = 0; i < rows; i++) {
    y[i] = remap[y[i]!]!;
    const name = order[y[i]!]!;
    classCounts[name] = (classCounts[name] ?? 0) + 1;
  }
  const ds: Dataset = { x: out, n: rows, d, features: columns.map((c) => c.name), y, classes: order };
  if (haveTs) {
    const ts = tsStore.trimmed();
    if (ts.every((v) => !Number.isNaN(v))) ds.ts = ts;
  }
  return {
    ds,
    encoding: { format: format!, labelColumn, columns },
    benignClass: benignName !== null && order.includes(benignName) ? benignName : null,
    stats: {
      files,
      format: format!,
      rows,
      skippedRows: skipped,
      droppedColumns: [...dropped],
      replaced,
      classCounts,
    },
  };
}

/** NSL-KDD's first line is data: split it like any other row. */
function splitFirst(line: string, fields: string[]): string[] {
  splitCsvLine(line.replace(/^\uFEFF/, ''), fields);
  return fields;
}

/** Byte-wise string order (locale-independent, so class order is the same everywhere). */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The encoding restricted to the columns a model uses (so evaluation needs only those). */
export function subsetEncoding(enc: DataEncoding, features: readonly string[]): DataEncoding {
  const want = new Set(features);
  return { ...enc, columns: enc.columns.filter((c) => want.has(c.name)) };
}

/** Validate an encoding read back from a model file (throws MlError naming the problem). */
export function checkEncoding(v: unknown): DataEncoding {
  const e = v as Partial<DataEncoding> | null;
  const bad = (why: string): MlError => new MlError('VIGIL_ML_DATA_INVALID', `model data encoding: ${why}`);
  if (e === null || typeof e !== 'object') throw bad('not an object');
  if (typeof e.labelColumn !== 'string' || typeof e.format !== 'string') throw bad('format/labelColumn missing');
  if (!Array.isArray(e.columns)) throw bad('columns missing');
  for (const c of e.columns as Partial<EncodedColumn>[]) {
    if (c === null || typeof c !== 'object' || typeof c.name !== 'string' || typeof c.source !== 'string')
      throw bad('a column lacks name/source');
    if (c.kind === 'numeric') {
      if (typeof c.posInf !== 'number' || typeof c.negInf !== 'number') throw bad(`${c.name}: Infinity values missing`);
    } else if (c.kind === 'onehot') {
      if (typeof c.value !== 'string') throw bad(`${c.name}: value missing`);
    } else if (c.kind === 'ordinal') {
      if (!Array.isArray(c.values)) throw bad(`${c.name}: values missing`);
    } else throw bad(`${c.name}: unknown kind`);
  }
  return e as DataEncoding;
}
