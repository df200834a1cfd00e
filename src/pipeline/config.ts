import { applyBehaviorSetting, defaultBehaviorConfig } from '../detect/behavior/config.js';
import type { BehaviorConfig } from '../detect/behavior/config.js';
import { IpWhitelist, parseWhitelistList } from '../alerts/whitelist.js';
import type { MlConfig } from '../detect/classify/setup.js';
import { portMatcher } from '../detect/engine/compile.js';
import { parsePorts } from '../detect/signatures/ports.js';
import { withDefaultVars } from '../detect/signatures/vars.js';

/**
 * Engine configuration: defaults, Suricata-style dotted keys (`--set KEY=VALUE`, `-c suricata.yaml`)
 * and validation. Keys Vigil does not support are reported back to the caller as warnings, never
 * silently applied.
 */

export interface EngineConfig {
  /** Validate IP/TCP/UDP/ICMP checksums (`-k all`); off by default because NIC offloads leave invalid checksums in captures. */
  checksumValidation: boolean;
  /** Sensor name written to EVE `host`. */
  sensorName: string;
  flow: {
    maxFlows: number;
    /** Seconds, by protocol and state, like Suricata's `flow-timeouts`. */
    timeouts: Record<'default' | 'tcp' | 'udp' | 'icmp', { new: number; established: number; closed: number }>;
    /** A flow older than this (seconds) is ended and continued as a new flow; 0 = never. Default 1800 s. */
    activeTimeout: number;
    /** Compute Community IDs of finished flows (off only when no output uses them). */
    communityId: boolean;
  };
  defrag: { maxTrackers: number; maxBytes: number; timeout: number };
  /** UDP tunnels decapsulated (suricata.yaml `decoder.vxlan` / `decoder.geneve`): ports as a port expression. */
  decoder: { vxlan: TunnelDecoder; geneve: TunnelDecoder };
  /** Stored for the signature engine (issue 4): address and port groups. */
  vars: { addressGroups: Record<string, string>; portGroups: Record<string, string> };
  stream: {
    midstream: boolean;
    reassemblyDepth: number;
    memcap: number;
    /** stream.midstream-policy as written ('' = not set: the master switch or the default applies). */
    midstreamPolicy: string;
  };
  /** The `exception-policy` master switch ('' = not set). */
  exceptionPolicy: string;
  /** Run TCP reassembly and application-layer parsers (off with `--no-detect`: packet engine only). */
  appLayer: boolean;
  /** HTTP body bytes kept per transaction (Suricata's request-body-limit / response-body-limit). */
  http: { requestBodyLimit: number; responseBodyLimit: number; decompressLayerLimit: number };
  /**
   * `app-layer.protocols.tls.encryption-handling`, as Suricata: `default` and `bypass` stop payload
   * inspection (packet and stream content rules) of a TLS flow once its encrypted application data
   * starts, while `tls.*` keywords and rules without payload matches still apply; `full` inspects
   * everything. (Vigil's `bypass` does no more than `default`: the TLS parser stops at the
   * handshake anyway.)
   */
  tls: { encryptionHandling: 'default' | 'bypass' | 'full' };
  /** EVE output: IPv6 addresses compressed (`::`) or written in full like Suricata's default. */
  eve: {
    ipv6Compress: boolean;
    /** Alert records carry the packet (base64) and its link type, the payload, MAC addresses. */
    alertPacket: boolean;
    alertPayload: boolean;
    alertPayloadPrintable: boolean;
    /** Alert records carry `verdict` (suricata.yaml eve-log alert `verdict: yes`). */
    alertVerdict: boolean;
    ethernet: boolean;
  };
  /** Signature detection: rule files (empty and no built-in rules = no detector). */
  detect: {
    ruleFiles: string[];
    /** Load Vigil's built-in rules (rules/vigil.rules) before the user's. */
    builtinRules: boolean;
    /** classification.config; null = built-in table. */
    classificationFile: string | null;
    /** threshold.config; null = none. */
    thresholdFile: string | null;
    /** Alerts per packet at most (Suricata's packet-alert-max). */
    packetAlertMax: number;
    /** Testing aid: evaluate every rule, bypassing the prefilter (slow). */
    exhaustive: boolean;
    /** IP reputation for `iprep` rules: categories file and reputation files (relative to `path`). */
    reputation: { categoriesFile: string | null; files: string[]; path: string };
  };
  /** Behaviour detectors (src/detect/behavior): on/off and thresholds. */
  behavior: BehaviorConfig;
  alerts: {
    /** Addresses / CIDR blocks whose alerts are dropped (`WHITELIST_IPS`); empty by default. */
    whitelist: string[];
    /** Seconds within which repeated alerts fold into one stored alert (`ALERT_DEDUP_WINDOW`). */
    dedupWindow: number;
  };
  /** Indicator lists (`[malware:|policy:]PATH`), matched on flows, DNS, TLS, HTTP and files. */
  indicators: { lists: string[] };
  /** Model stage (src/detect/classify/stage.ts): classifier and anomaly detector on finished flows. */
  ml: MlConfig;
  /**
   * File store (Suricata's file-store v2 layout, src/output/filestore.ts): off by default. `dir`
   * relative = under the EVE file's directory (`vigil analyze --eve`), else the working directory.
   * `force`: every complete file, else only files of transactions a `filestore` rule matched.
   * `maxSize`: cap on the directory's content in bytes.
   */
  fileStore: { enabled: boolean; dir: string; force: boolean; maxSize: number };
}

