/**
 * DNS, TLS, SSH and FTP records that `vigil analyze` reports in EVE against tshark, on the corpus and the
 * sample captures. Vigil recognises protocols by content on any port, tshark mostly by port, so
 * Vigil may report more (NBNS in DNS format, TLS probes on port 80); every message tshark
 * dissects must be there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DIR, findFiles, tempDir } from '../helpers/paths.js';
import { haveTool, mapLimit, runCli } from '../helpers/reference.js';

const execFileP = promisify(execFile);
const files = [
  ...findFiles(path.join(SHARED_DIR, 'corpus'), /\.pcap$/),
  ...findFiles(path.join(SHARED_DIR, 'data', 'pcaps', 'zeek'), /^(dns|tls|ssh|ftp).*\.pcap$/),
];

async function tsharkFields(file: string, filter: string, fields: string[]): Promise<string[]> {
  const args = ['-n', '-r', file, '-Y', filter, '-T', 'fields'];
  for (const f of fields) args.push('-e', f);
  const { stdout } = await execFileP('tshark', args, { maxBuffer: 1 << 28, encoding: 'utf8' });
  return stdout.split('\n').filter(Boolean);
}

interface Eve {
  event_type: string;
  dns?: { id: number; type: string };
  tls?: { sni?: string; ja3?: { hash: string } };
}

test(
  'DNS messages, TLS handshakes, SSH banners and FTP logins in EVE match tshark',
  { skip: !haveTool('tshark') && 'tshark missing' },
  async (t) => {
    const dir = tempDir();
    const problems: string[] = [];
    let dnsCompared = 0;
    let tlsCompared = 0;
    let sshCompared = 0;
    let ftpCompared = 0;
    await mapLimit(files, 2, async (file) => {
      const name = path.basename(file);
      const eve = path.join(dir, name + '.json');
      const r = await runCli(['analyze', '--json', '--workers', '1', '--eve', eve, file]);
      assert.equal(r.code, 0, r.stderr);
      const events = fs
        .readFileSync(eve, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Eve);
      // DNS over UDP: (id, query/response) of every message tshark dissects.
      const ours = new Map<string, number>();
      for (const e of events) {
        if (e.event_type !== 'dns' || !e.dns) continue;
        const k = `${e.dns.id} ${e.dns.type === 'response' ? 1 : 0}`;
        ours.set(k, (ours.get(k) ?? 0) + 1);
      }
      for (const line of await tsharkFields(file, 'udp && dns && !_ws.malformed && !icmp', [
        'dns.id',
        'dns.flags.response',
      ])) {
        const [id, resp] = line.split('\t');
        const k = `${Number(id)} ${resp === 'True' || resp === '1' ? 1 : 0}`;
        dnsCompared++;
        const n = ours.get(k) ?? 0;
        if (n === 0) problems.push(`${name}: DNS message ${k} missing`);
        else ours.set(k, n - 1);
      }
      // TLS: SNI and JA3 of every ClientHello.
      const tls = new Map<string, number>();
      for (const e of events) {
        if (e.event_type !== 'tls' || !e.tls) continue;
        const k = `${e.tls.sni ?? ''} ${e.tls.ja3?.hash ?? ''}`;
        tls.set(k, (tls.get(k) ?? 0) + 1);
      }
      for (const line of await tsharkFields(file, 'tls.handshake.type == 1', [
        'tls.handshake.extensions_server_name',
        'tls.handshake.ja3',
      ])) {
        const [sni, ja3] = line.split('\t');
        const k = `${sni ?? ''} ${ja3 ?? ''}`;
        tlsCompared++;
        const n = tls.get(k) ?? 0;
        if (n === 0) problems.push(`${name}: TLS ClientHello "${k}" missing`);
        else tls.set(k, n - 1);
      }
      // SSH: one event per TCP connection whose banners tshark sees.
      const sshStreams = new Set(await tsharkFields(file, 'ssh.protocol', ['tcp.stream'])).size;
      const sshEvents = events.filter((e) => e.event_type === 'ssh').length;
      sshCompared += sshStreams;
      // FTP: every PASS command and every 530 (login failed) reply, as tshark counts them.
      const ftp = events.filter((e) => e.event_type === 'ftp') as {
        ftp?: { command?: string; completion_code?: string[] };
      }[];
      const pass = ftp.filter((e) => e.ftp?.command === 'PASS').length;
      const refused = ftp.filter((e) => e.ftp?.completion_code?.includes('530')).length;
      const refPass = (await tsharkFields(file, 'ftp.request.command == "PASS"', ['frame.number'])).length;
      const refRefused = (await tsharkFields(file, 'ftp.response.code == 530', ['frame.number'])).length;
      ftpCompared += refPass;
      if (pass !== refPass || refused !== refRefused)
        problems.push(`${name}: ftp PASS ${pass}/530 ${refused}, tshark ${refPass}/${refRefused}`);
      if (sshEvents !== sshStreams)
        problems.push(`${name}: ${sshEvents} ssh events, tshark ${sshStreams} SSH connections`);
    });
    fs.rmSync(dir, { recursive: true, force: true });
    t.diagnostic(
      `${dnsCompared} DNS messages, ${tlsCompared} TLS ClientHellos, ${sshCompared} SSH connections, ${ftpCompared} FTP logins compared`,
    );
    assert.ok(
      dnsCompared > 1000 && tlsCompared >= 6 && sshCompared >= 10 && ftpCompared >= 50,
      `compared ${dnsCompared} DNS, ${tlsCompared} TLS`,
    );
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} differences`);
  },
);
