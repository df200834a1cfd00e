/**
 * `vigil rules check FILE...`: load rule files as `vigil analyze --rules` does (parsed and
 * compiled for the matcher) and report loaded and skipped counts.
 */
import { parseArgs } from 'node:util';
import { loadDetectRules } from '../detect/engine/load.js';
import { RuleFileError } from '../detect/signatures/ruleset.js';
import type { SkippedRule } from '../detect/signatures/ruleset.js';
import { CliError, usageError } from './errors.js';
import { engineConfigFrom } from './options.js';
import { rulesUpdateCommand } from './rules-update.js';

const USAGE = `usage: vigil rules check FILE... [--json] [--verbose] [--set vars.address-groups.NAME=VALUE]... [-c suricata.yaml]
       vigil rules update --source PATH_OR_URL... [options]   (vigil rules update --help)

Parses Suricata (and Snort 2) rule files, and Snort 3 rules, which are recognised rule by rule
(comma content modifiers, sticky http_* buffers, service:, header-less "alert http (...)"),
compiles them as vigil analyze --rules does, and reports how many rules load and why the others
are skipped.
`;

/** Skip reasons grouped at keyword level, most frequent first. */
function byReason(skipped: SkippedRule[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const s of skipped) counts.set(s.group, (counts.get(s.group) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

export function rulesCommand(argv: string[]): number | Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'update') return rulesUpdateCommand(rest);
  if (sub !== 'check') throw usageError(`unknown rules subcommand "${sub}" (expected: check, update)`);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        set: { type: 'string', multiple: true },
        config: { type: 'string', short: 'c' },
      },
    });
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const files = parsed.positionals;
  if (files.length === 0) throw usageError('rules check needs at least one rule file');
  const cfg = engineConfigFrom(parsed.values, (m) => void process.stderr.write(`vigil: warning: ${m}\n`));
  let set;
  try {
    // The same load as `vigil analyze --rules FILE... --no-builtin-rules`: a rule that parses but
    // cannot be compiled for the matcher is skipped there too, so it counts as skipped here.
    set = loadDetectRules({ ruleFiles: files, vars: cfg.vars, classificationFile: null, thresholdFile: null });
  } catch (e) {
    if (e instanceof RuleFileError) throw new CliError('VIGIL_CLI_INPUT', e.message, 1);
    throw e;
  }
  const reasons = byReason(set.skipped);
  if (parsed.values.json === true) {
    const out = {
      loaded: set.rules.length,
      skipped: set.skipped.length,
      skipped_by_reason: Object.fromEntries(reasons),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
    return 0;
  }
  const total = set.rules.length + set.skipped.length;
  const pct = total === 0 ? 100 : (100 * set.rules.length) / total;
  let text = `${set.rules.length} rules loaded, ${set.skipped.length} skipped (${pct.toFixed(1)} % loaded) from ${files.length} file(s)\n`;
  if (reasons.length > 0) {
    text += 'top skip reasons:\n';
    for (const [r, n] of reasons.slice(0, 15)) text += `  ${String(n).padStart(6)}  ${r}\n`;
    if (reasons.length > 15) text += `  ... ${reasons.length - 15} more reasons (--json lists all)\n`;
  }
  if (parsed.values.verbose === true) {
    for (const s of set.skipped) text += `${s.file}:${s.line}: ${s.reason}\n`;
  }
  process.stdout.write(text);
  return 0;
}
