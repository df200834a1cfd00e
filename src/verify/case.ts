/**
 * Finding and loading suricata-verify cases: a case is a directory holding `test.yaml`, with one
 * capture, `test.rules` and optionally `suricata.yaml` (see OISF/suricata-verify's README).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { CheckSpec, Expectation } from './checks.js';
import { VerifyError, badCase } from './errors.js';

/** A case found on disk. */
export interface CaseRef {
  /** The directory's path below the DIR argument that led to it (its own name when DIR is the case). */
  name: string;
  /** Absolute path of the case directory. */
  dir: string;
}

/** A loaded case, ready to run. */
export interface VerifyCase extends CaseRef {
  /** Absolute path of the capture. */
  pcap: string;
  /** Absolute paths of the rule files (test.rules when present). */
  rules: string[];
  /** Absolute path of the case's suricata.yaml, or null. */
  config: string | null;
  /** Extra analyze arguments from `args`, split like a shell; `$VAR` still to expand ({@link expandVars}). */
  args: string[];
  /** The case's `requires` map (informative: Vigil is not a Suricata build). */
  requires: Record<string, unknown>;
  checks: CheckSpec[];
}

const isCaseDir = (dir: string): boolean => fs.existsSync(path.join(dir, 'test.yaml'));

/**
 * Every case under the given directories, sorted by name. A directory that holds `test.yaml` is a
 * case; any other is searched recursively (hidden directories skipped) and cases inside a case
 * are not looked for, as upstream. Throws when a directory is missing or holds no case.
 */
