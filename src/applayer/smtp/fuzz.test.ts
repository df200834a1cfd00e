/**
 * Properties of the SMTP parser over generated, random and mutated sessions fed in random pieces
 * (seeded, reproducible; more iterations under CI): nothing throws, every kept list and byte count
 * stays within its cap, any split of a valid session gives the same transactions, and the parser
 * still decodes valid input afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../test/fuzz/prng.js';
import { MAX_HEADERS, MAX_PARTS, MAX_URLS } from './mime.js';
import { MAX_PENDING_COMMANDS, MAX_PENDING_TX, MAX_RCPT, SmtpConnection, type SmtpTransaction } from './parser.js';
import { bytes, summary, type Segment } from './test-util.js';

const CI = process.env['CI'] !== undefined;
const LIMITS = { fileLimit: 2048, bodyLimit: 512, txDataLimit: 3000 };

type Rnd = () => number;
const int = (r: Rnd, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rnd, a: readonly T[]): T => a[int(r, a.length)]!;

/** A random but well-formed session: greeting, EHLO, a few mails with MIME messages, QUIT. */
function session(r: Rnd): Segment[] {
  const segs: Segment[] = [
    [1, '220 mx.example.org ESMTP\r\n'],
    [0, 'EHLO c.example\r\n'],
    [1, '250-mx\r\n250 PIPELINING\r\n'],
  ];
  const mails = 1 + int(r, 3);
  for (let m = 0; m < mails; m++) {
    const rc = 1 + int(r, 3);
    let cmds = `MAIL FROM:<s${m}@example.com>\r\n`;
    let reps = '250 ok\r\n';
    for (let i = 0; i < rc; i++) {
      cmds += `RCPT TO:<r${i}@example.org>\r\n`;
      reps += '250 ok\r\n';
    }
    segs.push([0, cmds + 'DATA\r\n'], [1, reps + '354 go\r\n'], [0, message(r) + '.\r\n'], [1, '250 queued\r\n']);
  }
  segs.push([0, 'QUIT\r\n'], [1, '221 bye\r\n']);
  return segs;
}

