/**
 * Patterns spanning TCP segments over many connections: the detector keeps each flow direction's
 * last stream bytes in cells of one arena, handed back when the flow ends and reused by later
 * flows. Hundreds of connections (more cells than the arena starts with: 194 in use at most here,
 * and 1,200 handed back and reused) must alert exactly where a pattern spans two segments of one
 * connection, never across connections (a reused cell must not carry the previous flow's bytes),
 * and as exhaustive evaluation does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyzeBothWays, type EveAlert } from '../helpers/eve.js';
import { httpPcap, type HttpExchange } from '../helpers/http-pcap.js';
import { tempDir } from '../helpers/paths.js';

const MSS = 100;
const RULE = 'alert tcp any any -> any any (msg:"span"; flow:to_server; content:"SPANNINGPATTERN"; sid:1;)';

/**
 * Exchange k of three kinds: the pattern cut by the segment boundary (alerts); the pattern's head
 * ending one connection and its rest opening the next one (must not alert); plain filler.
 */
function exchanges(n: number): { list: HttpExchange[]; want: number[] } {
  const list: HttpExchange[] = [];
  const want: number[] = [];
  const response = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  for (let k = 0; k < n; k++) {
    const client = `10.0.${k >> 8}.${(k & 255) + 1}`;
    let request: Buffer;
    if (k % 3 === 0) {
      request = Buffer.from('x'.repeat(MSS - 8) + 'SPANNINGPATTERN' + 'y'.repeat(40));
      want.push(40000 + k);
    } else if (k % 3 === 1) request = Buffer.from('z'.repeat(MSS - 8) + 'SPANNING');
    else request = Buffer.from('PATTERN' + 'w'.repeat(MSS + 50));
    list.push({ request, response, client });
  }
  return { list, want };
}

/** Client source ports of the alerts, sorted. */
function alertPorts(alerts: readonly EveAlert[]): number[] {
  return alerts.map((e) => e.src_port!).sort((a, b) => a - b);
}

test('patterns spanning segments alert once per connection, never across connections', async () => {
  const dir = tempDir();
  try {
    const rules = path.join(dir, 'span.rules');
    fs.writeFileSync(rules, RULE + '\n');
    const { list, want } = exchanges(600);
    const pcap = path.join(dir, 'span.pcap');
    fs.writeFileSync(pcap, httpPcap(list, MSS));
    // Closed flows end at once, so later connections reuse their slots (and tail cells).
    const args = [pcap, '--workers', '1', '--set', 'flow-timeouts.tcp.closed=0', '--no-builtin-rules', '--no-ml'];
    const [pre, all] = (await analyzeBothWays([...args, '--rules', rules], path.join(dir, 'eve'))).map(alertPorts);
    assert.deepEqual(pre, want);
    assert.deepEqual(all, want);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
