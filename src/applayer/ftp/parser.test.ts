import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FtpConnection,
  MAX_LINE,
  MAX_PENDING_TX,
  MAX_REPLY_LINES,
  parseExtendedPort,
  parseHostPort,
} from './parser.js';
import { FTP_EVENT } from './events.js';
import { bytes, parseSession, summary, type Segment } from './test-util.js';

/** A whole session: greeting, a failed and a successful login, FEAT, passive and active modes. */
const SESSION: Segment[] = [
  [1, '220 Lab FTP ready.\r\n'],
  [0, 'USER ftpuser\r\n'],
  [1, '331 Username ok, send password.\r\n'],
  [0, 'PASS wrong\r\n'],
  [1, '530 Authentication failed.\r\n'],
  [0, 'USER ftpuser\r\nPASS s3cret\r\n'], // pipelined
  [1, '331 Username ok, send password.\r\n230 Login successful.\r\n'],
  [0, 'SYST\r\n'],
  [1, '215 UNIX Type: L8\r\n'],
  [0, 'FEAT\r\n'],
  [1, '211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n211 End\r\n'],
  [0, 'PASV\r\n'],
  [1, '227 Entering Passive Mode (10,0,0,2,195,80).\r\n'], // 195*256+80
  [0, 'EPSV\r\n'],
  [1, '229 Entering Extended Passive Mode (|||50001|)\r\n'],
  [0, 'PORT 10,0,0,1,156,64\r\n'], // 156*256+64
  [1, '200 PORT command successful.\r\n'],
  [0, 'EPRT |1|10.0.0.1|40001|\r\n'],
  [1, '200 EPRT command successful.\r\n'],
  [0, 'RETR file.txt\r\n'],
  [1, '150 Opening BINARY mode data connection.\r\n226 Transfer complete.\r\n'], // 1xx then final
  [0, 'QUIT\r\n'],
  [1, '221 Goodbye.\r\n'],
];

function streamLength(segs: Segment[], dir: 0 | 1): number {
  let n = 0;
  for (const [d, t] of segs) if (d === dir) n += t.length;
  return n;
}

test('parser: a whole session', () => {
  const { txs, conn } = parseSession(SESSION);
  assert.equal(conn.pendingCount, 0);
  assert.deepEqual(
    txs.map((t) => [t.command, t.commandData, t.replyCode]),
    [
      ['', '', 220],
      ['USER', 'ftpuser', 331],
      ['PASS', 'wrong', 530],
      ['USER', 'ftpuser', 331],
      ['PASS', 's3cret', 230],
      ['SYST', '', 215],
      ['FEAT', '', 211],
      ['PASV', '', 227],
      ['EPSV', '', 229],
      ['PORT', '10,0,0,1,156,64', 200],
      ['EPRT', '|1|10.0.0.1|40001|', 200],
      ['RETR', 'file.txt', 226],
      ['QUIT', '', 221],
    ],
  );
  assert.deepEqual(
    txs.map((t) => t.id),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  );
  assert.equal(conn.loginFailures, 1);
  assert.equal(conn.loginSuccesses, 1);
  const feat = txs[6]!;
  assert.deepEqual(feat.replyLines, ['211-Features:', ' EPRT', ' EPSV', ' MDTM', '211 End']);
  assert.deepEqual(feat.completionCodes, ['211', '211']);
  assert.deepEqual(
    txs.slice(7, 11).map((t) => [t.dynamicPort, t.mode]),
    [
      [50000, 'passive'],
      [50001, 'passive'],
      [40000, 'active'],
      [40001, 'active'],
    ],
  );
  assert.equal(txs[0]!.dynamicPort, -1);
  assert.equal(txs[0]!.mode, '');
  assert.deepEqual(txs[11]!.completionCodes, ['150', '226']);
  for (const t of txs) assert.deepEqual(t.events, []);
});