/** Suricata's default flow timeouts (suricata.yaml `flow-timeouts`), in seconds. */
export function defaultConfig(): EngineConfig {
  return {
    checksumValidation: false,
    sensorName: 'vigil',
    flow: {
      maxFlows: 262144,
      timeouts: {
        default: { new: 30, established: 300, closed: 0 },
        tcp: { new: 60, established: 600, closed: 60 },
        udp: { new: 30, established: 300, closed: 0 },
        icmp: { new: 30, established: 300, closed: 0 },
      },
      activeTimeout: 1800,
      communityId: true,
    },
    defrag: { maxTrackers: 4096, maxBytes: 32 * 1024 * 1024, timeout: 60 },
    decoder: {
      vxlan: { enabled: true, ports: '$VXLAN_PORTS' },
      geneve: { enabled: true, ports: '$GENEVE_PORTS' },
    },
    vars: {
      addressGroups: {
        HOME_NET: '[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]',
        EXTERNAL_NET: '!$HOME_NET',
      },
      portGroups: { HTTP_PORTS: '80', SSH_PORTS: '22', FTP_PORTS: '21' },
    },
    stream: { midstream: false, reassemblyDepth: 1024 * 1024, memcap: 64 * 1024 * 1024, midstreamPolicy: '' },
    exceptionPolicy: '',
    appLayer: true,
    http: { requestBodyLimit: 4096, responseBodyLimit: 4096, decompressLayerLimit: 2 },
    tls: { encryptionHandling: 'default' },
    eve: {
      ipv6Compress: false,
      alertPacket: false,
      alertPayload: false,
      alertPayloadPrintable: false,
      alertVerdict: false,
      ethernet: false,
    },
    detect: {
      ruleFiles: [],
      builtinRules: true,
      classificationFile: null,
      thresholdFile: null,
      packetAlertMax: 15,
      exhaustive: false,
      reputation: { categoriesFile: null, files: [], path: '' },
    },
    behavior: defaultBehaviorConfig(),
    alerts: { whitelist: [], dedupWindow: 300 },
    indicators: { lists: [] },
    ml: {
      enabled: true,
      classifierModel: 'default',
      confidenceThreshold: 0.9,
      anomalyModel: 'none',
      anomalyThreshold: null,
      limitSeconds: 60,
      shadowModel: 'none',
      secondOpinion: false,
      secondOpinionConfidence: 0.9,
    },
    fileStore: { enabled: false, dir: 'filestore', force: false, maxSize: 1024 ** 3 },
  };
}

