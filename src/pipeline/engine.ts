/**
 * One shard of the packet pipeline: decode -> flow table (+ features) -> TCP reassembly ->
 * application-layer parsers. Owns its state; the runner feeds it batches, inline (one worker) or
 * inside a worker thread (several). Results leave through the Sink.
 */
import type { PacketBatch } from '../capture/batch.js';
import { DecodedBatch, LAYER_NAMES, TCP_FLAG } from '../decode/batch.js';
import { Decoder } from '../decode/decode.js';
import { FlowTable } from '../flow/table.js';
import type { FlowRecord } from '../flow/table.js';
import { StreamReassembler } from '../stream/reassembly.js';
import { AppLayer } from '../applayer/app-layer.js';
import { Detector } from '../detect/engine/detector.js';
import { loadDetectRules } from '../detect/engine/load.js';
import { ruleLoadReport } from '../detect/engine/load.js';
import type { DetectSpec, LoadedRules, RuleLoadReport } from '../detect/engine/load.js';
import { BehaviorEngine } from '../detect/behavior/engine.js';
import type { AlertRecord } from '../detect/engine/detector.js';
import { AlertGate } from '../alerts/gate.js';
import { IndicatorMatcher } from '../detect/indicators/matcher.js';
import { loadIndicatorList } from '../detect/indicators/lists.js';
import { ModelStage } from '../detect/classify/stage.js';
import type { VerdictSink } from '../detect/classify/stage.js';
import type { MlCheck } from '../detect/engine/compile.js';
import { mlCompare } from '../detect/signatures/keywords/ml.js';
import { loadModelSetup } from '../detect/classify/setup.js';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { midstreamPolicy, tunnelPorts } from './config.js';
import type { EngineConfig } from './config.js';
import type { FlowSink } from './sink.js';

/** Counters a shard reports; merged across shards by summing. */
export interface EngineCounters {
  packets: number;
  bytes: number;
  /** Per LAYER bit index (0..31): packets carrying that protocol. */
  layerCounts: number[];
  decoderEvents: Record<string, number>;
  /** Stream reassembly events (stream.*), empty when the app layer is off. */
  streamEvents: Record<string, number>;
  /** Application layer: flows per recognised protocol and messages (http_flows, http_transactions, dns_*). */
  appLayer: Record<string, number>;
  flow: Record<string, number>;
  /** Model stage: flows scored, alerts folded by its limiter (empty when ML is off). */
  ml: Record<string, number>;
  firstTsUs: number;
  lastTsUs: number;
}

export class PacketEngine {
  readonly decoder: Decoder;
  readonly flows: FlowTable;
  private readonly stream: StreamReassembler | null = null;
  private readonly app: AppLayer | null = null;
  private detector: Detector | null = null;
  private cfg: EngineConfig;
  /** Gate + sink: where every alert goes. */
  private readonly deliver: (a: AlertRecord) => void;
  private readonly behavior: BehaviorEngine | null = null;
  private readonly indicators: IndicatorMatcher | null = null;
  /** Classifier and anomaly detector on finished flows (null: ML off or no model). */
  private ml: ModelStage | null = null;
  /** Model stages replaced in place whose asynchronous scoring may still be in flight. */
  private readonly retiredMl: ModelStage[] = [];
  /** Counts of replaced model stages, so the totals never go back. */
  private readonly mlRetired = { scored: 0, limited: 0 };
  /** Whitelist and taxonomy for every alert before the sink. */
  private readonly gate: AlertGate;
  /** 1-based capture number of the packet being processed (exact with one worker). */
  private pcapCnt = 0;
  /** The flow flowEnded is ending, and whether an alert was raised on it meanwhile. */
  private endingSlot = -1;
  private endingAlerted = false;
  /**
   * Rules with ml.* keywords (`gid:sid` -> conditions) and, with ml.second-opinion, every signature
   * rule: their alerts wait in `deferred` (by flow id) for the flow's model verdict.
   */
  private mlRules: Map<string, MlCheck> | null = null;
  private secondOpinionAll = false;
  private secondOpinionConfidence = 0.9;
  private readonly deferred = new Map<number, { a: AlertRecord; c: MlCheck }[]>();
  /** Deferred rule alerts: raised after the verdict, dropped (conditions false, no verdict), lowered. */
  private readonly mlRuleCounts = { deferred: 0, raised: 0, dropped: 0, lowered: 0 };
  private readonly dec: DecodedBatch;
  private readonly layerCounts = new Float64Array(32);
  private readonly sinkRef: FlowSink;
  /** A midstream pick-up exception policy (pass-flow, bypass) stops inspecting such flows. */
  private readonly midstreamPass: boolean;
  /** Per flow slot: 0 no session start seen yet, 1 inspected, 2 not inspected (exception policy). */
  private readonly flowInspect: Uint8Array;
  packets = 0;
  bytes = 0;
  firstTsUs = -1;
  lastTsUs = -1;