test('parser: the same transactions at every split point and byte by byte', () => {
  const want = parseSession(SESSION).txs.map(summary);
  for (const dir of [0, 1] as const) {
    const n = streamLength(SESSION, dir);
    for (let k = 1; k < n; k++) {
      const cuts: [number[], number[]] = dir === 0 ? [[k], []] : [[], [k]];
      assert.deepEqual(parseSession(SESSION, cuts).txs.map(summary), want, `dir ${dir} cut ${k}`);
    }
  }
  const all = (dir: 0 | 1): number[] => Array.from({ length: streamLength(SESSION, dir) }, (_, i) => i + 1);
  assert.deepEqual(parseSession(SESSION, [all(0), all(1)]).txs.map(summary), want);
});

test('parser: transactions are delivered as their final reply arrives', () => {
  const c = new FtpConnection();
  c.feed(1, bytes('220 hi\r\n'), 0, 8, 1);
  assert.equal(c.drain().length, 1);
  c.feed(0, bytes('USER a\r\nPASS b\r\n'), 0, 16, 2);
  assert.equal(c.pendingCount, 2);
  c.feed(1, bytes('331 ok\r\n230-Welcome'), 0, 19, 3);
  assert.deepEqual(
    c.drain().map((t) => t.command),
    ['USER'],
  );
  c.feed(1, bytes('\r\n230 in\r\n'), 0, 10, 4);
  const [pass] = c.drain();
  assert.equal(pass?.command, 'PASS');
  assert.equal(pass?.tsUs, 2);
  assert.equal(pass?.responseTsUs, 4); // when its first line was complete
  assert.equal(c.loginSuccesses, 1);
  // Unanswered at close: delivered without reply.
  c.feed(0, bytes('LIST\r\n'), 0, 6, 5);
  assert.equal(c.drain().length, 0);
  c.close(6);
  const [list] = c.drain();
  assert.equal(list?.command, 'LIST');
  assert.equal(list?.replyReceived, false);
  assert.equal(list?.replyCode, -1);
  c.feed(0, bytes('NOOP\r\n'), 0, 6, 7); // ignored after close
  assert.equal(c.pendingCount, 0);
});

test('parser: over-long lines are truncated, flagged and skipped to the next LF', () => {
  const long = 'A'.repeat(MAX_LINE + 100);
  const segs: Segment[] = [
    [0, `STOR ${long}\r\nNOOP\r\n`],
    [1, `500 ${long}\r\n200 ok\r\n`],
  ];
  const want = parseSession(segs).txs.map(summary);
  const [stor, noop] = parseSession(segs).txs;
  assert.equal(stor?.command, 'STOR');
  assert.equal(stor?.commandData.length, MAX_LINE - 5);
  assert.ok(stor?.commandTruncated);
  assert.ok(stor?.replyTruncated);
  assert.equal(stor?.replyLines[0]!.length, MAX_LINE);
  assert.deepEqual(stor?.events, [FTP_EVENT.REQUEST_COMMAND_TOO_LONG, FTP_EVENT.RESPONSE_COMMAND_TOO_LONG]);
  assert.equal(noop?.command, 'NOOP');
  assert.equal(noop?.replyCode, 200);
  // Cut inside the long line (buffered path) gives the same.
  for (const k of [1, 100, MAX_LINE - 1, MAX_LINE, MAX_LINE + 1, MAX_LINE + 50]) {
    assert.deepEqual(parseSession(segs, [[k], [k]]).txs.map(summary), want, `cut ${k}`);
  }
  // A line of exactly MAX_LINE bytes is kept whole.
  const exact = 'NOOP ' + 'x'.repeat(MAX_LINE - 5);
  const [t] = parseSession([[0, exact + '\r\n']]).txs;
  assert.equal(t?.commandTruncated, false);
  assert.equal(t?.commandData.length, MAX_LINE - 5);
});

