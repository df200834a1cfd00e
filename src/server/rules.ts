/**
 * The server's ruleset and rule reload (issue 4 item 7, issue 7): the compiled rules every engine
 * of `vigil serve` shares (PCAP jobs, the live sensor), reloaded without a restart on SIGHUP or
 * `POST /api/rules/reload`.
 *
 * - Rule files: VIGIL_RULES (comma-separated files or directories; a directory means its
 *   `*.rules`), else DATA_DIR/rules when it exists (where `vigil rules update -D DATA_DIR/rules`
 *   writes), plus the built-in rules unless VIGIL_BUILTIN_RULES=no.
 * - A reload compiles the new set beside the one in use and swaps the reference in one step; the
 *   engines pick it up between packet batches ('change' event). Per-flow rule state (flowbits,
 *   thresholds) starts afresh, as after a Suricata reload.
 * - A broken ruleset is refused with its errors and the old one keeps detecting: a file that
 *   cannot be read, or rules that are wrong as written (syntax, invalid values, bad addresses or
 *   ports, duplicate sids). Rules that are valid but use what Vigil does not support are skipped
 *   with a warning, as at start.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { loadDetectRules } from '../detect/engine/load.js';
import type { LoadedRules } from '../detect/engine/load.js';
import type { SkippedRule } from '../detect/signatures/ruleset.js';
import { detectSpec } from '../pipeline/engine.js';
import type { EngineConfig } from '../pipeline/config.js';
import { ConfigError } from './config.js';
import type { ServerExtension } from './context.js';
import { badRequest } from './errors.js';
import { anyObject, errorResponses, errorSchema } from './schemas.js';

type Env = Record<string, string | undefined>;

export interface RuleSource {
  /** Rule files in load order (directories expanded at each load). */
  paths: string[];
  builtin: boolean;
}

