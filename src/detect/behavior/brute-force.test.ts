import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FtpRecord, HttpRecord, SshRecord } from '../../applayer/app-layer.js';
import { FtpTransaction } from '../../applayer/ftp/parser.js';
import { HttpTransaction } from '../../applayer/http/parser.js';
import { SshConnection } from '../../applayer/ssh/parser.js';
import type { FlowRecord, FlowTuple } from '../../flow/table.js';
import { synthBatch } from '../../flow/synth.js';
import { defaultBehaviorConfig } from './config.js';
import { homeMatcher } from './engine.js';
import { parseIp } from '../../flow/key.js';
import {
  BRUTE_FORCE_NAME,
  createBruteForce,
  httpOutcome,
  isPasswordField,
  isUserField,
  loginAttempt,
} from './brute-force.js';
import type { BehaviorAlert, BehaviorDetector } from './types.js';

const ATTACKER = '10.66.0.66';
const SERVER = '10.66.0.10';
const S = 1_000_000;
const T0 = 1_700_000_000 * S;

function setup(params: Record<string, number> = {}): { det: BehaviorDetector; alerts: BehaviorAlert[] } {
  const cfg = defaultBehaviorConfig();
  Object.assign(cfg.params[BRUTE_FORCE_NAME]!, params);
  const alerts: BehaviorAlert[] = [];
  const isHome = homeMatcher({});
  const w = new Uint32Array(4);
  const det = createBruteForce({
    cfg,
    shards: 1,
    emit: (a) => alerts.push(a),
    isHome,
    isHomeIp: (ip) => isHome(parseIp(ip, w, 0), w, 0),
  });
  return { det, alerts };
}

let nextFlow = 1;
const tuple = (dport: number, src = ATTACKER, flowId = nextFlow++): FlowTuple => ({
  flowId,
  srcIp: src,
  dstIp: SERVER,
  srcPort: 40000 + (flowId % 20000),
  dstPort: dport,
  proto: 6,
});

function ftp(flow: FlowTuple, ts: number, command: string, data: string, code: number): FtpRecord {
  const tx = new FtpTransaction(0);
  tx.tsUs = ts;
  tx.command = command;
  tx.commandData = data;
  tx.replyCode = code;
  tx.replyReceived = true;
  return { kind: 'ftp', slot: 0, tsUs: ts, flow, tx };
}

/** USER + PASS on one control connection. */
function ftpLogin(det: BehaviorDetector, ts: number, user: string, pass: string, code: number): void {
  const f = tuple(21);
  det.app!(ftp(f, ts, 'USER', user, 331));
  det.app!(ftp(f, ts + 1000, 'PASS', pass, code));
}

function http(
  ts: number,
  opts: { body?: string; uri?: string; status: number; length?: number; location?: string; page?: string },
): HttpRecord {
  const tx = new HttpTransaction(0);
  tx.tsUs = ts;
  tx.method = opts.body !== undefined ? 'POST' : 'GET';
  tx.uriRaw = opts.uri ?? '/login';
  tx.contentType = 'application/x-www-form-urlencoded';
  if (opts.body !== undefined) {
    tx.requestBody = Buffer.from(opts.body);
    tx.requestBodyLength = tx.requestBody.length;
  }
  tx.status = opts.status;
  tx.location = opts.location ?? '';
  const page = opts.page ?? '<html>Login</html>';
  tx.responseBody = Buffer.from(page);
  tx.responseBodyLength = opts.length ?? page.length;
  return { kind: 'http', slot: 0, tsUs: ts, flow: tuple(80), tx };
}

function sshFlow(ts: number, opts: { durS?: number; bytes?: number; src?: string } = {}): FlowRecord {
  const bytes = opts.bytes ?? 6000;
  return {
    flowId: nextFlow++,
    ipVer: 4,
    srcIp: opts.src ?? ATTACKER,
    dstIp: SERVER,
    srcPort: 50000,
    dstPort: 22,
    proto: 6,
    vlan: [],
    startUs: ts,
    endUs: ts + (opts.durS ?? 0.4) * S,
    pktsToServer: 17,
    pktsToClient: 18,
    bytesToServer: bytes / 2,
    bytesToClient: bytes / 2,
    state: 'closed',
    tcp: { flags: 0x1b, flagsTs: 0x1b, flagsTc: 0x1b, state: 'closed' },
    reason: 'timeout',
    communityId: '',
    slot: 0,
    appProto: 'ssh',
    alerted: false,
    features: null,
  };
}