/** A dot-stuffed MIME message (without the end line). */
function message(r: Rnd): string {
  let s = `From: a@example.com\r\nTo: b@example.org, c@example.org\r\nSubject: s${int(r, 1000)}\r\n`;
  const line = (): string => {
    const words = ['hello', '.dot', '..two', 'http://x.example/p', '=3D', 'caf\xe9', ' ', '-', '--'];
    let l = '';
    for (let i = int(r, 8); i > 0; i--) l += pick(r, words) + ' ';
    return l.startsWith('.') ? '.' + l : l; // dot-stuffing (RFC 5321 4.5.2)
  };
  if (r() < 0.3) return s + '\r\n' + line() + '\r\n' + line() + '\r\n';
  s += 'Content-Type: multipart/mixed; boundary="BB"\r\n\r\npreamble\r\n';
  for (let p = 1 + int(r, 3); p > 0; p--) {
    s += '--BB\r\n';
    const kind = int(r, 3);
    if (kind === 0) s += 'Content-Type: text/plain\r\n\r\n' + line() + '\r\n' + line() + '\r\n';
    else if (kind === 1) s += 'Content-Transfer-Encoding: quoted-printable\r\n\r\nA=3DB soft=\r\nbreak\r\n';
    else {
      const data = Buffer.alloc(int(r, 4000));
      for (let i = 0; i < data.length; i++) data[i] = int(r, 256);
      s += `Content-Disposition: attachment; filename="f${p}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
      s += data.toString('base64').replace(/.{76}/g, '$&\r\n') + '\r\n';
    }
  }
  return s + '--BB--\r\n';
}

/** Feeds `segs` with each segment cut at random points; returns the transactions. */
function feed(segs: Segment[], r: Rnd, check?: (c: SmtpConnection) => void): SmtpTransaction[] {
  const c = new SmtpConnection(LIMITS);
  for (const [dir, text] of segs) {
    const data = bytes(text);
    let at = 0;
    while (at < data.length) {
      const n = 1 + int(r, r() < 0.5 ? 8 : 600);
      const k = Math.min(n, data.length - at);
      c.feed(dir, data, at, k, 0);
      at += k;
      if (check !== undefined) check(c);
    }
  }
  c.close();
  return c.drain();
}

function assertBounded(txs: SmtpTransaction[]): void {
  for (const t of txs) {
    assert.ok(t.rcptTo.length <= MAX_RCPT);
    assert.ok(t.headers.length <= MAX_HEADERS);
    assert.ok(t.attachments.length + t.bodies.length <= MAX_PARTS);
    assert.ok(t.urls.length <= MAX_URLS);
    let kept = 0;
    for (const p of [...t.attachments, ...t.bodies]) {
      assert.ok(p.data.length <= (p.attachment ? LIMITS.fileLimit : LIMITS.bodyLimit));
      assert.ok(p.data.length <= p.size);
      kept += p.data.length;
    }
    assert.ok(kept <= LIMITS.txDataLimit);
    assert.ok(t.done && t.delivered);
  }
}

const bounded = (c: SmtpConnection): void => {
  assert.ok(c.pendingCount <= MAX_PENDING_TX);
  assert.ok(c.pendingCommands <= MAX_PENDING_COMMANDS);
};

test('fuzz: valid sessions give the same transactions at any split', () => {
  const r = mulberry32(0x5eed);
  for (let i = 0; i < (CI ? 300 : 60); i++) {
    const segs = session(r);
    const want = feed(segs, () => 0.999).map(summary); // large pieces
    const got = feed(segs, r, bounded);
    assert.deepEqual(got.map(summary), want, `session ${i}`);
    assertBounded(got);
    for (const t of got) {
      assert.equal(t.mimeStatus, 'PARSE_DONE');
      assert.equal(t.dataReplyCode, 250);
    }
  }
});

test('fuzz: random and mutated sessions never throw and stay bounded', () => {
  const r = mulberry32(1234567);
  const alphabet = bytes(
    '0123456789 -.:<>@=\r\n\r\n\r\n.\r\n220 250-354 334 235 535 EHLO MAIL FROM:RCPT TO:DATA BDAT 12 LAST STARTTLS AUTH RSET ' +
      'QUIT Content-Type: multipart/mixed; boundary=B --B Content-Transfer-Encoding: base64 quoted-printable filename*0*=',
  );
  const start = Date.now();
  const iters = CI ? 3000 : 400;
  for (let i = 0; i < iters; i++) {
    let segs: Segment[];
    if (i % 2 === 0) {
      // Mutate a valid session: flip, insert, delete bytes, duplicate or drop segments.
      segs = session(r).map(([d, t]) => [d, t] as Segment);
      for (let m = 1 + int(r, 8); m > 0; m--) {
        const s = int(r, segs.length);
        const [d, t] = segs[s]!;
        const at = int(r, t.length + 1);
        const op = int(r, 5);
        let nt = t;
        if (op === 0) nt = t.slice(0, at) + String.fromCharCode(int(r, 256)) + t.slice(at + 1);
        else if (op === 1) nt = t.slice(0, at) + String.fromCharCode(alphabet[int(r, alphabet.length)]!) + t.slice(at);
        else if (op === 2) nt = t.slice(0, at) + t.slice(at + 1 + int(r, 50));
        else if (op === 3) segs.splice(s, 0, [d, t]);
        else segs.splice(s, 1);
        if (op <= 2) segs[s] = [d, nt];
      }
    } else {
      segs = [];
      for (let s = int(r, 30); s > 0; s--) {
        const n = 1 + int(r, 400);
        const text = r() < 0.7;
        let t = '';
        for (let k = 0; k < n; k++) t += String.fromCharCode(text ? alphabet[int(r, alphabet.length)]! : int(r, 256));
        segs.push([int(r, 2) as 0 | 1, t]);
      }
    }
    assertBounded(feed(segs, r, bounded));
  }
  // Time-capped: a few thousand sessions must not take long (no quadratic path).
  assert.ok(Date.now() - start < (CI ? 120_000 : 30_000));
  // Still decodes valid input afterwards.
  const segs = session(mulberry32(9));
  const txs = feed(segs, mulberry32(10));
  assert.equal(txs[0]!.mimeStatus, 'PARSE_DONE');
});

test('fuzz: endless input in one direction keeps memory bounded', () => {
  // A client that never ends its DATA, then a client streaming commands with no replies.
  const c = new SmtpConnection(LIMITS);
  c.feed(0, bytes('HELO c\r\nDATA\r\n'), 0, 14, 0);
  const attach = bytes('Content-Disposition: attachment; filename=x\r\nContent-Transfer-Encoding: base64\r\n\r\n');
  c.feed(0, attach, 0, attach.length, 0);
  const chunk = bytes('QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n'.repeat(50));
  for (let i = 0; i < 2000; i++) c.feed(0, chunk, 0, chunk.length, i);
  c.close();
  const [tx] = c.drain();
  assert.equal(tx!.attachments[0]!.data.length, LIMITS.fileLimit);
  assert.equal(tx!.attachments[0]!.size, 2000 * 50 * 57);
  assert.equal(tx!.mimeStatus, 'BODY_STARTED');

  const d = new SmtpConnection(LIMITS);
  const cmds = bytes('MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\n');
  for (let i = 0; i < 5000; i++) {
    d.feed(0, cmds, 0, cmds.length, i);
    bounded(d);
    d.drain();
  }
});
