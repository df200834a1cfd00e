/** Threat-intelligence keywords: `dataset` (lookups of a sticky buffer in a named set) and `iprep`. */
import { fail, ok, splitArgs } from './common.js';
import type { KeywordDef } from './common.js';

const DATASET_CMDS = new Set(['isset', 'isnotset', 'set', 'unset']);
const DATASET_TYPES = new Set(['string', 'md5', 'sha256', 'ipv4', 'ip']);

export interface DatasetKw {
  cmd: 'isset' | 'isnotset' | 'set' | 'unset';
  name: string;
  type: string | null;
  load: string | null;
  buffer: string;
}

export interface IprepKw {
  side: 'src' | 'dst' | 'both' | 'any';
  category: string;
  op: '<' | '>' | '=';
  value: number;
}

export const INTEL_KEYWORDS: KeywordDef[] = [
  {
    // dataset:<cmd>,<name>[, type <t>][, load <file>][, state <file>][, save <file>][, memcap ..][, hashsize ..]
    name: 'dataset',
    kind: 'standalone',
    value: 'required',
    parse(v, ctx) {
      if (ctx.buffer === null) return fail('dataset needs a preceding sticky buffer');
      const parts = splitArgs(v!);
      const cmd = parts[0]?.trim() ?? '';
      const name = parts[1]?.trim() ?? '';
      if (!DATASET_CMDS.has(cmd)) return fail(`dataset: unknown command "${cmd}" (isset, isnotset, set, unset)`);
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) return fail(`dataset: bad name "${name}"`);
      let type: string | null = null;
      let load: string | null = null;
      for (const p of parts.slice(2)) {
        const m = /^(\S+)\s+(.+)$/.exec(p.trim());
        if (!m) return fail(`dataset: expected "key value", got "${p.trim()}"`);
        const [, k, val] = m as unknown as [string, string, string];
        if (k === 'type') {
          if (!DATASET_TYPES.has(val)) return fail(`dataset: unknown type "${val}"`);
          type = val;
        } else if (k === 'load' || k === 'state') load = val.trim();
        else if (!['save', 'memcap', 'hashsize', 'format', 'context_key', 'value_key', 'array_key'].includes(k))
          return fail(`dataset: unknown option "${k}"`);
      }
      const out: DatasetKw = { cmd: cmd as DatasetKw['cmd'], name, type, load, buffer: ctx.buffer };
      return ok(out);
    },
  },
  {
    // iprep:<src|dst|both|any>,<category>,<op>,<value>
    name: 'iprep',
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const parts = splitArgs(v!).map((p) => p.trim());
      if (parts.length !== 4) return fail('iprep: expected side,category,operator,value');
      const [side, category, op, value] = parts as [string, string, string, string];
      if (!['src', 'dst', 'both', 'any'].includes(side)) return fail(`iprep: bad side "${side}"`);
      if (!['<', '>', '='].includes(op)) return fail(`iprep: bad operator "${op}"`);
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 127) return fail('iprep: value must be 0..127');
      if (category === '') return fail('iprep: empty category');
      const out: IprepKw = { side: side as IprepKw['side'], category, op: op as IprepKw['op'], value: n };
      return ok(out);
    },
  },
];