  /**
   * `rules`: an already loaded ruleset (the reading thread's, with one worker); without it the
   * engine loads the configured rule files itself. `shards`: pipeline shards in the run (behaviour
   * detectors scale cross-pair thresholds by it).
   */
  constructor(cfg: EngineConfig, sink: FlowSink, batchCapacity: number, workerId = 0, rules?: LoadedRules, shards = 1) {
    this.decoder = new Decoder({
      checksumValidation: cfg.checksumValidation,
      defragMaxTrackers: cfg.defrag.maxTrackers,
      defragMaxBytes: cfg.defrag.maxBytes,
      defragTimeoutUs: cfg.defrag.timeout * 1e6,
      vxlanPorts: tunnelPorts(cfg.decoder.vxlan, cfg.vars),
      genevePorts: tunnelPorts(cfg.decoder.geneve, cfg.vars),
    });
    const t = cfg.flow.timeouts;
    this.flows = new FlowTable(
      {
        maxFlows: cfg.flow.maxFlows,
        workerId,
        communityId: cfg.flow.communityId,
        midstream: cfg.stream.midstream,
        timeouts: {
          tcp: t.tcp,
          udp: t.udp,
          icmp: t.icmp,
          default: t.default,
          active: cfg.flow.activeTimeout,
        },
      },
      (rec) => this.flowEnded(rec),
    );
    this.sinkRef = sink;
    this.gate = new AlertGate(cfg.alerts.whitelist);
    const onAlert = (a: AlertRecord): void => {
      if (this.gate.pass(a) !== null) sink.alert(a);
    };
    this.dec = new DecodedBatch(batchCapacity);
    this.midstreamPass = midstreamPolicy(cfg) !== 'ignore';
    this.flowInspect = new Uint8Array(this.midstreamPass ? this.flows.slotCapacity : 0);
    if (cfg.appLayer) {
      const slots = this.flows.slotCapacity;
      const app = new AppLayer(
        slots,
        this.flows,
        (rec) => {
          if (this.detector !== null) this.detector.tx(rec, this.pcapCnt);
          if (this.behavior !== null) this.behavior.app(rec);
          if (this.indicators !== null) this.indicators.app(rec);
          sink.app(rec);
        },
        () => this.stream?.tsUs ?? 0,
        {
          requestBodyLimit: cfg.http.requestBodyLimit,
          responseBodyLimit: cfg.http.responseBodyLimit,
          decompressLayerLimit: cfg.http.decompressLayerLimit,
          tlsNoPayload: cfg.tls.encryptionHandling !== 'full',
          // The request side of an HTTP transaction is inspected once the request is complete.
          onHttpRequest: (rec) => this.detector?.txRequest(rec, this.pcapCnt),
        },
      );
      this.app = app;
      this.stream = new StreamReassembler(
        {
          maxFlows: slots,
          depth: cfg.stream.reassemblyDepth,
          memcap: cfg.stream.memcap,
          midstream: cfg.stream.midstream,
        },
        app.onData,
      );
    }
    // Behaviour detection needs the app layer (login failures, DNS names); --no-detect turns both off.
    if (cfg.appLayer && cfg.behavior.enabled) {
      const b = new BehaviorEngine(cfg.behavior, shards, cfg.vars.addressGroups, onAlert);
      if (b.size > 0) this.behavior = b;
    }
    if (cfg.appLayer && cfg.indicators.lists.length > 0) {
      const lists = cfg.indicators.lists.map((spec) => loadIndicatorList(spec));
      this.indicators = new IndicatorMatcher(lists, this.flows.slotCapacity, onAlert);
    }
    // The models score flow features; like every detector they are off with --no-detect.
    if (cfg.appLayer && cfg.ml.enabled) this.ml = modelStage(cfg, onAlert);
    this.cfg = cfg;
    this.deliver = onAlert;
    this.secondOpinionAll = cfg.ml.enabled && cfg.ml.secondOpinion;
    this.secondOpinionConfidence = cfg.ml.secondOpinionConfidence;
    if (cfg.appLayer && (cfg.detect.ruleFiles.length > 0 || cfg.detect.builtinRules)) {
      const loaded = rules ?? loadDetectRules(detectSpec(cfg));
      this.ruleLoad = ruleLoadReport(loaded);
      this.installRules(loaded);
    }
  }

