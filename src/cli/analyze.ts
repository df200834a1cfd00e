/** `vigil analyze FILE`: offline analysis of a pcap/pcapng capture (DESIGN.md, command line). */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openCaptureFile } from '../capture/open.js';
import { CaptureError } from '../capture/errors.js';
import { runCapture } from '../pipeline/runner.js';
import { detectSpec, protocolCounts, ruleAlertSummary, shadowSummary } from '../pipeline/engine.js';
import { checkDetectFiles, loadDetectRules, ruleLoadReport } from '../detect/engine/load.js';
import type { LoadedRules, RuleLoadReport } from '../detect/engine/load.js';
import { RuleFileError } from '../detect/signatures/ruleset.js';
import { EveWriter, statsEvent } from '../output/eve.js';
import { TalkerTable } from '../output/talkers.js';
import type { AnalyzeSinkOptions, AnalyzeSinkResult } from '../output/analyze-sink.js';
import { FileStoreError, mergeFileStoreCounters, prepareFileStore } from '../output/filestore.js';
import type { FileStoreCounters, FileStoreSpec } from '../output/filestore.js';
import { CliError, usageError } from './errors.js';
import { engineConfigFrom } from './options.js';
import { Progress } from './progress.js';
import { IndicatorError, loadIndicatorList } from '../detect/indicators/lists.js';
import { loadModelSetup } from '../detect/classify/setup.js';
import { ModelError } from '../detect/classify/model.js';
import { ModelStage } from '../detect/classify/stage.js';

export const ANALYZE_USAGE = `usage: vigil analyze FILE [options]

Analyse a pcap or pcapng capture offline.

  --json                 print a JSON summary object to stdout
  --eve FILE             write Suricata-style EVE JSON lines (alert, flow, http, dns, tls, ssh, ftp and a final stats event)
  --workers N            pipeline worker threads (default: number of cores)
  --max-packets N        stop after N packets (default: no limit)
  --rules FILE           load a Suricata rule file (repeatable)
  --no-builtin-rules     do not load Vigil's built-in rules (rules/vigil.rules)
  --indicators SPEC      load an indicator list, [malware:|policy:]PATH (repeatable): IPs/CIDRs,
                         domains, URLs, JA3/JA4, file hashes; Suricata iprep and dataset files too
  --no-detect            run the packet engine only (read, decode, flows, features)
  --no-ml                disable the anomaly detector and classifier
  -k none|all            checksum validation (default none: captures with NIC offloads carry bad checksums)
  --set KEY=VALUE        set a configuration key (repeatable), e.g. flow-timeouts.tcp.established=600
  -c FILE                read the supported parts of a suricata.yaml
  --sensor-name NAME     EVE "host" field (default: vigil)
`;

export interface AnalyzeSummary {
  packets: number;
  bytes: number;
  flows: number;
  alerts: number;
  alerts_by_type: Record<string, number>;
  /** Alerts after ALERT_DEDUP_WINDOW folding (what `vigil serve` would store). */
  alerts_deduplicated: number;
  duration_s: number;
  packets_per_s: number;
  errors: { offset: number; reason: string }[];
  file: string;
  format: string;
  capture_span_s: number;
  protocols: Record<string, number>;
  top_talkers: { ip: string; packets: number; bytes: number; flows: number }[];
  decoder_events: Record<string, number>;
  /** Flows per recognised application protocol and transactions: {http_flows, http_transactions}. */
  app_layer: Record<string, number>;
  stream_events: Record<string, number>;
  flow_stats: Record<string, number>;
  workers: number;
  truncated_by_max_packets: boolean;
  /** Rules loaded and skipped (0/0 with --no-detect). */
  rules: { loaded: number; skipped: number };
  /** The file store (file-store.enabled): its directory and what was stored or skipped. */
  file_store?: FileStoreCounters & { dir: string };
  /** Models that scored the flows (null: none), flows scored and model alerts folded by the limiter. */
  ml: {
    classifier: string | null;
    anomaly: string | null;
    flows_scored: number;
    alerts_limited: number;
    /** Shadow mode (ml.shadow.model): the candidate's flows, would-be alerts and agreement. */
    shadow?: {
      model: string | null;
      flows_scored: number;
      would_alert: number;
      agree: number;
      agreement: number;
      disagreements: Record<string, number>;
    };
    /** Rules with ml.* keywords / second opinion: alerts held for a verdict and what became of them. */
    rule_alerts?: { deferred: number; raised: number; dropped: number; lowered: number };
  };
}

