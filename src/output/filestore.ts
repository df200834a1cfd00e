/**
 * File store (Suricata's file-store v2 layout): complete files carried over HTTP and SMTP are
 * written as `DIR/<first two hex digits of sha256>/<sha256>`, through a temporary name and a
 * rename, so a reader never sees a partial file; a file already there is not written again.
 *
 * Disk use is bounded: `maxBytes` caps the directory's content (files stored by earlier runs
 * count, measured once at start); a file that would pass the cap is not stored and counted.
 * Truncated files (bodies cut at response-body-limit, cut sessions) are not stored either: their
 * name would have to be the SHA-256 of bytes Vigil never saw. The cap and the file ids are shared
 * by every pipeline worker through a SharedArrayBuffer.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';

/** What the workers' file stores share: the directory, policy and the shared counters. */
export interface FileStoreSpec {
  /** Absolute directory. */
  dir: string;
  /** Store every file (`force-filestore`), not only those of transactions a `filestore` rule matched. */
  force: boolean;
  /** Cap on the directory's content in bytes. */
  maxBytes: number;
  /** [bytes in the directory, last file id] as a BigInt64Array over this buffer. */
  shared: SharedArrayBuffer;
}

/** Counters of one worker's file store (summed across workers). */
export interface FileStoreCounters {
  /** Files written. */
  stored: number;
  /** Files already in the store (same SHA-256): not written again, reported as stored. */
  duplicates: number;
  /** Files not stored because the directory would pass max-size. */
  skipped_max_size: number;
  /** Files selected for storing but truncated (not all their bytes seen). */
  skipped_truncated: number;
  /** Writes that failed (disk full, permissions); the file is reported as not stored. */
  errors: number;
  bytes_written: number;
}

/** The outcome for one file, for its EVE fileinfo record. */
export interface StoreResult {
  stored: boolean;
  /** Suricata's `file_id`: a number per stored file of the run. */
  fileId?: number;
  sha256?: string;
}

export class FileStoreError extends Error {
  readonly code = 'VIGIL_FILESTORE_DIR';
}

/** Two hex digits: the 256 subdirectories. */
const SUBDIR = /^[0-9a-f]{2}$/;
const HASH_NAME = /^[0-9a-f]{64}$/;

/**
 * Create the store directory (and its 256 subdirectories) and measure what it already holds.
 * Throws FileStoreError with a one-line reason when the directory cannot be used.
 */
export function prepareFileStore(dir: string, force: boolean, maxBytes: number): FileStoreSpec {
  const abs = path.resolve(dir);
  let used = 0n;
  try {
    fs.mkdirSync(abs, { recursive: true });
    for (let i = 0; i < 256; i++) fs.mkdirSync(path.join(abs, i.toString(16).padStart(2, '0')), { recursive: true });
    for (const sub of fs.readdirSync(abs)) {
      if (!SUBDIR.test(sub)) continue;
      for (const name of fs.readdirSync(path.join(abs, sub))) {
        if (!HASH_NAME.test(name)) continue;
        const st = fs.statSync(path.join(abs, sub, name), { throwIfNoEntry: false });
        if (st?.isFile()) used += BigInt(st.size);
      }
    }
  } catch (e) {
    throw new FileStoreError(`file-store.dir ${abs}: ${(e as Error).message}`);
  }
  const shared = new SharedArrayBuffer(16);
  new BigInt64Array(shared)[0] = used;
  return { dir: abs, force, maxBytes, shared };
}

/** One worker's writer over a prepared store. */
export class FileStore {
  readonly counters: FileStoreCounters = {
    stored: 0,
    duplicates: 0,
    skipped_max_size: 0,
    skipped_truncated: 0,
    errors: 0,
    bytes_written: 0,
  };
  private readonly shared: BigInt64Array;
  private tmpSeq = 0;

  constructor(readonly spec: FileStoreSpec) {
    this.shared = new BigInt64Array(spec.shared);
  }

  /** Whether a file marked with `bits` (from `filestore` rules) for direction bit `dirBit` is wanted. */
  wants(marks: number | undefined, dirBit: number): boolean {
    return this.spec.force || ((marks ?? 0) & dirBit) !== 0;
  }

  /** A wanted file that is incomplete: counted, not stored. */
  truncated(): StoreResult {
    this.counters.skipped_truncated++;
    return { stored: false };
  }

  /** Store a complete file; `sha256` when already known. Never throws. */
  store(data: Uint8Array, sha256?: string): StoreResult {
    const hash = sha256 !== undefined && sha256 !== '' ? sha256 : createHash('sha256').update(data).digest('hex');
    const final = path.join(this.spec.dir, hash.slice(0, 2), hash);
    if (fs.existsSync(final)) {
      this.counters.duplicates++;
      return { stored: true, fileId: this.nextId(), sha256: hash };
    }
    const size = BigInt(data.length);
    // Reserve the bytes first, so workers writing at once cannot pass the cap together.
    const before = Atomics.add(this.shared, 0, size);
    if (before + size > BigInt(this.spec.maxBytes)) {
      Atomics.sub(this.shared, 0, size);
      this.counters.skipped_max_size++;
      return { stored: false, sha256: hash };
    }
    const tmp = path.join(this.spec.dir, hash.slice(0, 2), `.tmp-${process.pid}-${threadId}-${this.tmpSeq++}`);
    try {
      fs.writeFileSync(tmp, data);
      fs.renameSync(tmp, final);
    } catch {
      Atomics.sub(this.shared, 0, size);
      this.counters.errors++;
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // The write error is already counted; a leftover temp file does not count against the cap.
      }
      return { stored: false, sha256: hash };
    }
    this.counters.stored++;
    this.counters.bytes_written += data.length;
    return { stored: true, fileId: this.nextId(), sha256: hash };
  }

  private nextId(): number {
    return Number(Atomics.add(this.shared, 1, 1n)) + 1;
  }
}

/** Sum of the workers' counters. */
export function mergeFileStoreCounters(all: readonly FileStoreCounters[]): FileStoreCounters {
  const out: FileStoreCounters = {
    stored: 0,
    duplicates: 0,
    skipped_max_size: 0,
    skipped_truncated: 0,
    errors: 0,
    bytes_written: 0,
  };
  for (const c of all) for (const k of Object.keys(out) as (keyof FileStoreCounters)[]) out[k] += c[k];
  return out;
}