  /** What loading the ruleset at construction gave (counts and problems); null without rules. */
  readonly ruleLoad: RuleLoadReport | null = null;

  /**
   * Replace the ruleset (rule reload): a new detector over `loaded`, used from the next packet on.
   * Call between batches. Per-flow rule state (flowbits, flowints, thresholds) starts afresh, as
   * after a Suricata reload; flows, streams and parsers carry on. Needs the app layer (no-op without).
   */
  swapRules(loaded: LoadedRules): void {
    if (!this.cfg.appLayer) return;
    this.installRules(loaded);
  }

  /**
   * Take a new configuration without ending flows when it differs from the current one only in
   * its rules (`detect`) and models (`ml`): the rule reload and model activation of a live sensor.
   * Returns false (nothing changed) when anything else differs; throws, leaving the engine as it
   * was, when the new rules or models do not load. `rules`: an already compiled ruleset.
   */
  reconfigureInPlace(next: EngineConfig, rules?: LoadedRules): boolean {
    const strip = (c: EngineConfig): string => JSON.stringify({ ...c, detect: null, ml: null });
    if (!this.cfg.appLayer || strip(next) !== strip(this.cfg)) return false;
    // Load everything first: a failure leaves the running detector and models in place.
    const stage = next.ml.enabled ? modelStage(next, this.deliver) : null;
    const loaded =
      next.detect.ruleFiles.length > 0 || next.detect.builtinRules
        ? (rules ?? loadDetectRules(detectSpec(next)))
        : { rules: [], skipped: [], classifications: {}, thresholdErrors: [], reputationErrors: [] };
    const old = this.ml;
    if (old !== null) {
      // Flows already ended are scored by the model they ended under.
      old.flush();
      this.mlRetired.scored += old.scored;
      this.mlRetired.limited += old.limited;
      if (old.pendingAsync) this.retiredMl.push(old);
    }
    this.ml = stage;
    this.cfg = next;
    this.secondOpinionAll = next.ml.enabled && next.ml.secondOpinion;
    this.secondOpinionConfidence = next.ml.secondOpinionConfidence;
    this.installRules(loaded);
    // Alerts waiting for a verdict the new stage will not give (flows scored by the old one are
    // already settled; the rest wait for their flow's end as before, unless no model is left).
    if (this.ml === null) this.resolveAllDeferred();
    return true;
  }