function mlSummary(
  models: { classifier: string | null; anomaly: string | null },
  shadowName: string | null,
  m: Record<string, number>,
): AnalyzeSummary['ml'] {
  const out: AnalyzeSummary['ml'] = {
    ...models,
    flows_scored: m['flows_scored'] ?? 0,
    alerts_limited: m['alerts_limited'] ?? 0,
  };
  const shadow = shadowSummary(m);
  if (shadow !== null) out.shadow = { model: shadowName, ...shadow, agreement: round(shadow.agreement, 4) };
  const rules = ruleAlertSummary(m);
  if (rules !== null) out.rule_alerts = rules;
  return out;
}

function positiveInt(name: string, v: string | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) throw usageError(`${name} expects an integer >= ${min}, got "${v}"`);
  return Number(v);
}

export async function analyzeCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        eve: { type: 'string' },
        workers: { type: 'string' },
        'max-packets': { type: 'string' },
        'no-detect': { type: 'boolean' },
        rules: { type: 'string', multiple: true },
        'no-builtin-rules': { type: 'boolean' },
        indicators: { type: 'string', multiple: true },
        'no-ml': { type: 'boolean' },
        k: { type: 'string', short: 'k' },
        set: { type: 'string', multiple: true },
        config: { type: 'string', short: 'c' },
        'sensor-name': { type: 'string' },
        runmode: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw usageError(`${(e as Error).message}\n${ANALYZE_USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(ANALYZE_USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) throw usageError(`expected exactly one capture file\n${ANALYZE_USAGE}`);
  const file = parsed.positionals[0]!;
  const warn = (m: string): void => void process.stderr.write(`vigil: warning: ${m}\n`);
  if (v.runmode !== undefined) warn('--runmode is ignored (Vigil chooses its own threading; see --workers)');
  const workers = positiveInt('--workers', v.workers, Math.max(1, os.availableParallelism()), 1);
  const maxPackets = positiveInt('--max-packets', v['max-packets'], 0, 0);
  const cfg = engineConfigFrom({ k: v.k, set: v.set, config: v.config }, warn);
  if (v['sensor-name'] !== undefined) cfg.sensorName = v['sensor-name'];
  // --no-detect: the packet engine alone (read, decode, flows, features).
  if (v['no-detect']) cfg.appLayer = false;
  cfg.detect.ruleFiles = v.rules ?? [];
  if (v['no-builtin-rules']) cfg.detect.builtinRules = false;
  if (v['no-ml']) cfg.ml.enabled = false;
  if (v.indicators !== undefined) cfg.indicators.lists = [...cfg.indicators.lists, ...v.indicators];
  // Read the lists here once, so an unreadable file stops the run with its reason before workers start.
  if (cfg.appLayer) {
    for (const spec of cfg.indicators.lists) {
      let list;
      try {
        list = loadIndicatorList(spec);
      } catch (e) {
        if (e instanceof IndicatorError) throw new CliError('VIGIL_CLI_INPUT', e.message, 1);
        throw e;
      }
      if (list.rejectedCount > 0)
        warn(
          `${list.file}: ${list.rejectedCount} lines are not an IP, CIDR, domain, URL, JA3/JA4 or hash (first at line ${list.rejected[0]!.line}: "${list.rejected[0]!.text}")`,
        );
      if (list.entries === 0) warn(`${list.file}: no indicators loaded`);
    }
  }
  // Load the models here once too: a corrupt or foreign model stops the run with its reason.
  let models: { classifier: string | null; anomaly: string | null } = { classifier: null, anomaly: null };
  let shadowName: string | null = null;
  if (cfg.appLayer && cfg.ml.enabled) {
    try {
      const setup = loadModelSetup(cfg.ml);
      for (const w of setup?.warnings ?? []) warn(w);
      if (setup !== null) {
        new ModelStage(setup.options, () => undefined); // checks the features against the flow engine's
        const name = (lm: typeof setup.options.classifier): string | null => (lm === null ? null : lm.file.type);
        models = { classifier: name(setup.options.classifier), anomaly: name(setup.options.anomaly) };
        shadowName = name(setup.options.shadow ?? null);
      }
    } catch (e) {
      if (e instanceof ModelError) throw new CliError('VIGIL_CLI_INPUT', e.message, 1);
      throw e;
    }
  }
  // One worker: the ruleset is loaded here and handed to the inline engine. Several: each worker
  // loads it (they cannot share compiled rules), so this thread only checks that the files can be
  // read, and reports worker 0's load — compiling it here too cost ~2-3 CPU-s and ~400 MB with ET
  // Open for nothing (docs/performance.md, session 15).
  let rules: LoadedRules | undefined;
  let ruleReport: RuleLoadReport | null = null;
  if (cfg.appLayer && (cfg.detect.ruleFiles.length > 0 || cfg.detect.builtinRules)) {
    try {
      if (workers === 1) {
        rules = loadDetectRules(detectSpec(cfg));
        ruleReport = ruleLoadReport(rules);
        reportRuleLoad(ruleReport, warn);
      } else checkDetectFiles(detectSpec(cfg));
    } catch (e) {
      if (e instanceof RuleFileError) throw new CliError('VIGIL_CLI_INPUT', e.message, 1);
      throw e;
    }
  }

  let reader;
  try {
    reader = openCaptureFile(file);
  } catch (e) {
    if (e instanceof CaptureError) throw new CliError('VIGIL_CLI_INPUT', e.message, 1);
    throw e;
  }
  let eve: EveWriter | null = null;
  if (v.eve !== undefined) {
    try {
      eve = new EveWriter(v.eve);
    } catch (e) {
      reader.close();
      throw new CliError('VIGIL_CLI_INPUT', `cannot write EVE file ${v.eve}: ${(e as Error).message}`, 1);
    }
  }
  // The file store: a relative dir lives beside the EVE file (Suricata's log dir), else in the cwd.
  let fileStore: FileStoreSpec | undefined;
  if (cfg.fileStore.enabled && cfg.appLayer) {
    const base = v.eve !== undefined ? path.dirname(path.resolve(v.eve)) : process.cwd();
    try {
      fileStore = prepareFileStore(path.resolve(base, cfg.fileStore.dir), cfg.fileStore.force, cfg.fileStore.maxSize);
    } catch (e) {
      eve?.close();
      reader.close();
      if (e instanceof FileStoreError) throw new CliError('VIGIL_CLI_INPUT', e.message, 1);
      throw e;
    }
  }
  const host = cfg.sensorName;
  // Community IDs are only output in EVE records; skip their SHA-1 per flow otherwise.
  cfg.flow.communityId = eve !== null;
  const sinkOptions: AnalyzeSinkOptions = {
    eve: eve !== null,
    host,
    ipv6Compress: cfg.eve.ipv6Compress,
    dedupWindow: cfg.alerts.dedupWindow,
    alert: {
      packet: cfg.eve.alertPacket,
      payload: cfg.eve.alertPayload,
      payloadPrintable: cfg.eve.alertPayloadPrintable,
      verdict: cfg.eve.alertVerdict,
      ethernet: cfg.eve.ethernet,
    },
    ...(fileStore !== undefined ? { fileStore } : {}),
  };
  const progress = Progress.forFile(reader.size);
  let result;
  try {
    result = await runCapture(reader, {
      cfg,
      rules,
      workers,
      maxPackets,
      sink: { module: new URL('../output/analyze-sink.js', import.meta.url).href, options: sinkOptions },
      onDrain: (lines) => eve?.writeLines(lines as string),
      onProgress: progress ? (pos) => progress.update(pos) : undefined,
      onRules: (report) => {
        ruleReport = report;
        reportRuleLoad(report, warn);
      },
      file,
    });
  } finally {
    progress?.stop();
    reader.close();
  }
  const c = result.counters;
  const talkers = new TalkerTable();
  let flows = 0;
  let alerts = 0;
  let alertsDeduplicated = 0;
  const alertsByType: Record<string, number> = {};
  const storeCounters: FileStoreCounters[] = [];
  for (const r of result.sinkResults as AnalyzeSinkResult[]) {
    if (r.fileStore !== undefined) storeCounters.push(r.fileStore);
    flows += r.flows;
    alerts += r.alerts;
    alertsDeduplicated += r.alertsDeduplicated;
    for (const [k, n] of Object.entries(r.alertsByType)) alertsByType[k] = (alertsByType[k] ?? 0) + n;
    talkers.merge(r.talkers);
  }
  const protocols = protocolCounts(c);
  const errors = result.readError ? [{ offset: result.readError.offset, reason: result.readError.reason }] : [];
  if (eve) {
    eve.write(statsEvent(c, protocols, host, result.wallSeconds, errors.length));
    eve.close();
  }
  for (const e of errors) warn(`${file}: ${e.reason} at offset ${e.offset}; analysed the packets before it`);
  const summary: AnalyzeSummary = {
    packets: c.packets,
    bytes: c.bytes,
    flows,
    alerts,
    alerts_by_type: alertsByType,
    alerts_deduplicated: alertsDeduplicated,
    duration_s: round(result.wallSeconds, 6),
    packets_per_s: result.wallSeconds > 0 ? Math.round(c.packets / result.wallSeconds) : 0,
    errors,
    file,
    format: reader.format,
    capture_span_s: c.firstTsUs >= 0 ? round((c.lastTsUs - c.firstTsUs) / 1e6, 6) : 0,
    protocols,
    top_talkers: talkers.top(10),
    decoder_events: c.decoderEvents,
    app_layer: c.appLayer,
    stream_events: c.streamEvents,
    flow_stats: c.flow,
    workers,
    truncated_by_max_packets: result.truncatedByLimit,
    rules: { loaded: ruleReport?.loaded ?? 0, skipped: ruleReport?.skipped.length ?? 0 },
    ml: mlSummary(models, shadowName, c.ml),
  };
  if (fileStore !== undefined) {
    const fsc = mergeFileStoreCounters(storeCounters);
    summary.file_store = { dir: fileStore.dir, ...fsc };
    if (fsc.skipped_truncated > 0)
      warn(
        `file-store: ${fsc.skipped_truncated} files were truncated and not stored; HTTP bodies are kept up to ` +
          `response-body-limit (${cfg.http.responseBodyLimit} B) and request-body-limit (${cfg.http.requestBodyLimit} B): ` +
          `raise app-layer.protocols.http.libhtp.default-config.response-body-limit / request-body-limit to store larger files`,
      );
    if (fsc.skipped_max_size > 0)
      warn(`file-store: ${fsc.skipped_max_size} files not stored: ${fileStore.dir} reached max-size`);
    if (fsc.errors > 0) warn(`file-store: ${fsc.errors} files could not be written to ${fileStore.dir}`);
  }
  if (v.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else process.stdout.write(humanSummary(summary));
  return 0;
}

/** Rule load problems, as Suricata reports them: one warning per skipped rule (bounded). */
function reportRuleLoad(rules: RuleLoadReport, warn: (m: string) => void): void {
  const MAX = 20;
  for (const s of rules.skipped.slice(0, MAX)) warn(`${s.file}:${s.line}: rule skipped: ${s.reason}`);
  if (rules.skipped.length > MAX)
    warn(`... and ${rules.skipped.length - MAX} more skipped rules (vigil rules check FILE lists them all)`);
  for (const t of rules.thresholdErrors) warn(`threshold file: ${t}`);
  for (const t of rules.reputationErrors) warn(`IP reputation: ${t}`);
  if (rules.loaded === 0) warn('no rules loaded: signature detection is off');
}

function round(x: number, digits: number): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}

function humanSummary(s: AnalyzeSummary): string {
  const lines = [
    `${s.file} (${s.format}): ${s.packets} packets, ${s.bytes} bytes, ${s.flows} flows, ${s.alerts} alerts in ${s.duration_s.toFixed(3)} s (${s.packets_per_s} packets/s)`,
    `protocols: ${Object.entries(s.protocols)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  ];
  if (s.top_talkers.length > 0) {
    lines.push(
      `top talkers: ${s.top_talkers
        .slice(0, 5)
        .map((t) => `${t.ip} (${t.bytes} B)`)
        .join(', ')}`,
    );
  }
  const ev = Object.entries(s.decoder_events);
  if (ev.length > 0) lines.push(`decoder events: ${ev.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  const f = s.file_store;
  if (f !== undefined)
    lines.push(
      `file store ${f.dir}: ${f.stored} stored, ${f.duplicates} already there, ${f.skipped_truncated} truncated, ${f.skipped_max_size} over max-size`,
    );
  for (const e of s.errors) lines.push(`error: ${e.reason} at offset ${e.offset}`);
  return lines.join('\n') + '\n';
}
