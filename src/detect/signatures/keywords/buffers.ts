/**
 * Inspection buffers: sticky buffers (`http.uri;` then contents), the legacy content modifiers
 * (`content:"x"; http_uri;`), transforms of a sticky buffer, and `bsize`.
 */
import { fail, ok, parseUintCompare, unquote } from './common.js';
import type { KeywordDef } from './common.js';

/**
 * Sticky buffers: keyword -> canonical buffer name. Legacy underscore spellings that Suricata still
 * accepts as sticky buffers map to the dotted name.
 */
export const STICKY_BUFFERS: Record<string, string> = {
  pkt_data: 'pkt_data',
  'file.data': 'file.data',
  file_data: 'file.data',
  base64_data: 'base64_data',
  'http.uri': 'http.uri',
  'http.uri.raw': 'http.uri.raw',
  'http.method': 'http.method',
  'http.header': 'http.header',
  'http.header.raw': 'http.header.raw',
  'http.header_names': 'http.header_names',
  'http.host': 'http.host',
  'http.host.raw': 'http.host.raw',
  'http.user_agent': 'http.user_agent',
  'http.cookie': 'http.cookie',
  'http.request_body': 'http.request_body',
  'http.response_body': 'http.response_body',
  'http.stat_code': 'http.stat_code',
  'http.stat_msg': 'http.stat_msg',
  'http.content_type': 'http.content_type',
  http_content_type: 'http.content_type',
  'http.content_len': 'http.content_len',
  'http.request_line': 'http.request_line',
  'http.response_line': 'http.response_line',
  'http.start': 'http.start',
  'http.referer': 'http.referer',
  'http.location': 'http.location',
  'http.server': 'http.server',
  'http.accept': 'http.accept',
  http_accept: 'http.accept',
  'http.accept_enc': 'http.accept_enc',
  'http.accept_lang': 'http.accept_lang',
  'http.connection': 'http.connection',
  'http.protocol': 'http.protocol',
  'dns.query': 'dns.query',
  dns_query: 'dns.query',
  'tls.sni': 'tls.sni',
  tls_sni: 'tls.sni',
  'tls.certs': 'tls.certs',
  'tls.cert_subject': 'tls.cert_subject',
  tls_cert_subject: 'tls.cert_subject',
  'tls.cert_issuer': 'tls.cert_issuer',
  tls_cert_issuer: 'tls.cert_issuer',
  'tls.cert_serial': 'tls.cert_serial',
  tls_cert_serial: 'tls.cert_serial',
  'ja3.hash': 'ja3.hash',
  ja3_hash: 'ja3.hash',
  'ja3.string': 'ja3.string',
  'ja3s.hash': 'ja3s.hash',
  'ssh.proto': 'ssh.proto',
  ssh_proto: 'ssh.proto',
  'ssh.software': 'ssh.software',
  ssh_software: 'ssh.software',
  http_request_line: 'http.request_line',
  http_response_line: 'http.response_line',
  http_header_names: 'http.header_names',
  'http.request_header': 'http.request_header',
  'http.response_header': 'http.response_header',
  'tls.cert_fingerprint': 'tls.cert_fingerprint',
  tls_cert_fingerprint: 'tls.cert_fingerprint',
  'tls.subjectaltname': 'tls.subjectaltname',
  'ja4.hash': 'ja4.hash',
  'dns.answer.name': 'dns.answer.name',
  // Packet headers as raw bytes (Suricata 6+): the header only, options included, payload excluded.
  'ipv4.hdr': 'ipv4.hdr',
  'ipv6.hdr': 'ipv6.hdr',
  'tcp.hdr': 'tcp.hdr',
  'udp.hdr': 'udp.hdr',
  'icmpv4.hdr': 'icmpv4.hdr',
  'icmpv6.hdr': 'icmpv6.hdr',
};

/** Legacy content modifiers (Suricata 4 style): keyword -> the buffer they move the content to. */
export const LEGACY_BUFFER_MODIFIERS: Record<string, string> = {
  http_uri: 'http.uri',
  http_raw_uri: 'http.uri.raw',
  http_method: 'http.method',
  http_header: 'http.header',
  http_raw_header: 'http.header.raw',
  http_host: 'http.host',
  http_raw_host: 'http.host.raw',
  http_user_agent: 'http.user_agent',
  http_cookie: 'http.cookie',
  http_client_body: 'http.request_body',
  http_server_body: 'http.response_body',
  http_stat_code: 'http.stat_code',
  http_stat_msg: 'http.stat_msg',
};

/** Transforms without an argument. */
const TRANSFORMS = [
  'dotprefix',
  'to_lowercase',
  'to_uppercase',
  'strip_whitespace',
  'compress_whitespace',
  'url_decode',
  'to_md5',
  'to_sha1',
  'to_sha256',
  'header_lowercase',
  'strip_pseudo_headers',
];

function sticky(name: string, buffer: string): KeywordDef {
  return {
    name,
    kind: 'sticky',
    value: 'none',
    parse(_v, ctx) {
      ctx.buffer = buffer === 'pkt_data' ? null : buffer;
      ctx.transforms = [];
      ctx.last = null;
      return ok(buffer);
    },
  };
}

function legacy(name: string, buffer: string): KeywordDef {
  return {
    name,
    kind: 'modifier',
    value: 'none',
    parse(_v, ctx) {
      const c = ctx.last;
      if (c === null || c.kind !== 'content') return fail(`${name} needs a preceding content`);
      if (c.buffer !== null && c.buffer !== buffer)
        return fail(`${name} cannot apply to a content in sticky buffer ${c.buffer}`);
      c.buffer = buffer;
      return ok(buffer);
    },
  };
}

function transform(name: string, arg: 'none' | 'required'): KeywordDef {
  return {
    name,
    kind: 'transform',
    value: arg,
    parse(v, ctx) {
      if (ctx.buffer === null) return fail(`${name} needs a preceding sticky buffer`);
      let a: string | null = null;
      if (arg === 'required') {
        a = unquote(v!);
        if (a === null) return fail('expected a double-quoted argument');
        if (name === 'xor' && !/^([0-9a-fA-F]{2})+$/.test(a)) return fail('xor key must be hex bytes');
        if (name === 'pcrexform') {
          try {
            new RegExp(a);
          } catch (e) {
            return fail(`pattern does not compile: ${(e as Error).message}`);
          }
        }
      }
      const t = { name, arg: a };
      ctx.transforms.push(t);
      return ok(t);
    },
  };
}

export const BUFFER_KEYWORDS: KeywordDef[] = [
  ...Object.entries(STICKY_BUFFERS).map(([k, b]) => sticky(k, b)),
  ...Object.entries(LEGACY_BUFFER_MODIFIERS).map(([k, b]) => legacy(k, b)),
  ...TRANSFORMS.map((t) => transform(t, 'none')),
  transform('xor', 'required'),
  transform('pcrexform', 'required'),
  {
    // bsize: size of the current sticky buffer, with the usual comparisons.
    name: 'bsize',
    kind: 'standalone',
    value: 'required',
    parse(v, ctx) {
      if (ctx.buffer === null) return fail('bsize needs a preceding sticky buffer');
      const c = parseUintCompare(v!, 0xffffffff);
      return typeof c === 'string' ? fail(c) : ok({ buffer: ctx.buffer, ...c });
    },
  },
];