  private installRules(loaded: LoadedRules): void {
    const cfg = this.cfg;
    const onAlert = this.deliver;
    const withMl = loaded.rules.filter((r) => r.ml !== null);
    this.mlRules = withMl.length > 0 ? new Map(withMl.map((r) => [`${r.gid}:${r.sid}`, r.ml!])) : null;
    if (this.ml !== null)
      this.ml.setVerdictSink(this.mlRules !== null || this.secondOpinionAll ? this.verdictSink() : null);
    if (loaded.rules.length === 0) {
      this.detector = null;
      return;
    }
    const flows = this.flows;
    const app = this.app;
    // Per-direction protocols and detection completion (app-layer-protocol modes, PD-only rules).
    const appDir = {
      appProtoDirOf: (slot: number, dir: number): string => (app === null ? '' : app.protoDirOf(slot, dir)),
      detectDoneOf: (slot: number): number => (app === null ? 0 : app.detectDoneNow(slot)),
    };
    this.detector = new Detector(loaded.rules, {
      ...appDir,
      appProtoOf: (slot) => (app === null ? '' : app.protoOf(slot)),
      flowIdOf: (slot) => flows.flowIdOf(slot),
      countersOf: (slot) => flows.countersOf(slot),
      slotCapacity: flows.slotCapacity,
      markAlerted: (slot) => {
        flows.markAlerted(slot);
        if (slot === this.endingSlot) this.endingAlerted = true;
      },
      onAlert: this.mlRules !== null || this.secondOpinionAll ? (a) => this.ruleAlert(a, onAlert) : onAlert,
      packetAlertMax: cfg.detect.packetAlertMax,
      exhaustive: cfg.detect.exhaustive,
      ...(app !== null ? { noPayload: app.noPayload } : {}),
      capture: {
        packet: cfg.eve.alertPacket || cfg.eve.ethernet,
        payload: cfg.eve.alertPayload || cfg.eve.alertPayloadPrintable,
      },
    });
  }

  /**
   * Decode and track one batch. `numbers`: the capture-wide packet number (1-based) of each of its
   * packets when the batch holds only a shard of the capture (a worker reading the file itself),
   * so that alerts carry Suricata's `pcap_cnt`; without it packets are numbered in arrival order.
   */
  process(pkts: PacketBatch, numbers: Float64Array | null = null): void {
    const n = pkts.count;
    if (n === 0) return;
    // A larger batch would be decoded only in part, silently: refuse it (callers size batches to
    // the engine's capacity; the live sensor counts this as a batch error and carries on).
    if (n > this.dec.capacity)
      throw new Error(`a batch of ${n} packets exceeds the engine's batch capacity (${this.dec.capacity})`);
    this.decoder.decode(pkts, this.dec);
    this.flows.process(pkts, this.dec);
    if (this.behavior !== null) this.behavior.packets(pkts, this.dec);
    if (this.indicators !== null) this.indicators.packets(pkts, this.dec);
    const det = this.detector;
    if (det !== null || this.midstreamPass) {
      // Stage by stage per packet, so rules see flow state (flowbits, parsed transactions) in
      // packet order, as Suricata does.
      const stream = this.stream;
      const app = this.app;
      const dec = this.dec;
      const base = this.packets;
      // Payload prefilter scans for the whole batch first (see Detector.prescan).
      if (det !== null) det.prescan(pkts, dec);
      for (let i = 0; i < n; i++) {
        this.pcapCnt = numbers === null ? base + i + 1 : numbers[i]!;
        if (this.midstreamPass && !this.inspected(dec, i)) continue;
        if (app !== null) app.beginPacket(dec.flowSlot[i]!, dec.flowDir[i]!);
        if (det !== null) det.setCurrent(pkts, dec, i);
        if (stream !== null) stream.processPacket(pkts, dec, i);
        if (app !== null) app.udpPacket(pkts, dec, i);
        if (det !== null) det.packet(pkts, dec, i, this.pcapCnt);
      }
      if (det !== null) det.setCurrent(null, null, 0);
    } else {
      if (this.stream !== null) this.stream.process(pkts, this.dec);
      if (this.app !== null) this.app.udp(pkts, this.dec);
    }
    const layers = this.dec.layers;
    const counts = this.layerCounts;
    const origLen = pkts.origLen;
    let bytes = 0;
    // Per-protocol packet counts by runs of equal layer sets (consecutive packets mostly share
    // one, e.g. ethernet+ipv4+tcp): the bit loop runs once per run, not per packet (cpu-prof,
    // docs/performance.md).
    let run = 0;
    let prev = 0;
    for (let i = 0; i < n; i++) {
      bytes += origLen[i]!;
      const bits = layers[i]!;
      if (bits === prev) {
        run++;
        continue;
      }
      if (run > 0) addLayerCounts(counts, prev, run);
      prev = bits;
      run = 1;
    }
    if (run > 0) addLayerCounts(counts, prev, run);
    // Flows that ended in this batch are scored now (bounded latency), in one call per model.
    if (this.ml !== null) this.ml.flush();
    if (this.firstTsUs < 0) this.firstTsUs = pkts.tsUs[0]!;
    this.lastTsUs = pkts.tsUs[n - 1]!;
    this.packets += n;
    this.bytes += bytes;
  }

