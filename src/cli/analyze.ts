/** `vigil analyze FILE`: offline analysis of a pcap/pcapng capture (DESIGN.md, command line). */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { openCaptureFile } from '../capture/open.js';
import { CaptureError } from '../capture/errors.js';
import { runCapture } from '../pipeline/runner.js';
import { protocolCounts } from '../pipeline/engine.js';
import { EveWriter, statsEvent } from '../output/eve.js';
import { TalkerTable } from '../output/talkers.js';
import type { AnalyzeSinkOptions, AnalyzeSinkResult } from '../output/analyze-sink.js';
import { CliError, usageError } from './errors.js';
import { engineConfigFrom } from './options.js';
import { Progress } from './progress.js';

export const ANALYZE_USAGE = `usage: vigil analyze FILE [options]

Analyse a pcap or pcapng capture offline.

  --json                 print a JSON summary object to stdout
  --eve FILE             write Suricata-style EVE JSON lines (flow, http, dns, tls, ssh, ftp and a final stats event)
  --workers N            pipeline worker threads (default: number of cores)
  --max-packets N        stop after N packets (default: no limit)
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
  const host = cfg.sensorName;
  // Community IDs are only output in EVE records; skip their SHA-1 per flow otherwise.
  cfg.flow.communityId = eve !== null;
  const sinkOptions: AnalyzeSinkOptions = { eve: eve !== null, host };
  const progress = Progress.forFile(reader.size);
  let result;
  try {
    result = await runCapture(reader, {
      cfg,
      workers,
      maxPackets,
      sink: { module: new URL('../output/analyze-sink.js', import.meta.url).href, options: sinkOptions },
      onDrain: (lines) => eve?.writeLines(lines as string),
      onProgress: progress ? (pos) => progress.update(pos) : undefined,
    });
  } finally {
    progress?.stop();
    reader.close();
  }
  const c = result.counters;
  const talkers = new TalkerTable();
  let flows = 0;
  for (const r of result.sinkResults as AnalyzeSinkResult[]) {
    flows += r.flows;
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
    alerts: 0,
    alerts_by_type: {},
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
  };
  if (v.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else process.stdout.write(humanSummary(summary));
  return 0;
}

function round(x: number, digits: number): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}

function humanSummary(s: AnalyzeSummary): string {
  const lines = [
    `${s.file} (${s.format}): ${s.packets} packets, ${s.bytes} bytes, ${s.flows} flows in ${s.duration_s.toFixed(3)} s (${s.packets_per_s} packets/s)`,
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
  for (const e of s.errors) lines.push(`error: ${e.reason} at offset ${e.offset}`);
  return lines.join('\n') + '\n';
}
