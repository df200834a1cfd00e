/** Meta keywords: msg, sid, rev, gid, classtype, priority, reference, metadata, target, rem, noalert, tag. */
import { fail, ok, parseUint, splitArgs, unquote } from './common.js';
import type { KeywordDef } from './common.js';

export const META_KEYWORDS: KeywordDef[] = [
  {
    name: 'msg',
    kind: 'meta',
    value: 'required',
    parse(v, ctx) {
      const s = unquote(v!);
      if (s === null) return fail('expected a double-quoted string');
      ctx.meta.msg = s;
      return ok(s);
    },
  },
  {
    name: 'sid',
    kind: 'meta',
    value: 'required',
    parse(v, ctx) {
      const n = parseUint(v!);
      if (n === null || n === 0) return fail('expected an integer 1..4294967295');
      ctx.meta.sid = n;
      return ok(n);
    },
  },
  {
    name: 'rev',
    kind: 'meta',
    value: 'required',
    parse(v, ctx) {
      const n = parseUint(v!);
      if (n === null) return fail('expected an unsigned integer');
      ctx.meta.rev = n;
      return ok(n);
    },
  },
  {
    name: 'gid',
    kind: 'meta',
    value: 'required',
    parse(v, ctx) {
      const n = parseUint(v!);
      if (n === null) return fail('expected an unsigned integer');
      ctx.meta.gid = n;
      return ok(n);
    },
  },
  {
    name: 'classtype',
    kind: 'meta',
    value: 'required',
    parse(v, ctx) {
      if (!/^[A-Za-z0-9_-]+$/.test(v!)) return fail('expected a classification short name');
      ctx.meta.classtype = v!.toLowerCase();
      return ok(ctx.meta.classtype);
    },
  },
  {
    name: 'priority',
    kind: 'meta',
    value: 'required',
    parse(v, ctx) {
      const n = parseUint(v!, 255);
      if (n === null || n === 0) return fail('expected an integer 1..255');
      ctx.meta.priority = n;
      return ok(n);
    },
  },
  {
    name: 'reference',
    kind: 'meta',
    value: 'required',
    parse(v, ctx) {
      const i = v!.indexOf(',');
      if (i <= 0 || i === v!.length - 1) return fail('expected system,id');
      const ref = { system: v!.slice(0, i).trim(), id: v!.slice(i + 1).trim() };
      ctx.meta.references.push(ref);
      return ok(ref);
    },
  },
  {
    name: 'metadata',
    kind: 'meta',
    value: 'required',
    parse(v, ctx) {
      const items = splitArgs(v!).filter((s) => s.length > 0);
      ctx.meta.metadata.push(...items);
      return ok(items);
    },
  },
  {
    name: 'target',
    kind: 'meta',
    value: 'required',
    parse(v, ctx) {
      if (v !== 'src_ip' && v !== 'dest_ip') return fail('expected src_ip or dest_ip');
      ctx.meta.target = v;
      return ok(v);
    },
  },
  {
    // rem:"..." (Snort 3): a remark, no effect on matching.
    name: 'rem',
    kind: 'meta',
    value: 'required',
    parse(v) {
      const s = unquote(v!);
      return s === null ? fail('expected a double-quoted string') : ok(s);
    },
  },
  {
    name: 'noalert',
    kind: 'meta',
    value: 'none',
    parse(_v, ctx) {
      ctx.meta.noalert = true;
      return ok(true);
    },
  },
  {
    // tag:session[,N,packets|seconds|bytes] or tag:host,N,unit,src|dst
    name: 'tag',
    kind: 'meta',
    value: 'required',
    parse(v) {
      const a = splitArgs(v!);
      const type = a[0];
      if (type !== 'session' && type !== 'host') return fail('expected session or host');
      let count: number | null = null;
      let unit: string | null = null;
      let dir: string | null = null;
      if (a.length >= 3) {
        count = parseUint(a[1]!);
        unit = a[2]!;
        if (count === null) return fail('count must be an unsigned integer');
        if (unit !== 'packets' && unit !== 'seconds' && unit !== 'bytes')
          return fail('unit must be packets, seconds or bytes');
        if (a.length >= 4) {
          dir = a[3]!;
          if (dir !== 'src' && dir !== 'dst') return fail('direction must be src or dst');
        }
      } else if (a.length !== 1) return fail('expected session|host[,count,unit[,src|dst]]');
      if (type === 'host' && dir === null && a.length > 1) return fail('tag:host needs src or dst');
      return ok({ type, count, unit, dir });
    },
  },
];
