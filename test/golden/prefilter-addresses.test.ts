/**
 * Rule addresses through the prefilter: TCP exchanges between home and external addresses (and
 * addresses that only some rules list), scanned with rules on $HOME_NET, $EXTERNAL_NET, explicit
 * lists, negations and `<>`, raise exactly the alerts of exhaustive evaluation, and the expected
 * ones (payloads long enough for the four-chain scan, and short replies).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyzeBothWays, type EveAlert } from '../helpers/eve.js';
import { httpPcap } from '../helpers/http-pcap.js';
import { tempDir } from '../helpers/paths.js';

const RULES = [
  'alert tcp $EXTERNAL_NET any -> $HOME_NET any (msg:"in"; content:"probe"; sid:1;)',
  'alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:"out"; content:"probe"; sid:2;)',
  'alert tcp $HOME_NET any -> $HOME_NET any (msg:"internal"; content:"probe"; sid:3;)',
  'alert tcp any any -> any any (msg:"any"; content:"probe"; sid:4;)',
  'alert tcp [10.1.0.0/16,!10.1.2.0/24] any <> 192.0.2.0/24 any (msg:"bidir list"; content:"probe"; sid:5;)',
  'alert tcp $EXTERNAL_NET any -> $HOME_NET any (msg:"reply in"; flow:to_client; content:"answer"; sid:6;)',
  'alert tcp !$HOME_NET any -> any any (msg:"not home"; content:"answer"; sid:7;)',
  'alert tcp 198.51.100.0/24 any -> $HOME_NET any (msg:"one net"; content:"probe"; sid:8;)',
];

/** [client, server, sids expected] (the request carries "probe", the response "answer"). */
const CASES: [string, string, number[]][] = [
  ['10.0.0.5', '192.0.2.80', [2, 4, 6, 7]], // home -> external (the reply comes from outside)
  ['198.51.100.7', '10.9.9.9', [1, 4, 8]], // external -> home (the reply is from home: no 6, 7)
  ['10.0.0.5', '10.9.9.9', [3, 4]], // internal
  ['10.1.5.5', '192.0.2.80', [2, 4, 5, 6, 7]], // in the list of sid 5
  ['10.1.2.3', '192.0.2.80', [2, 4, 6, 7]], // in its negated part
  ['203.0.113.9', '192.0.2.80', [4, 7]], // external both ways
  ['192.0.2.77', '10.1.5.5', [1, 4, 5]], // sid 5 the other way round
];

/** The distinct sids of the alerts, sorted. */
function sidsOf(alerts: readonly EveAlert[]): number[] {
  return [...new Set(alerts.map((e) => e.alert.signature_id))].sort((a, b) => a - b);
}

test('prefiltered detection with address-bound rules raises exactly the exhaustive alerts', async () => {
  const dir = tempDir();
  const rules = path.join(dir, 'addr.rules');
  fs.writeFileSync(rules, RULES.join('\n') + '\n');
  const base = ['--no-builtin-rules', '--no-ml', '--rules', rules];
  try {
    for (const [client, server, want] of CASES) {
      const pcap = path.join(dir, 'x.pcap');
      const request = Buffer.from('PROBE ' + 'x'.repeat(300) + ' probe\r\n');
      const response = Buffer.from('answer ' + 'y'.repeat(40));
      fs.writeFileSync(pcap, httpPcap([{ request, response, client, server }]));
      const got = (await analyzeBothWays([pcap, ...base], path.join(dir, 'eve'))).map(sidsOf);
      assert.deepEqual(got[0], got[1], `${client} -> ${server}: prefiltered vs exhaustive`);
      assert.deepEqual(got[0], want, `${client} -> ${server}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
