/**
 * Which files of an application-layer record go to the file store, and what became of each: the
 * HTTP response body (direction bit 2, to the client), the files of an HTTP request body (bit 1,
 * to the server: uploads, POST/PUT bodies) and SMTP attachments (bit 1). Shared by `vigil analyze`
 * (src/output/analyze-sink.ts, which also writes the EVE fileinfo records) and by `vigil serve`'s
 * live sensor and PCAP jobs, which store files without writing EVE.
 */
import path from 'node:path';
import type { AppRecord, HttpRecord, SmtpRecord } from '../applayer/app-layer.js';
import { httpRequestFiles } from '../applayer/http/files.js';
import type { EngineConfig } from '../pipeline/config.js';
import { httpFileComplete } from './fileinfo.js';
import { prepareFileStore } from './filestore.js';
import type { FileStore, FileStoreSpec, StoreResult } from './filestore.js';

/** Direction bits of `filestore` marks (see src/detect/engine/compile.ts). */
const TO_SERVER = 1;
const TO_CLIENT = 2;

/** Store an HTTP response body when wanted (force-filestore or a filestore rule's mark). */
export function storeHttpResponse(files: FileStore, rec: HttpRecord): StoreResult | undefined {
  const tx = rec.tx;
  if (tx.responseBody.length === 0 && tx.responseBodyLength === 0) return undefined;
  if (!files.wants(rec.fileStore, TO_CLIENT)) return undefined;
  if (!httpFileComplete(tx) || tx.responseBody.length === 0) return files.truncated();
  return files.store(tx.responseBody);
}

/**
 * Store the files of an HTTP request body when wanted (`filestore:request` or `both`, or force);
 * one result per file of httpRequestFiles, undefined when none was wanted.
 */
export function storeHttpRequestFiles(files: FileStore, rec: HttpRecord): (StoreResult | undefined)[] | undefined {
  const list = httpRequestFiles(rec.tx);
  if (list.length === 0 || !files.wants(rec.fileStore, TO_SERVER)) return undefined;
  const out: (StoreResult | undefined)[] = [];
  for (const f of list) {
    if (!f.complete) out.push(files.truncated());
    // An empty file has nothing to keep (Suricata does not store empty files either).
    else if (f.data.length === 0) out.push(undefined);
    else out.push(files.store(f.data));
  }
  return out;
}

/** Store a mail's attachments when wanted (a mail travels to the server). */
export function storeSmtpAttachments(files: FileStore, rec: SmtpRecord): (StoreResult | undefined)[] | undefined {
  const atts = rec.tx.attachments;
  if (atts.length === 0 || !files.wants(rec.fileStore, TO_SERVER)) return undefined;
  const out: (StoreResult | undefined)[] = [];
  for (const p of atts) {
    if (p.size === 0) out.push(undefined);
    else if (!p.complete || p.truncated || p.data.length !== p.size) out.push(files.truncated());
    else out.push(files.store(p.data, p.sha256));
  }
  return out;
}

/** Store every wanted file of `rec` (HTTP both directions, SMTP attachments); others carry none. */
export function storeAppFiles(files: FileStore, rec: AppRecord): void {
  if (rec.kind === 'http') {
    storeHttpRequestFiles(files, rec);
    storeHttpResponse(files, rec);
  } else if (rec.kind === 'smtp') storeSmtpAttachments(files, rec);
}

/** Stores prepared in this process, by absolute directory (see fileStoreSpecOf). */
const prepared = new Map<string, FileStoreSpec>();

/**
 * The file store of an engine configuration, null when it is off: prepared once per directory and
 * process, so every engine a server runs (the live sensor's worker, each PCAP job) shares one
 * byte count and one max-size cap. A relative `dir` is taken under `baseDir`. Throws
 * FileStoreError with a one-line reason when the directory cannot be used.
 */
export function fileStoreSpecOf(cfg: EngineConfig['fileStore'], baseDir: string): FileStoreSpec | null {
  if (!cfg.enabled) return null;
  const dir = path.resolve(baseDir, cfg.dir);
  let spec = prepared.get(dir);
  if (spec === undefined) {
    spec = prepareFileStore(dir, cfg.force, cfg.maxSize);
    prepared.set(dir, spec);
  }
  // The same counters; the policy as configured now.
  return spec.force === cfg.force && spec.maxBytes === cfg.maxSize
    ? spec
    : { ...spec, force: cfg.force, maxBytes: cfg.maxSize };
}
