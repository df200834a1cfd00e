/** Flow keywords: flow, flowbits, xbits, flowint, stream_size. */
import { fail, ok, parseUint, splitArgs } from './common.js';
import type { KeywordDef } from './common.js';

const FLOW_OPTS = new Set([
  'to_client',
  'to_server',
  'from_client',
  'from_server',
  'established',
  'not_established',
  'stateless',
  'only_stream',
  'no_stream',
  'only_frag',
  'no_frag',
]);

/** Options that exclude each other (Suricata rejects such rules). */
const EXCLUSIVE: [string, string][] = [
  ['to_client', 'to_server'],
  ['established', 'not_established'],
  ['established', 'stateless'],
  ['not_established', 'stateless'],
  ['only_stream', 'no_stream'],
  ['only_frag', 'no_frag'],
];

const BIT_NAME = /^[A-Za-z0-9_.-]+$/;
const BIT_CMDS = new Set(['set', 'unset', 'toggle', 'isset', 'isnotset']);

export const FLOW_KEYWORDS: KeywordDef[] = [
  {
    name: 'flow',
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const set = new Set<string>();
      for (const raw of splitArgs(v!)) {
        const o = raw === 'from_server' ? 'to_client' : raw === 'from_client' ? 'to_server' : raw;
        if (!FLOW_OPTS.has(o)) return fail(`unknown flow option "${raw}"`);
        if (set.has(o)) return fail(`flow option ${raw} given twice`);
        set.add(o);
      }
      for (const [a, b] of EXCLUSIVE) if (set.has(a) && set.has(b)) return fail(`${a} conflicts with ${b}`);
      return ok([...set]);
    },
  },
  {
    // flowbits:set,name; isset,a|b (any) or a&b (all); flowbits:noalert
    name: 'flowbits',
    kind: 'standalone',
    value: 'required',
    parse(v, ctx) {
      const a = splitArgs(v!);
      const cmd = a[0]!;
      if (cmd === 'noalert') {
        if (a.length !== 1) return fail('noalert takes no name');
        ctx.meta.noalert = true;
        return ok({ cmd, names: [] });
      }
      if (!BIT_CMDS.has(cmd)) return fail(`unknown flowbits command "${cmd}"`);
      if (a.length !== 2 || a[1] === '') return fail(`${cmd} needs one name`);
      const any = a[1]!.includes('|');
      const names = a[1]!.split(any ? '|' : '&').map((s) => s.trim());
      if (names.length > 1 && cmd !== 'isset' && cmd !== 'isnotset') return fail(`${cmd} takes one name`);
      for (const n of names) if (!BIT_NAME.test(n)) return fail(`bad flowbit name "${n}"`);
      return ok({ cmd, names, any });
    },
  },
  {
    // xbits:<cmd>,<name>,track <ip_src|ip_dst|ip_pair>[,expire <seconds>]
    name: 'xbits',
    kind: 'standalone',
    value: 'required',
    parse(v, ctx) {
      const a = splitArgs(v!);
      const cmd = a[0]!;
      if (cmd === 'noalert') {
        ctx.meta.noalert = true;
        return ok({ cmd });
      }
      if (!BIT_CMDS.has(cmd)) return fail(`unknown xbits command "${cmd}"`);
      const name = a[1];
      if (name === undefined || !BIT_NAME.test(name)) return fail('expected a bit name');
      const t = /^track\s+(ip_src|ip_dst|ip_pair|tx)$/.exec(a[2] ?? '');
      if (!t) return fail('expected track ip_src|ip_dst|ip_pair');
      let expire: number | null = null;
      if (a.length > 3) {
        const e = /^expire\s+(\d+)$/.exec(a[3]!);
        if (!e || a.length > 4) return fail('expected expire <seconds>');
        expire = Number(e[1]);
      }
      return ok({ cmd, name, track: t[1], expire });
    },
  },
  {
    // flowint:name,op[,value]  ops: = + - (modify), == != < <= > >= (compare), isset notset isnotset
    name: 'flowint',
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const a = splitArgs(v!);
      const [name, op, val] = a;
      if (name === undefined || !BIT_NAME.test(name)) return fail('expected a variable name');
      if (op === 'isset' || op === 'notset' || op === 'isnotset') {
        if (a.length !== 2) return fail(`${op} takes no value`);
        return ok({ name, op, value: null });
      }
      if (op === undefined || !['=', '+', '-', '==', '!=', '<', '<=', '>', '>='].includes(op))
        return fail(`unknown flowint operator "${op ?? ''}"`);
      if (val === undefined || a.length !== 3) return fail(`${op} needs a value`);
      const n = parseUint(val);
      if (n === null && !BIT_NAME.test(val)) return fail('value must be an integer or a variable name');
      return ok({ name, op, value: n ?? val });
    },
  },
  {
    // stream_size:<server|client|both|either>,<op>,<N>
    name: 'stream_size',
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const a = splitArgs(v!);
      if (a.length !== 3) return fail('expected <server|client|both|either>,<op>,<N>');
      const [side, op, val] = a as [string, string, string];
      if (!['server', 'client', 'both', 'either'].includes(side)) return fail(`bad side "${side}"`);
      if (!['>', '<', '=', '!=', '>=', '<='].includes(op)) return fail(`bad operator "${op}"`);
      const n = parseUint(val);
      if (n === null) return fail('expected an unsigned integer');
      return ok({ side, op, value: n });
    },
  },
];