export function discoverCases(roots: readonly string[]): CaseRef[] {
  const out: CaseRef[] = [];
  for (const root of roots) {
    const abs = path.resolve(root);
    let st;
    try {
      st = fs.statSync(abs);
    } catch {
      throw new VerifyError('VIGIL_VERIFY_NOT_FOUND', `${root}: no such directory`);
    }
    if (!st.isDirectory()) throw new VerifyError('VIGIL_VERIFY_NOT_FOUND', `${root}: not a directory`);
    if (isCaseDir(abs)) {
      out.push({ name: path.basename(abs), dir: abs });
      continue;
    }
    const before = out.length;
    const walk = (dir: string, rel: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (e.name.startsWith('.')) continue;
        const p = path.join(dir, e.name);
        const r = rel === '' ? e.name : `${rel}/${e.name}`;
        // statSync follows symbolic links (upstream walks with followlinks).
        if (!(e.isDirectory() || (e.isSymbolicLink() && fs.statSync(p, { throwIfNoEntry: false })?.isDirectory()))) {
          continue;
        }
        if (isCaseDir(p)) out.push({ name: r, dir: p });
        else walk(p, r);
      }
    };
    walk(abs, '');
    if (out.length === before) {
      throw new VerifyError('VIGIL_VERIFY_NOT_FOUND', `${root}: no case directory (one holding test.yaml) found`);
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Split one `args` string like a POSIX shell: blanks separate words; '...' is literal; "..." keeps
 * blanks and honours \" \\ \$ \`; a backslash outside quotes escapes the next character. `$`
 * that the shell would not expand (quoted with '' or \) comes back as `$$`, which
 * {@link expandVars} turns into `$`, so variables are expanded after splitting, as upstream does.
 */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw badCase(`unterminated ' in args: ${s}`);
      cur += s
        .slice(i + 1, end)
        .split('$')
        .join('$$');
      inWord = true;
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        const c = s[j]!;
        const next = s[j + 1];
        if (c === '\\' && next !== undefined && '"\\$`\n'.includes(next)) {
          if (next !== '\n') cur += next === '$' ? '$$' : next;
          j++;
        } else cur += c;
      }
      if (j >= s.length) throw badCase(`unterminated " in args: ${s}`);
      inWord = true;
      i = j;
    } else if (ch === '\\') {
      const next = s[i + 1];
      if (next === undefined) throw badCase(`trailing backslash in args: ${s}`);
      if (next !== '\n') cur += next === '$' ? '$$' : next;
      inWord = true;
      i++;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/**
 * Expand `${NAME}` and `$NAME` from `vars` (Python's string.Template, which upstream uses: `$$`
 * is a literal `$`). An unknown name is an error, as upstream; a `$` before anything else is kept.
 */
export function expandVars(s: string, vars: Readonly<Record<string, string | undefined>>): string {
  return s.replace(/\$(?:\$|\{([_A-Za-z][_A-Za-z0-9]*)\}|([_A-Za-z][_A-Za-z0-9]*))/g, (all, braced, bare) => {
    if (all === '$$') return '$';
    const name = (braced ?? bare) as string;
    const v = vars[name];
    if (v === undefined) throw badCase(`unknown variable $${name} in args`);
    return v;
  });
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw badCase(`cannot read test.yaml: ${(e as Error).message}`);
  }
  try {
    // Upstream reads test.yaml with PyYAML, a YAML 1.1 parser (yes/no are booleans).
    return parseYaml(text, { version: '1.1' });
  } catch (e) {
    throw badCase(`invalid YAML in test.yaml: ${(e as Error).message.split('\n')[0]}`);
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function findPcap(dir: string, named: unknown): string {
  if (typeof named === 'string' && named !== '') {
    const p = path.resolve(dir, named);
    if (!fs.existsSync(p)) throw badCase(`pcap ${named} does not exist`);
    return p;
  }
  if (named !== undefined && named !== null && named !== false) throw badCase('pcap: expects a file name');
  const pcaps = fs
    .readdirSync(dir)
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .sort();
  if (pcaps.length === 0) throw badCase('no .pcap or .pcapng file in the case directory');
  if (pcaps.length > 1) throw badCase(`more than one capture (${pcaps.join(', ')}); name one with pcap:`);
  return path.join(dir, pcaps[0]!);
}

function bound(where: string, name: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badCase(`${where}: ${name} must be a number`);
  return v;
}

function parseFilter(index: number, raw: unknown): CheckSpec {
  const where = `check ${index}`;
  if (!isMap(raw)) throw badCase(`${where}: filter must be a map`);
  const match = raw['match'];
  if (!isMap(match)) throw badCase(`${where}: filter has no match map`);
  const expect: Expectation = {};
  const count = bound(where, 'count', raw['count']);
  const lt = bound(where, 'lt', raw['lt']);
  const gt = bound(where, 'gt', raw['gt']);
  if (count !== undefined) expect.count = count;
  if (lt !== undefined) expect.lt = lt;
  if (gt !== undefined) expect.gt = gt;
  if (count === undefined && lt === undefined && gt === undefined)
    throw badCase(`${where}: filter needs count, lt or gt`);
  const requires: Record<string, unknown> = isMap(raw['requires']) ? { ...raw['requires'] } : {};
  for (const k of ['min-version', 'lt-version', 'gt-version', 'version']) {
    if (raw[k] !== undefined && raw[k] !== null) requires[k] = raw[k];
  }
  if (raw['feature'] !== undefined && raw['feature'] !== null) requires['features'] = [raw['feature']];
  const filename = raw['filename'];
  const comment = raw['comment'];
  return {
    type: 'filter',
    index,
    match,
    expect,
    requires,
    filename: filename === undefined || filename === null ? null : String(filename),
    comment: comment === undefined || comment === null ? null : String(comment),
  };
}

/** Load a case's test.yaml and locate its files. Throws a BAD_CASE {@link VerifyError} when it cannot run. */
export function loadCase(ref: CaseRef): VerifyCase {
  const doc = readYaml(path.join(ref.dir, 'test.yaml')) ?? {};
  if (!isMap(doc)) throw badCase('test.yaml is not a map');
  if (doc['command'] !== undefined) throw badCase('test.yaml runs its own command, which Vigil cannot run');

  const rawArgs = doc['args'] ?? [];
  const argLines = typeof rawArgs === 'string' ? [rawArgs] : rawArgs;
  if (!Array.isArray(argLines)) throw badCase('args: expects a list of strings or a string');
  const args: string[] = [];
  for (const line of argLines) {
    if (line === null || isMap(line) || Array.isArray(line)) throw badCase('args: expects a list of strings');
    args.push(...splitArgs(String(line)));
  }

  const requires = isMap(doc['requires']) ? doc['requires'] : {};
  const rawChecks = doc['checks'] ?? [];
  if (!Array.isArray(rawChecks)) throw badCase('checks: expects a list');
  const checks: CheckSpec[] = [];
  for (let i = 0; i < rawChecks.length; i++) {
    const item: unknown = rawChecks[i];
    const index = i + 1;
    if (!isMap(item)) throw badCase(`check ${index}: expects a map such as filter: {...}`);
    // Upstream runs every key of an item (an item may hold several checks).
    for (const kind of Object.keys(item)) {
      if (kind === 'filter') checks.push(parseFilter(index, item[kind]));
      else checks.push({ type: 'other', index, kind });
    }
  }

  const pcap = findPcap(ref.dir, doc['pcap']);
  const rulesFile = path.join(ref.dir, 'test.rules');
  const configFile = path.join(ref.dir, 'suricata.yaml');
  return {
    ...ref,
    pcap,
    rules: fs.existsSync(rulesFile) ? [rulesFile] : [],
    config: fs.existsSync(configFile) ? configFile : null,
    args,
    requires,
    checks,
  };
}

/**
 * The `vigil analyze` arguments for a case: capture, rule files (no built-in rules, behaviour or models), the case's args (with `TEST_DIR`,
 * `OUTPUT_DIR` and the environment expanded), `-c suricata.yaml`, then the EVE file and one
 * worker (deterministic record order and one core per concurrently running case).
 */
export function analyzeArgv(c: VerifyCase, outDir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const vars = { ...env, TEST_DIR: c.dir, OUTPUT_DIR: outDir, TZ: 'UTC' };
  // Only the case's rules: Vigil's built-in rules, behaviour detectors and models would add alerts
  // the checks do not expect.
  const argv = ['analyze', c.pcap, '--no-builtin-rules', '--no-ml', '--set', 'behavior.enabled=no'];
  for (const r of c.rules) argv.push('--rules', r);
  for (const a of c.args) argv.push(expandVars(a, vars));
  if (c.config !== null) argv.push('-c', c.config);
  argv.push('--eve', path.join(outDir, 'eve.json'), '--workers', '1');
  return argv;
}
