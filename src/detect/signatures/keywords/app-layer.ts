/**
 * App-layer protocol keywords: `app-layer-protocol` (Suricata), `service` (Snort 3's equivalent),
 * and the old `ssh.protoversion` / `ssh.softwareversion` value matches.
 */
import { fail, ok, splitArgs, unquote } from './common.js';
import type { KeywordDef } from './common.js';

/** An app-layer protocol name as Suricata and Snort 3 spell them (`http`, `http1`, `ftp-data`, `netbios-ssn`). */
const PROTO_NAME = /^[a-z][a-z0-9_-]*$/;

/** Which detected protocol `app-layer-protocol` looks at (Suricata 8); `direction` is the default. */
export const APP_PROTO_MODES = ['direction', 'to_server', 'to_client', 'either', 'final', 'original'] as const;
export type AppProtoMode = (typeof APP_PROTO_MODES)[number];

/** Value of `app-layer-protocol`. */
export interface AppLayerProtocol {
  negated: boolean;
  /** Lowercased protocol name; `failed` (detection gave up) and `unknown` (not yet known) are special. */
  proto: string;
  mode: AppProtoMode;
}

/** Snort 3 service names that Suricata (and the app-layer here) calls differently. */
const SERVICE_ALIASES: Record<string, string> = { ssl: 'tls' };

export const APP_LAYER_KEYWORDS: KeywordDef[] = [
  {
    // app-layer-protocol:[!]<proto>[,<mode>]
    name: 'app-layer-protocol',
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const [first, mode, extra] = splitArgs(v!);
      if (extra !== undefined) return fail('expected [!]<protocol>[,<mode>]');
      let name = first!;
      const negated = name.startsWith('!');
      if (negated) name = name.slice(1).trim();
      const proto = name.toLowerCase();
      if (!PROTO_NAME.test(proto)) return fail(`bad protocol name "${name}"`);
      // Suricata: "unknown" means detection has not concluded yet, which cannot be negated.
      if (negated && proto === 'unknown') return fail('unknown cannot be negated');
      const m = (mode ?? 'direction').toLowerCase();
      if (!(APP_PROTO_MODES as readonly string[]).includes(m)) return fail(`unknown mode "${mode}"`);
      const value: AppLayerProtocol = { negated, proto, mode: m as AppProtoMode };
      return ok(value);
    },
  },
  {
    // service:http,ssl (Snort 3): the flow's app-layer protocol is one of these. Names map to
    // Suricata's (ssl -> tls) so the engine can treat it like app-layer-protocol.
    name: 'service',
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const out: string[] = [];
      for (const raw of splitArgs(v!)) {
        const s = raw.toLowerCase();
        if (!PROTO_NAME.test(s)) return fail(`bad service name "${raw}"`);
        const name = SERVICE_ALIASES[s] ?? s;
        if (!out.includes(name)) out.push(name);
      }
      return ok(out);
    },
  },
  ...['ssh.protoversion', 'ssh.softwareversion'].map((name): KeywordDef => ({
    // Suricata 5 forms: ssh.protoversion:2.0 (or 2_compat), ssh.softwareversion:OpenSSH.
    name,
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const s = v!.startsWith('"') ? unquote(v!) : v!;
      if (s === null || s === '' || /[\s;]/.test(s)) return fail('expected a version or software name');
      return ok({ value: s });
    },
  })),
];
