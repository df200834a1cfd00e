/** Reference tools (tcpdump, tshark) and the built CLI, run as child processes by golden tests. */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI } from './paths.js';

const execFileP = promisify(execFile);

/** True when the tool is on PATH. */
export function haveTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

/**
 * Packets tcpdump prints for a file: `tcpdump -nn -r FILE | wc -l`, minus the hex-dump
 * continuation lines (starting with a tab) that tcpdump adds for a few protocols, so that the count
 * is one per packet.
 */
export async function tcpdumpCount(file: string): Promise<number> {
  const r = await execFileP('tcpdump', ['-nn', '-r', file], { maxBuffer: 1 << 30, encoding: 'utf8' }).catch(
    // tcpdump exits non-zero on a truncated file after printing what it could read.
    (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }),
  );
  let n = 0;
  for (const line of r.stdout.split('\n')) if (line.length > 0 && line[0] !== '\t' && line[0] !== ' ') n++;
  return n;
}

/**
 * Frames per protocol from `tshark -q -z io,phs`, counting each protocol at its first level in
 * the tree and ignoring what ICMP quotes (the copy of an offending header inside an error).
 * Names are mapped to Vigil's: eth->ethernet, ip->ipv4.
 */
export async function tsharkProtocols(file: string): Promise<Record<string, number>> {
  const { stdout } = await execFileP('tshark', ['-n', '-r', file, '-q', '-z', 'io,phs'], {
    maxBuffer: 1 << 26,
    encoding: 'utf8',
  });
  const NAMES: Record<string, string> = {
    eth: 'ethernet',
    ip: 'ipv4',
    ipv6: 'ipv6',
    tcp: 'tcp',
    udp: 'udp',
    icmp: 'icmp',
    icmpv6: 'icmpv6',
    arp: 'arp',
    vlan: 'vlan',
    sll: 'sll',
  };
  const out: Record<string, number> = {};
  const stack: { depth: number; name: string }[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(\s*)(\S+)\s+frames:(\d+)\s+bytes:\d+/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 2;
    const name = m[2]!;
    while (stack.length > 0 && stack[stack.length - 1]!.depth >= depth) stack.pop();
    const quoted = stack.some((s) => s.name === 'icmp' || s.name === 'icmpv6');
    const repeated = stack.some((s) => s.name === name);
    stack.push({ depth, name });
    const ours = NAMES[name];
    if (ours === undefined || quoted || repeated) continue;
    out[ours] = (out[ours] ?? 0) + Number(m[3]);
  }
  return out;
}

export interface Conversation {
  /** Endpoints "ip:port", sorted, joined by " <-> ". */
  key: string;
  frames: number;
  bytes: number;
  /** tshark prints large byte totals rounded ("314 kB"): the size of one unit, 1 when exact. */
  bytesUnit: number;
}

/** Conversations from `tshark -q -z conv,tcp|udp`. */
export async function tsharkConversations(file: string, proto: 'tcp' | 'udp'): Promise<Conversation[]> {
  const { stdout } = await execFileP('tshark', ['-n', '-r', file, '-q', '-z', `conv,${proto}`], {
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  });
  const out: Conversation[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(\S+)\s+<->\s+(\S+)\s+\d+\s+[\d,]+ \S+\s+\d+\s+[\d,]+ \S+\s+(\d+)\s+([\d,]+) (\S+)/.exec(line);
    if (!m) continue;
    const unit = m[5]!;
    const mult = unit === 'kB' ? 1000 : unit === 'MB' ? 1e6 : 1;
    out.push({
      key: [m[1]!, m[2]!].sort().join(' <-> '),
      frames: Number(m[3]),
      bytes: Number(m[4]!.replace(/,/g, '')) * mult,
      bytesUnit: mult,
    });
  }
  return out;
}

/** Run the built CLI; resolves with exit code and output (never rejects on a non-zero exit). */
export async function runCli(
  args: string[],
  env?: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await execFileP(process.execPath, [CLI, ...args], {
      maxBuffer: 1 << 28,
      encoding: 'utf8',
      ...(env !== undefined ? { env: { ...process.env, ...env } } : {}),
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** Run `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