test('field names: password and user fields, not look-alikes', () => {
  for (const n of ['password', 'passwd', 'pass', 'j_password', 'userPassword', 'login[password]', 'pwd', 'pw'])
    assert.ok(isPasswordField(n), n);
  for (const n of ['passenger', 'passport', 'q', 'comment', 'pwdump_file', 'new_user'])
    assert.ok(!isPasswordField(n), n);
  for (const n of ['username', 'user', 'login', 'email', 'user_id', 'log']) assert.ok(isUserField(n), n);
  assert.ok(!isUserField('password'));
});

test('login attempts: form body, JSON body, query string, HTTP Basic; ordinary POSTs are not', () => {
  const form = http(T0, { body: 'username=admin&password=x%21y', status: 200 });
  assert.equal(loginAttempt(form.tx)?.user, 'admin');
  const json = http(T0, { body: '{"email":"a@b.c","password":"hunter2"}', status: 401 });
  json.tx.contentType = 'application/json';
  assert.equal(loginAttempt(json.tx)?.user, 'a@b.c');
  const get = http(T0, { uri: '/auth?user=bob&pass=1234', status: 200 });
  assert.equal(loginAttempt(get.tx)?.user, 'bob');
  const basic = http(T0, { status: 401 });
  basic.tx.requestHeaders = [['Authorization', `Basic ${Buffer.from('root:toor').toString('base64')}`]];
  assert.equal(loginAttempt(basic.tx)?.user, 'root');
  assert.equal(loginAttempt(http(T0, { body: 'comment=Great+lamp%21', status: 200 }).tx), null);
  // Same user and password give the same credential identity; a different password does not.
  const a = loginAttempt(http(T0, { body: 'username=admin&password=1', status: 200 }).tx)!;
  const b = loginAttempt(http(T0, { body: 'password=1&username=admin&csrf=zz', status: 200 }).tx)!;
  const c = loginAttempt(http(T0, { body: 'username=admin&password=2', status: 200 }).tx)!;
  assert.equal(a.cred, b.cred);
  assert.notEqual(a.cred, c.cred);
});

test('HTTP outcomes: 401/403, redirect back to login, failure text, success redirect, ambiguous page', () => {
  assert.equal(httpOutcome(http(T0, { body: 'p=1', status: 401 }).tx), 1);
  assert.equal(httpOutcome(http(T0, { body: 'p=1', status: 302, location: '/login?error=1' }).tx), 1);
  assert.equal(httpOutcome(http(T0, { body: 'p=1', status: 302, location: 'https://shop.example/account' }).tx), 2);
  assert.equal(httpOutcome(http(T0, { body: 'p=1', status: 200, page: '<p>Invalid username or password</p>' }).tx), 1);
  assert.equal(
    httpOutcome(http(T0, { body: 'p=1', status: 200, page: '<p>The password you entered is incorrect.</p>' }).tx),
    1,
  );
  assert.equal(httpOutcome(http(T0, { body: 'p=1', status: 200, page: '<p>Welcome back</p>' }).tx), 3);
  assert.equal(httpOutcome(http(T0, { body: 'p=1', status: 500 }).tx), 0);
});

test('FTP: a word list of failed PASS raises one alert with the user name', () => {
  const { det, alerts } = setup();
  for (let k = 0; k < 20; k++) ftpLogin(det, T0 + k * 0.5 * S, 'ftpuser', `guess${k}`, 530);
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.type, 'brute_force');
  assert.equal(a.sid, 9200301);
  assert.equal(a.srcIp, ATTACKER);
  assert.equal(a.dstIp, SERVER);
  assert.equal(a.dstPort, 21);
  assert.deepEqual(a.mitre, ['T1110', 'T1110.001']);
  assert.deepEqual(a.evidence['failures'], [8]);
  assert.deepEqual(a.evidence['usernames'], ['ftpuser']);
  assert.deepEqual(a.evidence['service'], ['ftp']);
  // Raised at the eighth failure, not at the end.
  assert.equal(a.tsUs, T0 + 7 * 0.5 * S + 1000);
});