/** Environment variables of the original system that map onto engine keys (applied before -c and --set). */
export const ENV_SETTINGS: Readonly<Record<string, string>> = {
  WHITELIST_IPS: 'alerts.whitelist',
  ALERT_DEDUP_WINDOW: 'alerts.dedup-window',
  VIGIL_INDICATOR_LISTS: 'indicators.lists',
  CLASSIFICATION_ENABLED: 'ml.enabled',
  CLASSIFICATION_MODEL_PATH: 'ml.classifier.model',
  CLASSIFICATION_CONFIDENCE_THRESHOLD: 'ml.classifier.confidence-threshold',
  ANOMALY_MODEL_PATH: 'ml.anomaly.model',
  ANOMALY_SCORE_THRESHOLD: 'ml.anomaly.threshold',
  ML_SHADOW_MODEL_PATH: 'ml.shadow.model',
  ML_SECOND_OPINION: 'ml.second-opinion.enabled',
  ML_SECOND_OPINION_CONFIDENCE: 'ml.second-opinion.confidence',
  // The file store (off by default); `vigil serve` takes a relative dir under its data directory.
  VIGIL_FILE_STORE: 'file-store.enabled',
  VIGIL_FILE_STORE_DIR: 'file-store.dir',
  VIGIL_FILE_STORE_FORCE: 'file-store.force-filestore',
  VIGIL_FILE_STORE_MAX_SIZE: 'file-store.max-size',
};

/** Apply ENV_SETTINGS from `env`; returns warnings. Throws ConfigError on a bad value. */
export function applyEnv(cfg: EngineConfig, env: Readonly<Record<string, string | undefined>>): string[] {
  const warnings: string[] = [];
  for (const [name, key] of Object.entries(ENV_SETTINGS)) {
    const v = env[name];
    if (v === undefined) continue;
    try {
      const w = applySetting(cfg, key, v);
      if (w) warnings.push(w);
    } catch (e) {
      throw new ConfigError(`${name}: ${(e as Error).message}`);
    }
  }
  return warnings;
}

/** Suricata's exception policy values. */
export const EXCEPTION_POLICIES: readonly string[] = [
  'auto',
  'ignore',
  'pass-packet',
  'pass-flow',
  'bypass',
  'drop-packet',
  'drop-flow',
  'reject',
];

/**
 * The policy applied, in IDS mode, to a TCP session picked up midstream (Suricata's
 * ExceptionPolicyMidstreamParse): stream.midstream-policy, else the `exception-policy` master
 * switch, else ignore. IDS cannot drop, so the drop policies and `auto` mean ignore; `reject`
 * only marks packets there, which Vigil does not model. Returns 'ignore', 'pass-flow' or 'bypass'
 * (both stop all inspection of the flow: reassembly, app layer, detection).
 */
export function midstreamPolicy(cfg: EngineConfig): 'ignore' | 'pass-flow' | 'bypass' {
  const v = cfg.stream.midstreamPolicy !== '' ? cfg.stream.midstreamPolicy : cfg.exceptionPolicy;
  return v === 'pass-flow' || v === 'bypass' ? v : 'ignore';
}

/** Parse Suricata-style sizes: `1mb`, `64kb`, `2gb`, plain numbers. */
export function parseSize(v: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$/i.exec(v);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : 1;
  return Math.round(n * mult);
}

function parseBool(v: string): boolean | null {
  const s = v.trim().toLowerCase();
  if (['yes', 'true', 'on', '1', 'enabled'].includes(s)) return true;
  if (['no', 'false', 'off', '0', 'disabled'].includes(s)) return false;
  return null;
}

function parseSeconds(v: string): number | null {
  const n = Number(v.trim());
  return Number.isFinite(n) && n >= 0 ? n : null;
}

export class ConfigError extends Error {
  readonly code = 'VIGIL_CONFIG_INVALID';
}

export interface TunnelDecoder {
  enabled: boolean;
  /** Port expression, e.g. `$VXLAN_PORTS`, `4789`, `[4789, 8472]`. */
  ports: string;
}

/**
 * The ports a tunnel decoder listens on (none when disabled), with the configuration's port groups
 * over Suricata's defaults. Throws ConfigError for an expression that does not resolve (a port
 * group redefined after the decoder setting was checked).
 */
export function tunnelPorts(t: TunnelDecoder, vars: EngineConfig['vars']): number[] {
  if (!t.enabled) return [];
  const e = parsePorts(t.ports, withDefaultVars(vars).portGroups);
  if (typeof e === 'string') throw new ConfigError(`invalid tunnel decoder ports "${t.ports}": ${e}`);
  const m = portMatcher(e);
  const out: number[] = [];
  for (let p = 1; p < 65536; p++) if (m === null || m(p)) out.push(p);
  return out;
}

/**
 * Apply one dotted key. Returns null when applied, or a warning string when the key is not
 * supported (the caller prints it and goes on, as Suricata's users expect for `--set`).
 * Throws ConfigError for a supported key with an invalid value.
 */
