/**
 * Loading a detection ruleset: rule files parsed and compiled (a rule the matcher cannot run is
 * skipped with its reason), classification.config for priorities and categories, and Suricata's
 * threshold.config (`threshold`, `event_filter`, `suppress`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadIpReputation, resetIntel, setDatasetBaseDir } from './datasets.js';
import {
  defaultClassifications,
  forEachRule,
  loadClassificationConfig,
  rulePriority,
  unreadable,
} from '../signatures/ruleset.js';
import type { Classifications, SkippedRule } from '../signatures/ruleset.js';
import type { RuleVars } from '../signatures/vars.js';
import { CompileError, addressMatcher, compileRule } from './compile.js';
import type { CompiledRule, RateSpec } from './compile.js';
import { parseAddress } from '../signatures/address.js';
import { enableLinearFallback } from './regex.js';

export interface DetectSpec {
  /** Rule files, in order (the built-in rules file first unless disabled). */
  ruleFiles: string[];
  vars: RuleVars;
  /** classification.config; null = the built-in table. */
  classificationFile: string | null;
  /** threshold.config; null = none. */
  thresholdFile: string | null;
  /** IP reputation for `iprep` (Suricata's reputation-categories-file and reputation-files). */
  reputation?: { categoriesFile: string | null; files: string[] };
}

export interface LoadedRules {
  rules: CompiledRule[];
  skipped: SkippedRule[];
  classifications: Classifications;
  /** Problems in threshold.config (line: reason). */
  thresholdErrors: string[];
  /** Problems in the IP reputation files. */
  reputationErrors: string[];
}

/** A ruleset load without the rules: what a worker thread reports of its load (structured-clonable). */
export interface RuleLoadReport {
  loaded: number;
  skipped: SkippedRule[];
  thresholdErrors: string[];
  reputationErrors: string[];
}

export function ruleLoadReport(l: LoadedRules): RuleLoadReport {
  return {
    loaded: l.rules.length,
    skipped: l.skipped,
    thresholdErrors: l.thresholdErrors,
    reputationErrors: l.reputationErrors,
  };
}

/**
 * Throw the RuleFileError loadDetectRules would throw for an unreadable rule or classification
 * file, without parsing anything: for a thread that leaves the loading to its workers.
 */
export function checkDetectFiles(spec: DetectSpec): void {
  const probe = (file: string, what: 'rule' | 'classification'): void => {
    try {
      const fd = fs.openSync(file, 'r');
      try {
        fs.readSync(fd, Buffer.alloc(1), 0, 1, 0); // a directory opens, but does not read (EISDIR)
      } finally {
        fs.closeSync(fd);
      }
    } catch (e) {
      throw unreadable(file, what, e);
    }
  };
  for (const f of spec.ruleFiles) probe(f, 'rule');
  if (spec.classificationFile !== null) probe(spec.classificationFile, 'classification');
}

/** Load, parse and compile. Throws RuleFileError when a file cannot be read. */
export function loadDetectRules(spec: DetectSpec): LoadedRules {
  enableLinearFallback();
  resetIntel();
  const rep = spec.reputation;
  const reputationErrors =
    rep !== undefined && rep.categoriesFile !== null ? loadIpReputation(rep.categoriesFile, rep.files) : [];
  const classes =
    spec.classificationFile === null ? defaultClassifications() : loadClassificationConfig(spec.classificationFile);
  const rules: CompiledRule[] = [];
  const skipped: SkippedRule[] = [];
  const seen = new Set<string>();
  forEachRule(
    spec.ruleFiles,
    spec.vars,
    (r, file, line) => {
      const key = `${r.gid}:${r.sid}`;
      if (seen.has(key)) {
        skipped.push({ file, line, reason: `duplicate sid ${r.sid}`, group: 'duplicate sid' });
        return;
      }
      try {
        // dataset `load` paths are relative to the rule file.
        setDatasetBaseDir(path.dirname(path.resolve(file)));
        const c = compileRule(r, rulePriority(r, classes));
        if (r.classtype !== null) c.category = classes[r.classtype]?.description ?? '';
        rules.push(c);
        seen.add(key);
      } catch (e) {
        if (!(e instanceof CompileError)) throw e;
        skipped.push({ file, line, reason: e.message, group: e.group });
      }
    },
    skipped,
  );
  const thresholdErrors = spec.thresholdFile === null ? [] : applyThresholdFile(spec.thresholdFile, rules, spec.vars);
  return { rules, skipped, classifications: classes, thresholdErrors, reputationErrors };
}

/**
 * Apply threshold.config lines to the rules. `threshold`/`event_filter` replace a rule's threshold;
 * `suppress` without an address silences the rule, with `track by_src|by_dst, ip X` it adds an
 * address filter. `sig_id 0` applies to every rule (of the gid, or all with `gen_id 0`).
 */
export function applyThresholdFile(file: string, rules: CompiledRule[], vars: RuleVars): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return [`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`];
  }
  const errors: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const t = lines[n]!.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^(threshold|event_filter|suppress|rate_filter)\s+(.*)$/.exec(t);
    if (!m) {
      errors.push(`line ${n + 1}: unknown directive`);
      continue;
    }
    const f: Record<string, string> = {};
    for (const part of m[2]!.split(',')) {
      const kv = /^\s*(\S+)\s+(.+?)\s*$/.exec(part);
      if (!kv) continue;
      f[kv[1]!] = kv[2]!;
    }
    const gid = Number(f['gen_id'] ?? '1');
    const sid = Number(f['sig_id'] ?? 'NaN');
    if (!Number.isInteger(gid) || !Number.isInteger(sid)) {
      errors.push(`line ${n + 1}: gen_id and sig_id required`);
      continue;
    }
    const targets = rules.filter((r) => (gid === 0 || r.gid === gid) && (sid === 0 || r.sid === sid));
    if (m[1] === 'rate_filter') {
      errors.push(`line ${n + 1}: rate_filter not supported (it changes actions, an IPS feature)`);
      continue;
    }
    if (m[1] === 'suppress') {
      if (f['ip'] === undefined) {
        for (const r of targets) r.noalert = true;
        continue;
      }
      const addr = parseAddress(f['ip'], vars.addressGroups ?? {});
      if (typeof addr === 'string') {
        errors.push(`line ${n + 1}: ${addr}`);
        continue;
      }
      const match = addressMatcher(addr);
      const track = f['track'] ?? 'by_src';
      for (const r of targets) r.suppress.push({ track, match });
      continue;
    }
    const spec: RateSpec = {
      type: f['type'] ?? '',
      track: f['track'] ?? '',
      count: Number(f['count']),
      seconds: Number(f['seconds']),
      multiplier: f['multiplier'] === undefined ? null : Number(f['multiplier']),
    };
    if (!['limit', 'threshold', 'both', 'backoff'].includes(spec.type) || !Number.isInteger(spec.count)) {
      errors.push(`line ${n + 1}: bad type or count`);
      continue;
    }
    if (!Number.isFinite(spec.seconds)) spec.seconds = 0;
    for (const r of targets) r.threshold = spec;
  }
  return errors;
}
