/**
 * Loading rule files: comments, blank lines, multi-line rules (trailing backslash), duplicate sids,
 * and classification.config. Every rule that does not load is reported with file, line and reason.
 */
import fs from 'node:fs';
import { DEFAULT_CLASSIFICATIONS } from './classification-table.js';
import { parseRule } from './parser.js';
import type { ParsedRule } from './parser.js';
import type { RuleVars } from './vars.js';

/** A rule that was not loaded. */
export interface SkippedRule {
  file: string;
  /** 1-based line where the rule starts. */
  line: number;
  /** Full reason, e.g. `unsupported keyword: lua`, `invalid value for content: bad hex byte "G1"`. */
  reason: string;
  /** The reason without rule-specific detail, for counting. */
  group: string;
  keyword?: string;
}

export interface RuleSet {
  rules: ParsedRule[];
  skipped: SkippedRule[];
}

/** Files that could not be read, with the reason (the caller decides whether that is fatal). */
export class RuleFileError extends Error {
  readonly code = 'VIGIL_RULES_FILE_UNREADABLE';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/** Split file text into logical rules: (start line, text), joining backslash continuations. */
export function ruleLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const lines = text.split(/\r?\n/);
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (buf === '') start = i + 1;
    if (l.endsWith('\\')) {
      buf += l.slice(0, -1);
      continue;
    }
    buf += l;
    const t = buf.trim();
    buf = '';
    // `# alert ...` is a disabled rule: a comment, not counted.
    if (t === '' || t.startsWith('#')) continue;
    out.push({ line: start, text: t });
  }
  if (buf.trim() !== '' && !buf.trim().startsWith('#')) out.push({ line: start, text: buf.trim() });
  return out;
}

/**
 * Read and parse rule files in order: each parsed rule goes to `onRule` with its file and line,
 * each unparsable one to `skipped`. Unreadable files throw RuleFileError.
 */
export function forEachRule(
  paths: string[],
  vars: RuleVars | undefined,
  onRule: (rule: ParsedRule, file: string, line: number) => void,
  skipped: SkippedRule[],
): void {
  for (const file of paths) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw unreadable(file, 'rule', e);
    }
    for (const { line, text: rt } of ruleLines(text)) {
      const r = parseRule(rt, vars);
      if (r.kind === 'error') {
        const s: SkippedRule = { file, line, reason: r.reason, group: r.group };
        if (r.keyword !== undefined) s.keyword = r.keyword;
        skipped.push(s);
        continue;
      }
      onRule(r, file, line);
    }
  }
}

/**
 * Load and parse rule files. Unreadable files throw RuleFileError; every other problem is a
 * skipped rule. A rule repeating an already loaded (gid, sid) is skipped as `duplicate sid N`.
 */
export function loadRuleFiles(paths: string[], vars?: RuleVars): RuleSet {
  const rules: ParsedRule[] = [];
  const skipped: SkippedRule[] = [];
  const seen = new Set<string>();
  forEachRule(
    paths,
    vars,
    (r, file, line) => {
      const key = `${r.gid}:${r.sid}`;
      if (seen.has(key)) {
        skipped.push({ file, line, reason: `duplicate sid ${r.sid}`, group: 'duplicate sid' });
        return;
      }
      seen.add(key);
      rules.push(r);
    },
    skipped,
  );
  return { rules, skipped };
}

/** classtype -> description and priority. */
export type Classifications = Record<string, { description: string; priority: number }>;

/**
 * Parse Suricata's classification.config text: `config classification: short,description,priority`.
 * Malformed lines are returned in `errors` (1-based line numbers) and otherwise ignored.
 */
export function parseClassificationConfig(text: string): {
  classes: Classifications;
  errors: { line: number; reason: string }[];
} {
  const classes: Classifications = {};
  const errors: { line: number; reason: string }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^config\s+classification\s*:\s*([^,]+),(.*),\s*(\d+)\s*$/.exec(t);
    if (!m) {
      errors.push({ line: i + 1, reason: 'expected "config classification: name,description,priority"' });
      continue;
    }
    classes[m[1]!.trim().toLowerCase()] = { description: m[2]!.trim(), priority: Number(m[3]) };
  }
  return { classes, errors };
}

/** The RuleFileError for a rule or classification file that cannot be read (`e` from fs). */
export function unreadable(file: string, what: 'rule' | 'classification', e: unknown): RuleFileError {
  return new RuleFileError(
    file,
    `cannot read ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
  );
}

/** Read a classification.config file (throws RuleFileError when unreadable). */
export function loadClassificationConfig(path: string): Classifications {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw unreadable(path, 'classification', e);
  }
  return parseClassificationConfig(text).classes;
}

/** The built-in classification table (ET Open's classification.config). */
export function defaultClassifications(): Classifications {
  return { ...DEFAULT_CLASSIFICATIONS };
}

/**
 * A rule's effective priority: its `priority` option, else its classtype's priority, else 3
 * (Suricata's default for rules without either).
 */
export function rulePriority(rule: ParsedRule, classes: Classifications = DEFAULT_CLASSIFICATIONS): number {
  if (rule.priority !== null) return rule.priority;
  const c = rule.classtype === null ? undefined : classes[rule.classtype];
  return c?.priority ?? 3;
}