test('parser: caps on pending commands and reply lines', () => {
  let cmds = '';
  for (let i = 0; i < MAX_PENDING_TX + 3; i++) cmds += 'NOOP\r\n';
  const c = new FtpConnection();
  c.feed(0, bytes(cmds), 0, cmds.length, 0);
  assert.equal(c.pendingCount, MAX_PENDING_TX);
  const early = c.drain();
  assert.equal(early.length, 3);
  assert.deepEqual(early[0]?.events, [FTP_EVENT.TOO_MANY_TRANSACTIONS]);

  let rep = '211-start\r\n';
  for (let i = 0; i < MAX_REPLY_LINES + 10; i++) rep += ` line ${i}\r\n`;
  rep += '211 end\r\n';
  const [feat] = parseSession([
    [0, 'FEAT\r\n'],
    [1, rep],
  ]).txs;
  assert.equal(feat?.replyLines.length, MAX_REPLY_LINES);
  assert.equal(feat?.replyReceived, true); // the end line still completes it
  assert.ok(feat?.replyTruncated);
  assert.deepEqual(feat?.events, [FTP_EVENT.TOO_MANY_REPLY_LINES]);
});

test('parser: odd input', () => {
  const { txs } = parseSession([
    [0, '\r\nnoop\r\nUSER'], // empty line ignored, lowercase command, last line unterminated
    [1, 'hello\r\n200 ok\r\n530 no'],
  ]);
  assert.deepEqual(
    txs.map((t) => [t.command, t.replyLines, t.replyCode, t.events]),
    [
      ['NOOP', ['hello', '200 ok'], 200, [FTP_EVENT.INVALID_REPLY]],
      ['USER', ['530 no'], 530, []], // unterminated lines parsed at close
    ],
  );
  // A reply with no command waiting (the greeting, a 421 timeout) opens its own transaction.
  const [t] = parseSession([[1, '421 Timeout.\r\n']]).txs;
  assert.equal(t?.command, '');
  assert.equal(t?.replyCode, 421);
});

test('parser: data-channel ports', () => {
  assert.equal(parseHostPort('10,0,0,1,156,64'), 40000);
  assert.equal(parseHostPort('Entering Passive Mode (192,168,1,2,4,1)'), 1025);
  assert.equal(parseHostPort('Entering Passive Mode 192,168,1,2,4,1'), 1025); // no parentheses
  assert.equal(parseHostPort('10,0,0,1,256,1'), -1);
  assert.equal(parseHostPort('10,0,0,1,4'), -1);
  assert.equal(parseHostPort('10,0,0,1,0,0'), -1);
  assert.equal(parseExtendedPort('|1|132.235.1.2|6275|', false), 6275);
  assert.equal(parseExtendedPort('|2|1080::8:800:200C:417A|5282|', false), 5282);
  assert.equal(parseExtendedPort('229 Entering Extended Passive Mode (|||6446|)', true), 6446);
  assert.equal(parseExtendedPort('229 Entering Extended Passive Mode (!!!6446!)', true), 6446);
  assert.equal(parseExtendedPort('229 Entering (|||70000|)', true), -1);
  assert.equal(parseExtendedPort('229 Entering (|||', true), -1);
  assert.equal(parseExtendedPort('', false), -1);
});

test('parser: random bytes never throw and the parser stays bounded', () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 8;
  };
  const alphabet = bytes('0123456789 -|(),\r\n\r\nUSERPASS227229530');
  for (let iter = 0; iter < 200; iter++) {
    const c = new FtpConnection();
    for (let seg = 0; seg < 20; seg++) {
      const len = 1 + (rnd() % 300);
      const buf = new Uint8Array(len);
      const text = rnd() % 2 === 0;
      for (let i = 0; i < len; i++) buf[i] = text ? alphabet[rnd() % alphabet.length]! : rnd() & 0xff;
      c.feed((rnd() & 1) as 0 | 1, buf, 0, len, seg);
      assert.ok(c.pendingCount <= MAX_PENDING_TX);
    }
    c.close(99);
    for (const t of c.drain()) assert.ok(t.replyLines.length <= MAX_REPLY_LINES);
  }
  // Still parses valid input afterwards.
  assert.equal(parseSession(SESSION).txs.length, 13);
});