export function applySetting(cfg: EngineConfig, key: string, value: string): string | null {
  const bad = (what: string): never => {
    throw new ConfigError(`invalid value for ${key}: "${value}" (${what})`);
  };
  let m: RegExpExecArray | null;
  if ((m = /^flow-timeouts\.(default|tcp|udp|icmp)\.(new|established|closed)$/.exec(key))) {
    const s = parseSeconds(value) ?? bad('expected seconds');
    cfg.flow.timeouts[m[1] as 'tcp'][m[2] as 'new'] = s;
    return null;
  }
  if ((m = /^decoder\.(vxlan|geneve)\.(enabled|ports)$/.exec(key))) {
    const t = cfg.decoder[m[1] as 'vxlan'];
    if (m[2] === 'enabled') t.enabled = parseBool(value) ?? bad('expected yes/no');
    else {
      const e = parsePorts(value, withDefaultVars(cfg.vars).portGroups);
      if (typeof e === 'string') bad(e);
      t.ports = value;
    }
    return null;
  }
  if ((m = /^vars\.address-groups\.([A-Za-z0-9_]+)$/.exec(key))) {
    cfg.vars.addressGroups[m[1]!] = value;
    return null;
  }
  if ((m = /^vars\.port-groups\.([A-Za-z0-9_]+)$/.exec(key))) {
    cfg.vars.portGroups[m[1]!] = value;
    return null;
  }
  if (key.startsWith('behavior.')) {
    try {
      return applyBehaviorSetting(cfg.behavior, key, value);
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
  }
  switch (key) {
    case 'ml.enabled':
      cfg.ml.enabled = parseBool(value) ?? bad('expected yes/no');
      return null;
    case 'ml.classifier.model':
      cfg.ml.classifierModel = value.trim() || bad('expected a model directory, default or none');
      return null;
    case 'ml.anomaly.model':
      cfg.ml.anomalyModel = value.trim() || bad('expected a model directory or none');
      return null;
    case 'ml.classifier.confidence-threshold': {
      const n = Number(value.trim());
      cfg.ml.confidenceThreshold = value.trim() !== '' && n > 0 && n <= 1 ? n : bad('expected a number in (0, 1]');
      return null;
    }
    case 'ml.anomaly.threshold': {
      const t = value.trim().toLowerCase();
      if (t === 'calibrated' || t === 'auto') cfg.ml.anomalyThreshold = null;
      else {
        const n = Number(t);
        cfg.ml.anomalyThreshold = t !== '' && n > 0 && n < 1 ? n : bad('expected a number in (0, 1) or calibrated');
      }
      return null;
    }
    case 'ml.limit-seconds':
      cfg.ml.limitSeconds = parseSeconds(value) ?? bad('expected seconds');
      return null;
    case 'ml.shadow.model':
      cfg.ml.shadowModel = value.trim() || bad('expected a model directory or none');
      return null;
    case 'ml.second-opinion.enabled':
      cfg.ml.secondOpinion = parseBool(value) ?? bad('expected yes/no');
      return null;
    case 'ml.second-opinion.confidence': {
      const n = Number(value.trim());
      cfg.ml.secondOpinionConfidence = value.trim() !== '' && n > 0 && n <= 1 ? n : bad('expected a number in (0, 1]');
      return null;
    }
    case 'alerts.whitelist': {
      const list = parseWhitelistList(value);
      try {
        new IpWhitelist(list);
      } catch (e) {
        bad((e as Error).message);
      }
      cfg.alerts.whitelist = list;
      return null;
    }
    case 'reputation-categories-file':
      cfg.detect.reputation.categoriesFile = value.trim() === '' ? bad('empty') : value.trim();
      return null;
    case 'default-reputation-path':
      cfg.detect.reputation.path = value.trim();
      return null;
    case 'reputation-files':
      cfg.detect.reputation.files = value
        .replace(/^\[|\]$/g, '')
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');
      return null;
    case 'indicators.lists':
      cfg.indicators.lists = value
        .replace(/^\[|\]$/g, '')
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');
      return null;
    case 'alerts.dedup-window':
      cfg.alerts.dedupWindow = parseSeconds(value) ?? bad('expected seconds');
      return null;
    case 'flow.max-flows': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1024 || n > 16_777_216) bad('expected an integer 1024..16777216');
      cfg.flow.maxFlows = n;
      return null;
    }
    case 'flow.active-timeout':
      cfg.flow.activeTimeout = parseSeconds(value) ?? bad('expected seconds');
      return null;
    case 'defrag.trackers':
    case 'defrag.max-trackers': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) bad('expected a positive integer');
      cfg.defrag.maxTrackers = n;
      return null;
    }
    case 'defrag.memcap':
      cfg.defrag.maxBytes = parseSize(value) ?? bad('expected a size such as 32mb');
      return null;
    case 'defrag.timeout':
      cfg.defrag.timeout = parseSeconds(value) ?? bad('expected seconds');
      return null;
    case 'stream.midstream':
      cfg.stream.midstream = parseBool(value) ?? bad('expected yes/no');
      return null;
    case 'stream.midstream-policy':
    case 'exception-policy': {
      const v = value.trim().toLowerCase();
      if (!EXCEPTION_POLICIES.includes(v)) bad(`expected one of ${EXCEPTION_POLICIES.join(', ')}`);
      if (key === 'exception-policy') cfg.exceptionPolicy = v;
      else cfg.stream.midstreamPolicy = v;
      return null;
    }
    case 'stream.reassembly.depth':
      cfg.stream.reassemblyDepth = parseSize(value) ?? bad('expected a size such as 1mb');
      return null;
    case 'stream.reassembly.memcap':
      cfg.stream.memcap = parseSize(value) ?? bad('expected a size such as 64mb');
      return null;
    case 'app-layer.protocols.tls.encryption-handling':
    case 'app-layer.protocols.tls.encrypt-handling': {
      // (The second: Suricata 6's spelling in its suricata.yaml comments.)
      const v = value.trim().toLowerCase();
      if (v !== 'default' && v !== 'bypass' && v !== 'full') bad('expected default, bypass or full');
      cfg.tls.encryptionHandling = v as EngineConfig['tls']['encryptionHandling'];
      return null;
    }
    case 'app-layer.protocols.http.libhtp.default-config.request-body-limit':
      cfg.http.requestBodyLimit = parseSize(value) ?? bad('expected a size such as 4kb');
      return null;
    case 'app-layer.protocols.http.libhtp.default-config.response-body-limit':
      cfg.http.responseBodyLimit = parseSize(value) ?? bad('expected a size such as 4kb');
      return null;
    case 'app-layer.protocols.http.libhtp.default-config.response-body-decompress-layer-limit': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 16) bad('expected an integer 0..16');
      cfg.http.decompressLayerLimit = n;
      return null;
    }
    case 'sensor-name':
      if (value.trim() === '') bad('empty');
      cfg.sensorName = value.trim();
      return null;
    case 'threshold-file':
      cfg.detect.thresholdFile = value.trim() === '' ? bad('empty') : value.trim();
      return null;
    case 'classification-file':
      cfg.detect.classificationFile = value.trim() === '' ? bad('empty') : value.trim();
      return null;
    case 'packet-alert-max': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 1000) bad('expected an integer 0..1000');
      // 0 means the default, as in Suricata.
      cfg.detect.packetAlertMax = n === 0 ? 15 : n;
      return null;
    }
    case 'detect.exhaustive':
      cfg.detect.exhaustive = parseBool(value) ?? bad('expected yes/no');
      return null;
    case 'outputs.eve-log.ipv6-compress':
      cfg.eve.ipv6Compress = parseBool(value) ?? bad('expected yes/no');
      return null;
    case 'outputs.eve-log.ethernet':
      cfg.eve.ethernet = parseBool(value) ?? bad('expected yes/no');
      return null;
    case 'outputs.eve-log.types.alert.packet':
      cfg.eve.alertPacket = parseBool(value) ?? bad('expected yes/no');
      return null;
    case 'outputs.eve-log.types.alert.payload':
      cfg.eve.alertPayload = parseBool(value) ?? bad('expected yes/no');
      return null;
    case 'outputs.eve-log.types.alert.payload-printable':
      cfg.eve.alertPayloadPrintable = parseBool(value) ?? bad('expected yes/no');
      return null;
    case 'outputs.eve-log.types.alert.verdict':
      cfg.eve.alertVerdict = parseBool(value) ?? bad('expected yes/no');
      return null;
    case 'checksum-validation':
      cfg.checksumValidation = parseBool(value) ?? bad('expected yes/no');
      return null;
    case 'file-store.enabled':
      cfg.fileStore.enabled = parseBool(value) ?? bad('expected yes/no');
      return null;
    case 'file-store.dir':
      cfg.fileStore.dir = value.trim() === '' ? bad('empty') : value.trim();
      return null;
    case 'file-store.force-filestore':
      cfg.fileStore.force = parseBool(value) ?? bad('expected yes/no');
      return null;
    case 'file-store.max-size': {
      const n = parseSize(value);
      cfg.fileStore.maxSize = n !== null && n > 0 ? n : bad('expected a size such as 1gb');
      return null;
    }
    case 'file-store.version':
      // Only the v2 layout (files named by SHA-256) is written.
      return value.trim() === '2' ? null : `file-store version ${value.trim()} is not supported (v2 layout is used)`;
    default:
      return `unsupported configuration key ignored: ${key}`;
  }
}

