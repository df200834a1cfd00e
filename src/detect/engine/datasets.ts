/**
 * Data for the `dataset` and `iprep` rule keywords. Datasets (Suricata's): named sets of values a
 * sticky buffer is looked up in (`isset`, `isnotset`) or added to (`set`, `unset`), typed `string`
 * (file lines base64), `md5`, `sha256`, `ipv4`, `ip`; values are kept as the hex of their bytes so
 * every type is one lookup of the buffer's hex. IP reputation (Suricata's iprep): categories file
 * `id,name,description` and reputation files `ip-or-cidr,category-id,score` (score 0..127).
 * One registry per thread (each pipeline worker loads its own rules), filled while rules load.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseIp } from '../../flow/key.js';

export type DatasetType = 'string' | 'md5' | 'sha256' | 'ipv4' | 'ip';

export class DatasetError extends Error {}

export class Dataset {
  readonly values = new Set<string>();
  /** Entries added at run time (set) are bounded; beyond this `set` stops adding. */
  static readonly MAX_RUNTIME = 1_000_000;
  constructor(
    readonly name: string,
    readonly type: DatasetType,
  ) {}
  has(hex: string): boolean {
    return this.values.has(hex);
  }
  /** True when newly added (Suricata's `set` matches then). */
  add(hex: string): boolean {
    if (this.values.has(hex) || this.values.size >= Dataset.MAX_RUNTIME) return false;
    this.values.add(hex);
    return true;
  }
  remove(hex: string): boolean {
    return this.values.delete(hex);
  }
}

const sets = new Map<string, Dataset>();
let baseDir = process.cwd();

/** Directory that relative `load` paths of the rules being compiled resolve against. */
export function setDatasetBaseDir(dir: string): void {
  baseDir = dir;
}

/** Forget all datasets and reputation data (a fresh ruleset load). */
export function resetIntel(): void {
  sets.clear();
  rep.clear();
  repBlocks.length = 0;
  categories.clear();
}

/** Type of an already declared dataset, or null. */
export function existingDatasetType(name: string): DatasetType | null {
  return sets.get(name)?.type ?? null;
}

/** The dataset `name`, created (and loaded from `load`) on first use. Throws DatasetError. */
export function datasetFor(name: string, type: DatasetType, load: string | null): Dataset {
  const have = sets.get(name);
  if (have !== undefined) {
    if (have.type !== type) throw new DatasetError(`dataset ${name} already declared with type ${have.type}`);
    if (load !== null) loadInto(have, load);
    return have;
  }
  const ds = new Dataset(name, type);
  if (load !== null) loadInto(ds, load);
  sets.set(name, ds);
  return ds;
}

function loadInto(ds: Dataset, file: string): void {
  const p = path.isAbsolute(file) ? file : path.resolve(baseDir, file);
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (e) {
    throw new DatasetError(`dataset ${ds.name}: cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? ''}`);
  }
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    // A line may carry ",<reputation>" (datarep files): the value is the first field.
    const t = lines[n]!.trim().split(',')[0]!.trim();
    if (t === '' || t.startsWith('#')) continue;
    const hex = valueHex(ds.type, t);
    if (hex === null) throw new DatasetError(`dataset ${ds.name}: ${p}:${n + 1}: not a ${ds.type} value`);
    ds.values.add(hex);
  }
}

const scratch = new Uint32Array(4);

/** A dataset file value as the hex of the bytes a buffer would hold. */
export function valueHex(type: DatasetType, t: string): string | null {
  switch (type) {
    case 'string':
      return /^[A-Za-z0-9+/]*={0,2}$/.test(t) ? Buffer.from(t, 'base64').toString('hex') : null;
    case 'md5':
      return /^[0-9a-f]{32}$/i.test(t) ? t.toLowerCase() : null;
    case 'sha256':
      return /^[0-9a-f]{64}$/i.test(t) ? t.toLowerCase() : null;
    case 'ipv4':
    case 'ip': {
      const v = parseIp(t, scratch, 0);
      if (v === 0 || (type === 'ipv4' && v !== 4)) return null;
      const b = Buffer.alloc(v === 4 ? 4 : 16);
      for (let k = 0; k < (v === 4 ? 1 : 4); k++) b.writeUInt32BE(scratch[k]! >>> 0, k * 4);
      return b.toString('hex');
    }
  }
}