/** The configured rule sources (throws ConfigError on a bad VIGIL_BUILTIN_RULES). */
export function ruleSourceFromEnv(dataDir: string, env: Env = process.env): RuleSource {
  const list = (env['VIGIL_RULES'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const dflt = path.join(dataDir, 'rules');
  const paths = list.length > 0 ? list : fs.existsSync(dflt) ? [dflt] : [];
  const b = (env['VIGIL_BUILTIN_RULES'] ?? 'yes').trim().toLowerCase();
  if (!['yes', 'no', 'true', 'false', '1', '0', 'on', 'off'].includes(b))
    throw new ConfigError(`VIGIL_BUILTIN_RULES must be yes or no, got "${env['VIGIL_BUILTIN_RULES']}"`);
  return { paths, builtin: ['yes', 'true', '1', 'on'].includes(b) };
}

/** Files of the sources now: a directory gives its `*.rules`, sorted. Throws RulesError when missing. */
function expand(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (e) {
      throw new RulesError(
        `cannot read rule source ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        [],
      );
    }
    if (st.isDirectory())
      out.push(
        ...fs
          .readdirSync(p)
          .filter((f) => f.endsWith('.rules'))
          .sort()
          .map((f) => path.join(p, f)),
      );
    else out.push(p);
  }
  return out;
}

/** A ruleset that was refused: `message` says why, `errors` lists the rules at fault (first 100). */
export class RulesError extends Error {
  constructor(
    message: string,
    readonly errors: { file: string; line: number; reason: string }[],
  ) {
    super(message);
    this.name = 'RulesError';
  }
}

/** Skip reasons that mean the rule is wrong as written, not that Vigil lacks a feature. */
export function isRuleError(s: SkippedRule): boolean {
  const g = s.group;
  return (
    g === 'syntax' ||
    g === 'address' ||
    g === 'port' ||
    g.startsWith('invalid value for ') ||
    g.startsWith('internal error') ||
    g === 'duplicate sid'
  );
}

export interface RulesetInfo {
  /** 1 for the ruleset loaded at start, +1 per successful reload. */
  version: number;
  loaded_at: string;
  files: string[];
  builtin: boolean;
  loaded: number;
  skipped: number;
  /** Skipped rules by reason (unsupported keywords and the like). */
  skipped_by_reason: Record<string, number>;
  /** threshold.config and reputation problems, if any. */
  warnings: string[];
  last_reload: { at: string; ok: boolean; error: string | null } | null;
}

export class ServerRules extends EventEmitter<{ change: [LoadedRules] }> {
  private rules: LoadedRules;
  private files: string[];
  private version = 1;
  private loadedAt = new Date();
  private last: RulesetInfo['last_reload'] = null;

  /**
   * Load the ruleset at start; a broken one stops start-up (RulesError). `baseConfig` gives the
   * variables, classification, threshold and reputation settings (the engine configuration).
   */
  constructor(
    private readonly source: RuleSource,
    private readonly baseConfig: () => EngineConfig,
  ) {
    super();
    const { rules, files } = this.compile();
    this.rules = rules;
    this.files = files;
  }

  /** The ruleset in use (shared, read-only). */
  current(): LoadedRules {
    return this.rules;
  }

  /** The engine configuration with this ruleset's files (for engines that load rules themselves). */
  applyTo(cfg: EngineConfig): EngineConfig {
    cfg.detect.ruleFiles = [...this.files];
    cfg.detect.builtinRules = this.source.builtin;
    return cfg;
  }

  info(): RulesetInfo {
    const byReason: Record<string, number> = {};
    for (const s of this.rules.skipped) byReason[s.group] = (byReason[s.group] ?? 0) + 1;
    return {
      version: this.version,
      loaded_at: this.loadedAt.toISOString(),
      files: this.files,
      builtin: this.source.builtin,
      loaded: this.rules.rules.length,
      skipped: this.rules.skipped.length,
      skipped_by_reason: byReason,
      warnings: [...this.rules.thresholdErrors, ...this.rules.reputationErrors].slice(0, 100),
      last_reload: this.last,
    };
  }

  /**
   * Compile the configured files again and swap them in. Throws RulesError (the old ruleset stays)
   * when the new one is broken.
   */
  reload(): RulesetInfo {
    const at = new Date();
    try {
      const { rules, files } = this.compile();
      this.rules = rules;
      this.files = files;
      this.version++;
      this.loadedAt = at;
      this.last = { at: at.toISOString(), ok: true, error: null };
    } catch (e) {
      this.last = { at: at.toISOString(), ok: false, error: (e as Error).message };
      throw e;
    }
    this.emit('change', this.rules);
    return this.info();
  }

  private compile(): { rules: LoadedRules; files: string[] } {
    const files = expand(this.source.paths);
    const cfg = this.baseConfig();
    cfg.detect.ruleFiles = files;
    cfg.detect.builtinRules = this.source.builtin;
    let rules: LoadedRules;
    try {
      rules = loadDetectRules(detectSpec(cfg));
    } catch (e) {
      throw new RulesError((e as Error).message, []);
    }
    const bad = rules.skipped.filter(isRuleError);
    if (bad.length > 0)
      throw new RulesError(
        `${bad.length} rule${bad.length === 1 ? '' : 's'} with errors, e.g. ${bad[0]!.file}:${bad[0]!.line}: ${bad[0]!.reason}`,
        bad.slice(0, 100).map((s) => ({ file: s.file, line: s.line, reason: s.reason })),
      );
    return { rules, files };
  }
}

const rulesetSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    version: { type: 'integer' },
    loaded_at: { type: 'string' },
    files: { type: 'array', items: { type: 'string' } },
    builtin: { type: 'boolean' },
    loaded: { type: 'integer' },
    skipped: { type: 'integer' },
    skipped_by_reason: anyObject,
    warnings: { type: 'array', items: { type: 'string' } },
    last_reload: { type: ['object', 'null'], additionalProperties: true },
  },
} as const;

/** A refused reload: the error body plus the rules at fault. */
const refusedSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        errors: { type: 'array', items: anyObject },
      },
    },
  },
} as const;

/**
 * `GET /api/rules` (viewer): the ruleset in use. `POST /api/rules/reload` (admin, 10 per minute):
 * compile the rule files again and swap them in; 409 with the errors when the new set is broken
 * (the old one stays in use).
 */
export function rulesExtension(rules: ServerRules): ServerExtension {
  return {
    name: 'rules',
    routes: async (app) => {
      app.get(
        '/api/rules',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'The ruleset in use: files, rules loaded and skipped by reason, version, last reload',
            tags: ['rules'],
            response: { 200: rulesetSchema, ...errorResponses },
          },
        },
        async () => rules.info(),
      );
      app.post(
        '/api/rules/reload',
        {
          config: { access: 'admin', rateLimit: '10 per minute' },
          schema: {
            summary: 'Reload the rule files without a restart (also SIGHUP); a broken ruleset is refused',
            tags: ['rules'],
            response: { 200: rulesetSchema, 409: refusedSchema, ...errorResponses, 500: errorSchema },
          },
        },
        async (req, reply) => {
          // No input: no body or an empty object (a schema would refuse the bodiless POST).
          const body: unknown = req.body;
          if (body !== undefined && body !== null && (typeof body !== 'object' || Object.keys(body).length > 0))
            throw badRequest('this route takes no body');
          try {
            const info = rules.reload();
            await app.vigil.audit(req, 'rules.reload', 'ruleset', info.version, {
              loaded: info.loaded,
              skipped: info.skipped,
            });
            return info;
          } catch (e) {
            if (!(e instanceof RulesError)) throw e;
            await app.vigil.audit(req, 'rules.reload_refused', 'ruleset', null, { error: e.message });
            return reply.code(409).send({
              error: {
                code: 'VIGIL_RULES_REFUSED',
                message: `ruleset refused, the previous one stays in use: ${e.message}`,
                errors: e.errors,
              },
            });
          }
        },
      );
    },
  };
}
