/**
 * Vigil's alert taxonomy (DESIGN.md "Alert taxonomy"): every alert gets a `type`, a `detector`, a
 * `severity` (low..critical) and MITRE ATT&CK technique ids, written to EVE alert.metadata as
 * `vigil_type`, `detector`, `vigil_severity`, `mitre_technique_id`. Behaviour alerts carry them
 * already; a signature alert takes them from the rule's metadata (`vigil_type`, ...) when the rule
 * names them (Vigil's built-in rules do), else from its classtype and message, as an analyst would.
 */
import type { AlertRecord } from '../detect/engine/detector.js';

export const VIGIL_TYPES = [
  'sql_injection',
  'xss',
  'port_scan',
  'dos',
  'brute_force',
  'malware',
  'data_exfiltration',
  'anomaly',
  'command_injection',
  'path_traversal',
  'web_attack',
  'protocol_anomaly',
  'policy',
  'recon',
] as const;
export type VigilType = (typeof VIGIL_TYPES)[number];

export type VigilSeverity = 'low' | 'medium' | 'high' | 'critical';
export type VigilDetector = 'signature' | 'behavior' | 'anomaly' | 'classifier';

/** The technique an alert of a type most often means, when the rule or detector names none. */
export const DEFAULT_MITRE: Record<VigilType, string | null> = {
  sql_injection: 'T1190',
  xss: 'T1059.007',
  port_scan: 'T1046',
  dos: 'T1498',
  brute_force: 'T1110',
  malware: 'T1071',
  data_exfiltration: 'T1048',
  anomaly: null,
  command_injection: 'T1059',
  path_traversal: 'T1083',
  web_attack: 'T1190',
  protocol_anomaly: null,
  policy: null,
  recon: 'T1595',
};

export interface AlertClass {
  type: VigilType;
  detector: VigilDetector;
  severity: VigilSeverity;
  mitre: string[];
}

const CLASSTYPE_TYPE: Record<string, VigilType> = {
  'trojan-activity': 'malware',
  'command-and-control': 'malware',
  'domain-c2': 'malware',
  'exploit-kit': 'malware',
  'coin-mining': 'malware',
  'shellcode-detect': 'malware',
  'targeted-activity': 'malware',
  'network-scan': 'port_scan',
  'attempted-recon': 'recon',
  'successful-recon-limited': 'recon',
  'successful-recon-largescale': 'recon',
  'attempted-dos': 'dos',
  'successful-dos': 'dos',
  'denial-of-service': 'dos',
  'web-application-attack': 'web_attack',
  'web-application-activity': 'web_attack',
  'protocol-command-decode': 'protocol_anomaly',
  'non-standard-protocol': 'protocol_anomaly',
  'policy-violation': 'policy',
  'pup-activity': 'policy',
  'external-ip-check': 'policy',
  'credential-theft': 'malware',
  'default-login-attempt': 'brute_force',
  'suspicious-login': 'brute_force',
};

/** Message words that name the attack more precisely than the classtype (ET's "... SQL Injection ..."). */
const MSG_TYPE: ReadonlyArray<readonly [RegExp, VigilType]> = [
  [/\bsql\s*injection\b|\bsqli\b|\bsqlmap\b/i, 'sql_injection'],
  [/\bxss\b|cross[- ]site scripting/i, 'xss'],
  [/brute[- ]?force|password guess|login attempts/i, 'brute_force'],
  [/\bdos\b|\bddos\b|denial of service|\bflood\b/i, 'dos'],
  [/\bexfil/i, 'data_exfiltration'],
  [/command injection|\bcmd injection\b/i, 'command_injection'],
  [/directory traversal|path traversal/i, 'path_traversal'],
  [/\bport ?scan|\bportsweep\b/i, 'port_scan'],
  [/\b(?:trojan|malware|c2|cnc|backdoor|ransomware|botnet|eicar)\b/i, 'malware'],
];

const isType = (s: string): s is VigilType => (VIGIL_TYPES as readonly string[]).includes(s);
const isSeverity = (s: string): s is VigilSeverity => ['low', 'medium', 'high', 'critical'].includes(s);

/** Suricata priority (1 highest) -> Vigil severity; malware and exfiltration rank one higher. */
function severityOf(priority: number, type: VigilType): VigilSeverity {
  if (priority <= 1) return type === 'malware' || type === 'data_exfiltration' ? 'critical' : 'high';
  if (priority === 2) return type === 'malware' ? 'high' : 'medium';
  return 'low';
}

/** First value of metadata key `key` ("key value" strings), or null. */
function metaValues(meta: readonly string[], key: string): string[] {
  const out: string[] = [];
  for (const m of meta) {
    const t = m.trim();
    if (t.startsWith(key + ' ')) out.push(t.slice(key.length + 1).trim());
  }
  return out;
}

/** Classify one alert from its record (metadata, classtype, message, priority). */
export function classifyAlert(a: Pick<AlertRecord, 'metadata' | 'classtype' | 'msg' | 'severity'>): AlertClass {
  const metaType = metaValues(a.metadata, 'vigil_type')[0];
  const metaDetector = metaValues(a.metadata, 'detector')[0];
  const metaSeverity = metaValues(a.metadata, 'vigil_severity')[0];
  let type: VigilType | undefined = metaType !== undefined && isType(metaType) ? metaType : undefined;
  if (type === undefined) {
    for (const [re, t] of MSG_TYPE)
      if (re.test(a.msg)) {
        type = t;
        break;
      }
  }
  type ??= (a.classtype !== null ? CLASSTYPE_TYPE[a.classtype] : undefined) ?? 'policy';
  const detector: VigilDetector =
    metaDetector === 'behavior' || metaDetector === 'anomaly' || metaDetector === 'classifier'
      ? metaDetector
      : 'signature';
  const severity = metaSeverity !== undefined && isSeverity(metaSeverity) ? metaSeverity : severityOf(a.severity, type);
  let mitre = metaValues(a.metadata, 'mitre_technique_id');
  if (mitre.length === 0) {
    const d = DEFAULT_MITRE[type];
    mitre = d === null ? [] : [d];
  }
  return { type, detector, severity, mitre };
}

/**
 * Add the taxonomy keys an alert's metadata lacks (so EVE and stored alerts always carry them).
 * Returns the classification.
 */
export function enrichAlert(a: AlertRecord): AlertClass {
  const c = classifyAlert(a);
  const has = (k: string): boolean => a.metadata.some((m) => m.trim().startsWith(k + ' '));
  const add: string[] = [];
  if (!has('vigil_type')) add.push(`vigil_type ${c.type}`);
  if (!has('detector')) add.push(`detector ${c.detector}`);
  if (!has('vigil_severity')) add.push(`vigil_severity ${c.severity}`);
  if (!has('mitre_technique_id')) for (const t of c.mitre) add.push(`mitre_technique_id ${t}`);
  // The rule's metadata array is shared by all its alerts: extend a copy.
  if (add.length > 0) a.metadata = [...a.metadata, ...add];
  return c;
}