test('FTP near misses: two typos then success; one stale password retried; failures spread over hours', () => {
  const { det, alerts } = setup();
  ftpLogin(det, T0, 'alice', 'Sunset#2023', 530);
  ftpLogin(det, T0 + 5 * S, 'alice', 'sunset#2024', 530);
  ftpLogin(det, T0 + 10 * S, 'alice', 'Sunset#2024', 230);
  // A client with a saved wrong password re-trying it: one credential, not guessing.
  for (let k = 0; k < 30; k++) ftpLogin(det, T0 + 20 * S + k * 10 * S, 'backup', 'old-password', 530);
  // Seven distinct failures an hour apart never share a window.
  for (let k = 0; k < 12; k++) ftpLogin(det, T0 + 3600 * S * (k + 1), 'bob', `p${k}`, 530);
  assert.equal(alerts.length, 0);
});

test('HTTP form brute force: same 200 page for every password (hydra http-post-form), and 401s', () => {
  const { det, alerts } = setup();
  for (let k = 0; k < 30; k++)
    det.app!(http(T0 + k * 0.1 * S, { body: `username=admin&password=pw${k}`, status: 200, length: 406 }));
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.sid, 9200302);
  assert.deepEqual(alerts[0]!.evidence['usernames'], ['admin']);
  assert.deepEqual(alerts[0]!.evidence['failures'], [8]);

  const b = setup();
  for (let k = 0; k < 10; k++)
    b.det.app!(http(T0 + k * S, { body: `{"username":"u${k}","password":"Winter2024"}`, status: 401 }));
  assert.equal(b.alerts.length, 1);
  assert.equal((b.alerts[0]!.evidence['usernames'] ?? []).length, 5);
});

test('HTTP near misses: a user mistyping twice then logging in; many different pages; GETs of the form', () => {
  const { det, alerts } = setup();
  det.app!(http(T0, { uri: '/login', status: 200 }));
  det.app!(http(T0 + 3 * S, { body: 'username=mchen&password=Spring!2025', status: 401 }));
  det.app!(http(T0 + 8 * S, { body: 'username=mchen&password=spring!2026', status: 401 }));
  det.app!(http(T0 + 12 * S, { body: 'username=mchen&password=Spring!2026', status: 302, location: '/account' }));
  // An app that returns a different page per login (e.g. a fresh token) is not "the same response".
  for (let k = 0; k < 20; k++)
    det.app!(http(T0 + 60 * S + k * S, { body: `username=svc&password=p${k}`, status: 200, length: 500 + k }));
  for (let k = 0; k < 50; k++) det.app!(http(T0 + 100 * S + k * S, { uri: '/login', status: 200, length: 359 }));
  assert.equal(alerts.length, 0);
});

test('SSH: many short sessions from one source alert once; one session with a failed password does not', () => {
  const { det, alerts } = setup();
  const c = new SshConnection();
  const banner = Buffer.from('SSH-2.0-libssh_0.10.6\r\n');
  c.feed(0, banner, 0, banner.length, T0);
  det.app!({ kind: 'ssh', slot: 0, tsUs: T0, flow: tuple(22), conn: c } satisfies SshRecord);
  for (let k = 0; k < 20; k++) det.flowEnd!(sshFlow(T0 + k * 8 * S));
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.sid, 9200304);
  assert.equal(a.dstPort, 22);
  assert.deepEqual(a.evidence['short_sessions'], [6]);
  assert.deepEqual(a.evidence['client_software'], ['libssh_0.10.6']);

  const n = setup();
  // One interactive session with a typo, a long admin session, and five scripted logins: no alert.
  n.det.flowEnd!(sshFlow(T0, { durS: 4.3, bytes: 10300, src: '10.55.0.21' }));
  n.det.flowEnd!(sshFlow(T0 + 10 * S, { durS: 1800, bytes: 2_000_000, src: '10.55.0.21' }));
  for (let k = 0; k < 5; k++) n.det.flowEnd!(sshFlow(T0 + k * 30 * S, { src: '10.55.0.22' }));
  // Sessions that moved data (scp) are not authentication sessions.
  for (let k = 0; k < 20; k++) n.det.flowEnd!(sshFlow(T0 + k * 5 * S, { bytes: 500_000, src: '10.55.0.23' }));
  assert.equal(n.alerts.length, 0);
});