  /**
   * Whether packet i's flow is inspected under the midstream exception policy: a TCP session whose
   * first packet is a SYN-ACK or an ACK was picked up midstream (Suricata applies the policy there,
   * whether or not stream.midstream allows the pick-up) and is not inspected at all.
   */
  private inspected(dec: DecodedBatch, i: number): boolean {
    const slot = dec.flowSlot[i]!;
    if (slot < 0 || dec.proto[i] !== 6) return true;
    let s = this.flowInspect[slot]!;
    if (s === 0) {
      const fl = dec.tcpFlags[i]!;
      // A RST or a packet without SYN and ACK starts no session; the next packet decides.
      if ((fl & TCP_FLAG.RST) !== 0 || (fl & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === 0) return true;
      s = (fl & TCP_FLAG.ACK) !== 0 ? 2 : 1;
      this.flowInspect[slot] = s;
    }
    return s === 1;
  }

  /** A flow ended: flush its stream and parser state (emitting what they hold), then the flow. */
  private flowEnded(rec: FlowRecord): void {
    // Transactions flushed below may still alert, after `rec.alerted` was read: catch that.
    this.endingSlot = rec.slot;
    this.endingAlerted = false;
    if (this.stream !== null && this.app !== null) {
      this.stream.release(rec.slot);
      const proto = this.app.release(rec.slot, rec.endUs);
      if (proto !== undefined) rec.appProto = proto;
    }
    if (this.detector !== null) this.detector.release(rec.slot);
    this.endingSlot = -1;
    if (this.endingAlerted) rec.alerted = true;
    if (this.behavior !== null) this.behavior.flowEnd(rec);
    if (this.indicators !== null) this.indicators.flowEnd(rec);
    if (this.ml !== null) this.ml.flowEnd(rec);
    // No verdict will come for a flow the models do not score: settle its waiting alerts now.
    if (this.deferred.size > 0 && (this.ml === null || rec.features === null)) this.resolveDeferred(rec.flowId);
    if (this.midstreamPass && rec.slot < this.flowInspect.length) this.flowInspect[rec.slot] = 0;
    this.sinkRef.flow(rec);
  }

  /** End every flow (emitting its record). */
  finish(): void {
    this.flows.flush();
    if (this.behavior !== null) this.behavior.finish();
    if (this.ml !== null) this.ml.flush();
    if (this.ml === null || !this.ml.pendingAsync) this.resolveAllDeferred();
  }

  /** Wait for asynchronous model scoring (ONNX) still in flight; call after finish(). */
  async settle(): Promise<void> {
    if (this.ml !== null) await this.ml.settle();
    await Promise.all(this.retiredMl.splice(0).map((m) => m.settle()));
    this.resolveAllDeferred();
  }

  // ---- rules with model conditions (ml.* keywords, second opinion) ----------------------------

  private checkOf(a: AlertRecord): MlCheck | null {
    const c = this.mlRules?.get(`${a.gid}:${a.sid}`);
    if (c !== undefined) return c;
    return this.secondOpinionAll ? SECOND_OPINION : null;
  }

  /** A signature alert: straight on, or held for its flow's verdict when the rule asks the models. */
  private ruleAlert(a: AlertRecord, deliver: (a: AlertRecord) => void): void {
    const c = this.checkOf(a);
    if (c === null) return deliver(a);
    const conditional = c.cls !== null || c.confidence !== null || c.anomaly !== null;
    const ml = this.ml;
    // Conditions that can never be checked (no flow, or no model of the kind they read): the rule
    // cannot match; a plain second opinion without a classifier leaves the alert as it is.
    const checkable =
      a.flowId !== 0 &&
      ml !== null &&
      (c.cls === null || ml.hasClassifier) &&
      (c.confidence === null || ml.hasClassifier) &&
      (c.anomaly === null || ml.hasAnomaly) &&
      (conditional || ml.hasClassifier);
    if (!checkable) {
      if (conditional) this.mlRuleCounts.dropped++;
      else deliver(a);
      return;
    }
    let list = this.deferred.get(a.flowId);
    if (list === undefined) {
      list = [];
      this.deferred.set(a.flowId, list);
    }
    // Bounded per flow: a rule firing on every packet of a long flow must not grow memory.
    if (list.length >= DEFERRED_PER_FLOW_MAX) {
      if (conditional) this.mlRuleCounts.dropped++;
      else deliver(a);
      return;
    }
    // The check travels with the alert: a rule reload may drop its rule before the verdict.
    list.push({ a, c });
    this.mlRuleCounts.deferred++;
  }

  private verdictSink(): VerdictSink {
    return {
      wants: (flowId) => this.deferred.has(flowId),
      verdict: (flowId, cls, type, confidence, benign, anomalyScore) => {
        const list = this.deferred.get(flowId);
        if (list === undefined) return;
        this.deferred.delete(flowId);
        for (const d of list) this.settleAlert(d.a, d.c, { cls, type, confidence, benign, anomalyScore });
      },
    };
  }

  /** Alerts of a flow that gets no verdict: conditional ones are dropped, second opinions go out unchanged. */
  private resolveDeferred(flowId: number): void {
    const list = this.deferred.get(flowId);
    if (list === undefined) return;
    this.deferred.delete(flowId);
    for (const d of list) this.settleAlert(d.a, d.c, null);
  }

  private resolveAllDeferred(): void {
    for (const id of [...this.deferred.keys()]) this.resolveDeferred(id);
  }

  private settleAlert(a: AlertRecord, c: MlCheck, v: Verdict | null): void {
    if (v === null) {
      if (c.cls !== null || c.confidence !== null || c.anomaly !== null) this.mlRuleCounts.dropped++;
      else this.deliverRuleAlert(a, null, false);
      return;
    }
    if (c.cls !== null) {
      const name = v.cls?.toLowerCase() ?? null;
      const hit = name !== null && (c.cls.classes.includes(name) || c.cls.classes.includes(v.type ?? ''));
      // ml.class:!benign on a flow the classifier calls benign: `hit` covers the class name "benign"
      // and the type of a benign class ('benign' too when the model names it so).
      const benignHit = v.benign && c.cls.classes.includes('benign');
      if ((hit || benignHit) === c.cls.negated || name === null) return void this.mlRuleCounts.dropped++;
    }
    if (c.confidence !== null && !(Number.isFinite(v.confidence) && mlCompare(c.confidence, v.confidence)))
      return void this.mlRuleCounts.dropped++;
    if (c.anomaly !== null && !(Number.isFinite(v.anomalyScore) && mlCompare(c.anomaly, v.anomalyScore)))
      return void this.mlRuleCounts.dropped++;
    const lower = c.secondOpinion && v.benign && v.confidence >= this.secondOpinionConfidence;
    this.deliverRuleAlert(a, v, lower);
  }

  /** Through the alert gate, with the verdict in the metadata and the severity lowered if asked. */
  private deliverRuleAlert(a: AlertRecord, v: Verdict | null, lower: boolean): void {
    if (this.gate.pass(a) === null) return;
    this.mlRuleCounts.raised++;
    if (v !== null) {
      const meta = a.metadata.slice();
      if (v.cls !== null) meta.push(`ml_class ${v.cls}`, `ml_confidence ${v.confidence.toFixed(4)}`);
      if (Number.isFinite(v.anomalyScore)) meta.push(`ml_anomaly_score ${v.anomalyScore.toFixed(4)}`);
      if (lower && a.vigilSeverity !== undefined) {
        const from = a.vigilSeverity;
        const to = LOWER_SEVERITY[from] ?? from;
        if (to !== from) {
          this.mlRuleCounts.lowered++;
          a.vigilSeverity = to;
          const i = meta.indexOf(`vigil_severity ${from}`);
          if (i >= 0) meta[i] = `vigil_severity ${to}`;
          meta.push(`ml_severity_lowered_from ${from}`);
        }
      }
      a.metadata = meta;
    }
    this.sinkRef.alert(a);
  }

  private mlCounters(): Record<string, number> {
    const out: Record<string, number> = {};
    if (this.ml !== null || this.mlRetired.scored > 0) {
      out['flows_scored'] = this.mlRetired.scored + (this.ml?.scored ?? 0);
      out['alerts_limited'] = this.mlRetired.limited + (this.ml?.limited ?? 0);
    }
    if (this.ml !== null) {
      const sh = this.ml.shadow;
      if (sh !== null) {
        out['shadow_flows_scored'] = sh.flows;
        out['shadow_would_alert'] = sh.wouldAlert;
        out['shadow_agree'] = sh.agree;
        for (const [k, n] of Object.entries(sh.disagreements)) out[`shadow_disagree ${k}`] = n;
      }
    }
    if (this.mlRules !== null || this.secondOpinionAll) {
      const m = this.mlRuleCounts;
      out['rule_alerts_deferred'] = m.deferred;
      out['rule_alerts_raised'] = m.raised;
      out['rule_alerts_dropped'] = m.dropped;
      out['rule_alerts_lowered'] = m.lowered;
    }
    return out;
  }

  counters(): EngineCounters {
    return {
      packets: this.packets,
      bytes: this.bytes,
      layerCounts: Array.from(this.layerCounts),
      decoderEvents: this.decoder.eventCounts(),
      streamEvents: this.stream ? nonZero(this.stream.eventCounts()) : {},
      appLayer: this.app
        ? {
            http_flows: this.app.flowsByProto.http,
            http_transactions: this.app.transactions,
            dns_flows: this.app.flowsByProto.dns,
            dns_messages: this.app.dnsMessages,
            dns_errors: this.app.dnsErrors,
            tls_flows: this.app.flowsByProto.tls,
            ssh_flows: this.app.flowsByProto.ssh,
            ftp_flows: this.app.flowsByProto.ftp,
            smtp_flows: this.app.flowsByProto.smtp,
          }
        : {},
      flow: this.flows.stats(),
      ml: this.mlCounters(),
      firstTsUs: this.firstTsUs,
      lastTsUs: this.lastTsUs,
    };
  }
}

/** Add `times` packets to the count of every LAYER bit set in `bits`. */
function addLayerCounts(counts: Float64Array, bits: number, times: number): void {
  while (bits !== 0) {
    const low = bits & -bits;
    counts[31 - Math.clz32(low)]! += times;
    bits ^= low;
  }
}

/** The model stage of a configuration, or null when no model is configured. Throws ModelError. */
function modelStage(cfg: EngineConfig, onAlert: (a: AlertRecord) => void): ModelStage | null {
  const setup = loadModelSetup(cfg.ml);
  if (setup === null) return null;
  const stage = new ModelStage(setup.options, onAlert);
  return stage.active ? stage : null;
}

interface Verdict {
  cls: string | null;
  type: string | null;
  confidence: number;
  benign: boolean;
  anomalyScore: number;
}

/** ml.second-opinion for every signature rule: no condition, only the severity step. */
const SECOND_OPINION: MlCheck = { cls: null, confidence: null, anomaly: null, secondOpinion: true };
/** Alerts of one flow waiting for its verdict, at most. */
const DEFERRED_PER_FLOW_MAX = 64;
/** One step down; low stays low (the model lowers, it does not silence). */
const LOWER_SEVERITY: Readonly<Record<string, string>> = { critical: 'high', high: 'medium', medium: 'low' };

export interface ShadowSummary {
  flows_scored: number;
  would_alert: number;
  agree: number;
  /** agree / flows_scored (1 with no flow). */
  agreement: number;
  /** `active type -> shadow type` -> flows. */
  disagreements: Record<string, number>;
}

/** The shadow model's figures from (merged) `EngineCounters.ml`; null without a shadow model. */
export function shadowSummary(m: Readonly<Record<string, number>>): ShadowSummary | null {
  const flows = m['shadow_flows_scored'];
  if (flows === undefined) return null;
  const disagreements: Record<string, number> = {};
  for (const [k, n] of Object.entries(m)) if (k.startsWith('shadow_disagree ')) disagreements[k.slice(16)] = n;
  const agree = m['shadow_agree'] ?? 0;
  return {
    flows_scored: flows,
    would_alert: m['shadow_would_alert'] ?? 0,
    agree,
    agreement: flows > 0 ? agree / flows : 1,
    disagreements,
  };
}

/** Rules with ml.* keywords / second opinion, from `EngineCounters.ml`; null when none ran. */
export function ruleAlertSummary(
  m: Readonly<Record<string, number>>,
): { deferred: number; raised: number; dropped: number; lowered: number } | null {
  if (m['rule_alerts_deferred'] === undefined) return null;
  return {
    deferred: m['rule_alerts_deferred'],
    raised: m['rule_alerts_raised'] ?? 0,
    dropped: m['rule_alerts_dropped'] ?? 0,
    lowered: m['rule_alerts_lowered'] ?? 0,
  };
}

/** The rule-loading part of the engine configuration. */
export function detectSpec(cfg: EngineConfig): DetectSpec {
  const files = [...cfg.detect.ruleFiles];
  if (cfg.detect.builtinRules) files.unshift(BUILTIN_RULES);
  return {
    ruleFiles: files,
    vars: cfg.vars,
    classificationFile: cfg.detect.classificationFile,
    thresholdFile: cfg.detect.thresholdFile,
    reputation: {
      categoriesFile: cfg.detect.reputation.categoriesFile,
      files: cfg.detect.reputation.files.map((f) => path.resolve(cfg.detect.reputation.path, f)),
    },
  };
}

/** Vigil's built-in rules, shipped in the package's rules/ directory. */
export const BUILTIN_RULES = fileURLToPath(new URL('../../../rules/vigil.rules', import.meta.url));

function nonZero(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts)) if (v !== 0) out[k] = v;
  return out;
}