// ---- IP reputation ----------------------------------------------------------------------------

const categories = new Map<string, number>();
/** "ver:w0:w1:w2:w3" -> category id -> score. */
const rep = new Map<string, Map<number, number>>();
const repBlocks: { ver: number; words: Uint32Array; bits: number; cat: number; score: number }[] = [];

/** Load Suricata's reputation-categories-file and reputation-files. Returns problems (file:line reason). */
export function loadIpReputation(categoriesFile: string, files: readonly string[]): string[] {
  const errors: string[] = [];
  const read = (f: string): string[] | null => {
    try {
      return fs.readFileSync(f, 'utf8').split(/\r?\n/);
    } catch (e) {
      errors.push(`cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? ''}`);
      return null;
    }
  };
  const cats = read(categoriesFile) ?? [];
  cats.forEach((line, n) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const [id, name] = t.split(',');
    const num = Number(id);
    if (name === undefined || !Number.isInteger(num) || num < 0 || num > 255)
      errors.push(`${categoriesFile}:${n + 1}: expected id,name,description`);
    else categories.set(name.trim(), num);
  });
  for (const f of files) {
    const lines = read(f) ?? [];
    lines.forEach((line, n) => {
      const t = line.trim();
      if (t === '' || t.startsWith('#')) return;
      const [ip, cat, score] = t.split(',').map((x) => x.trim());
      const words = new Uint32Array(4);
      const slash = ip?.indexOf('/') ?? -1;
      const ver = ip === undefined ? 0 : parseIp(slash < 0 ? ip : ip.slice(0, slash), words, 0);
      const c = Number(cat);
      const s = Number(score);
      if (ver === 0 || !Number.isInteger(c) || !Number.isInteger(s) || s < 0 || s > 127) {
        errors.push(`${f}:${n + 1}: expected ip,category,score (score 0..127)`);
        return;
      }
      const max = ver === 4 ? 32 : 128;
      const bits = slash < 0 ? max : Number(ip!.slice(slash + 1));
      if (bits === max) {
        const k = `${ver}:${words.join(':')}`;
        let m = rep.get(k);
        if (m === undefined) rep.set(k, (m = new Map()));
        m.set(c, s);
      } else repBlocks.push({ ver, words, bits, cat: c, score: s });
    });
  }
  return errors;
}

/** Category id by name, -1 when unknown. */
export function repCategory(name: string): number {
  return categories.get(name) ?? -1;
}

export function hasReputationData(): boolean {
  return rep.size > 0 || repBlocks.length > 0;
}

/** Reputation score of an address in a category, -1 when it has none. */
export function repScore(ver: number, w: Uint32Array, o: number, cat: number): number {
  if (rep.size > 0) {
    const m = rep.get(`${ver}:${w[o]! >>> 0}:${w[o + 1]! >>> 0}:${w[o + 2]! >>> 0}:${w[o + 3]! >>> 0}`);
    const s = m?.get(cat);
    if (s !== undefined) return s;
  }
  for (const b of repBlocks) {
    if (b.cat !== cat || b.ver !== ver) continue;
    let left = b.bits;
    let ok = true;
    for (let k = 0; k < 4 && left > 0 && ok; k++) {
      const take = Math.min(32, left);
      const mask = take === 32 ? 0xffffffff : ~(0xffffffff >>> take) >>> 0;
      ok = (w[o + k]! & mask) >>> 0 === (b.words[k]! & mask) >>> 0;
      left -= take;
    }
    if (ok) return b.score;
  }
  return -1;
}