test('Telnet: "Login incorrect" from the server counts, a retransmission once', () => {
  const { det, alerts } = setup();
  const msg = Buffer.from('\r\nLogin incorrect\r\nlogin: ');
  const list = [];
  for (let k = 0; k < 10; k++) {
    const p = {
      ts: T0 + k * 3 * S,
      src: SERVER,
      dst: ATTACKER,
      sport: 23,
      dport: 40000 + k,
      flags: 0x18,
      payload: msg,
    };
    list.push(p);
    if (k < 9) list.push({ ...p, ts: p.ts + 200_000 }); // retransmitted
  }
  const { pkts, dec } = synthBatch(list);
  for (let i = 0; i < dec.count; i++) dec.tcpSeq[i] = 1000 + Math.floor(i / 2);
  det.packets!(pkts, dec);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.sid, 9200303);
  assert.equal(alerts[0]!.srcIp, ATTACKER);
  assert.equal(alerts[0]!.dstIp, SERVER);
  // Eight distinct failures: the eighth server line, k = 7.
  assert.equal(alerts[0]!.tsUs, T0 + 7 * 3 * S);

  // The same text on another port, or in a long data segment, is not a Telnet login.
  const n = setup();
  const other = synthBatch(
    Array.from({ length: 10 }, (_, k) => ({
      ts: T0 + k * S,
      src: SERVER,
      dst: ATTACKER,
      sport: 8080,
      dport: 40000,
      payload: msg,
    })),
  );
  n.det.packets!(other.pkts, other.dec);
  assert.equal(n.alerts.length, 0);
});

test('other authentication ports: many short sessions (RDP) alert; a scan of the port does not', () => {
  const { det, alerts } = setup();
  for (let k = 0; k < 25; k++) {
    const f = sshFlow(T0 + k * 2 * S, { bytes: 9000 });
    f.dstPort = 3389;
    f.appProto = 'tls';
    det.flowEnd!(f);
  }
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.sid, 9200305);
  assert.deepEqual(alerts[0]!.evidence['service'], ['rdp']);

  const n = setup();
  for (let k = 0; k < 100; k++) {
    const f = sshFlow(T0 + k * 0.01 * S, { bytes: 120 });
    f.dstPort = 3389;
    f.appProto = undefined;
    f.tcp = { flags: 0x16, flagsTs: 0x06, flagsTc: 0x12, state: 'closed' }; // SYN, SYN-ACK, RST: connect scan
    n.det.flowEnd!(f);
  }
  assert.equal(n.alerts.length, 0);
});

test('config override: min_failures and ssh_min_sessions from ctx.cfg.params', () => {
  const { det, alerts } = setup({ min_failures: 3, ssh_min_sessions: 30 });
  for (let k = 0; k < 3; k++) ftpLogin(det, T0 + k * S, 'root', `x${k}`, 530);
  assert.equal(alerts.length, 1);
  for (let k = 0; k < 20; k++) det.flowEnd!(sshFlow(T0 + k * 5 * S));
  assert.equal(alerts.length, 1);
});

test('one alert per episode; a new episode after a quiet window alerts again', () => {
  const { det, alerts } = setup();
  for (let k = 0; k < 40; k++) ftpLogin(det, T0 + k * S, 'ftpuser', `a${k}`, 530);
  assert.equal(alerts.length, 1);
  const later = T0 + 40 * S + 301 * S;
  for (let k = 0; k < 10; k++) ftpLogin(det, later + k * S, 'ftpuser', `b${k}`, 530);
  assert.equal(alerts.length, 2);
});

test('a success after many failures is critical', () => {
  const { det, alerts } = setup({ min_failures: 10 });
  for (let k = 0; k < 9; k++) ftpLogin(det, T0 + k * S, 'ftpuser', `a${k}`, 530);
  ftpLogin(det, T0 + 9 * S, 'ftpuser', 'ftp-Secret9', 230);
  ftpLogin(det, T0 + 10 * S, 'ftpuser', 'a10', 530);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.severity, 'critical');
  assert.deepEqual(alerts[0]!.evidence['successes'], [1]);
});

test('state is bounded: entries for many sources are evicted, oldest first', () => {
  const { det, alerts } = setup();
  for (let k = 0; k < 20000; k++) {
    const src = `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
    det.app!(ftp(tuple(21, src), T0 + k, 'PASS', 'x', 530));
  }
  // Still works after the churn.
  for (let k = 0; k < 8; k++) ftpLogin(det, T0 + 30 * S + k * S, 'u', `p${k}`, 530);
  assert.equal(alerts.length, 1);
});