/**
 * Flatten a parsed suricata.yaml into dotted keys and apply those Vigil understands.
 * Sections Vigil has no use for (outputs, app-layer parsers it lacks, threading, ...) are skipped
 * without a warning each, since a stock suricata.yaml has hundreds; unsupported keys under the
 * sections Vigil does read are returned as warnings.
 */
export function applyYaml(cfg: EngineConfig, doc: unknown): string[] {
  const warnings: string[] = [];
  const READ = [
    'vars',
    'flow-timeouts',
    'stream',
    'defrag',
    'decoder.vxlan',
    'decoder.geneve',
    'flow',
    'sensor-name',
    'packet-alert-max',
    'exception-policy',
    'threshold-file',
    'classification-file',
    'reputation-categories-file',
    'default-reputation-path',
    'reputation-files',
    'app-layer.protocols.http.libhtp.default-config',
    'app-layer.protocols.tls.encryption-handling',
    'app-layer.protocols.tls.encrypt-handling',
    // Vigil's own sections, so one file can hold a sensor's whole configuration.
    'behavior',
    'ml',
  ];
  const walk = (prefix: string, v: unknown): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) walk(prefix ? `${prefix}.${k}` : k, child);
      return;
    }
    if (!READ.some((r) => prefix === r || prefix.startsWith(r + '.'))) return;
    const w = applySetting(cfg, prefix, Array.isArray(v) ? `[${v.join(',')}]` : String(v));
    if (w) warnings.push(w);
  };
  walk('', doc);
  // outputs is a list of `- name: {...}` entries: eve-log's options and file-store.
  const outputs = (doc as { outputs?: unknown } | null)?.outputs;
  if (Array.isArray(outputs)) {
    for (const o of outputs) {
      const store = (o as Record<string, unknown> | null)?.['file-store'];
      if (store !== null && typeof store === 'object' && !Array.isArray(store)) {
        for (const [k, v] of Object.entries(store as Record<string, unknown>)) {
          if (v === null || typeof v === 'object') continue;
          const w = applySetting(cfg, `file-store.${k}`, String(v));
          if (w) warnings.push(w);
        }
      }
      const eve = (o as Record<string, unknown> | null)?.['eve-log'] as Record<string, unknown> | undefined;
      if (eve === undefined || eve === null) continue;
      const set = (k: string, v: unknown): void => {
        if (v === undefined) return;
        const w = applySetting(cfg, k, String(v));
        if (w) warnings.push(w);
      };
      set('outputs.eve-log.ipv6-compress', eve['ipv6-compress']);
      set('outputs.eve-log.ethernet', eve['ethernet']);
      const types = eve['types'];
      if (Array.isArray(types)) {
        for (const t of types) {
          const alert = (t as Record<string, unknown> | null)?.['alert'] as Record<string, unknown> | null | undefined;
          if (alert === undefined || alert === null || typeof alert !== 'object') continue;
          set('outputs.eve-log.types.alert.packet', alert['packet']);
          set('outputs.eve-log.types.alert.payload', alert['payload']);
          set('outputs.eve-log.types.alert.payload-printable', alert['payload-printable']);
          set('outputs.eve-log.types.alert.verdict', alert['verdict']);
        }
      }
    }
  }
  return warnings;
}