/** Sum shard counters. */
export function mergeCounters(all: readonly EngineCounters[]): EngineCounters {
  const out: EngineCounters = {
    packets: 0,
    bytes: 0,
    layerCounts: new Array<number>(32).fill(0),
    decoderEvents: {},
    streamEvents: {},
    appLayer: {},
    flow: {},
    ml: {},
    firstTsUs: -1,
    lastTsUs: -1,
  };
  for (const c of all) {
    out.packets += c.packets;
    out.bytes += c.bytes;
    for (let i = 0; i < 32; i++) out.layerCounts[i]! += c.layerCounts[i] ?? 0;
    for (const [k, v] of Object.entries(c.decoderEvents)) out.decoderEvents[k] = (out.decoderEvents[k] ?? 0) + v;
    for (const [k, v] of Object.entries(c.flow)) out.flow[k] = (out.flow[k] ?? 0) + v;
    for (const [k, v] of Object.entries(c.ml ?? {})) out.ml[k] = (out.ml[k] ?? 0) + v;
    for (const [k, v] of Object.entries(c.streamEvents)) out.streamEvents[k] = (out.streamEvents[k] ?? 0) + v;
    for (const [k, v] of Object.entries(c.appLayer)) out.appLayer[k] = (out.appLayer[k] ?? 0) + v;
    if (c.firstTsUs >= 0 && (out.firstTsUs < 0 || c.firstTsUs < out.firstTsUs)) out.firstTsUs = c.firstTsUs;
    if (c.lastTsUs > out.lastTsUs) out.lastTsUs = c.lastTsUs;
  }
  return out;
}

/** Protocol name -> packet count (non-zero only), from merged layer counts. */
export function protocolCounts(c: EngineCounters): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, bit] of LAYER_NAMES) {
    const n = c.layerCounts[31 - Math.clz32(bit)] ?? 0;
    if (n > 0) out[name] = n;
  }
  return out;
}
