import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { SshConnection, parseBanner, probeSsh } from './parser.js';
import { sshEveObject } from './eve.js';
import { SHARED_DIR } from '../../../test/helpers/paths.js';

const CLIENT = Buffer.from('SSH-2.0-libssh_0.10.6\r\n\x00\x00\x05\xdc\x07\x14binary...');
const SERVER = Buffer.from('Welcome\r\nSSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n\x00\x00\x04\x2cbinary');

test('banners of both sides, with a server pre-banner line and binary data after', () => {
  const c = new SshConnection();
  c.feed(0, CLIENT, 0, CLIENT.length, 10);
  c.feed(1, SERVER, 0, SERVER.length, 20);
  assert.deepEqual(c.client, { protoVersion: '2.0', softwareVersion: 'libssh_0.10.6', comments: '' });
  assert.deepEqual(c.server, { protoVersion: '2.0', softwareVersion: 'OpenSSH_9.2p1', comments: 'Debian-2+deb12u3' });
  assert.equal(c.done, true);
  assert.equal(c.tsUs, 10);
  assert.deepEqual(sshEveObject(c), {
    client: { proto_version: '2.0', software_version: 'libssh_0.10.6' },
    server: { proto_version: '2.0', software_version: 'OpenSSH_9.2p1' },
  });
});

test('split at every byte gives the same banners', () => {
  for (let cut = 0; cut <= SERVER.length; cut++) {
    const c = new SshConnection();
    c.feed(1, SERVER, 0, cut, 1);
    c.feed(1, SERVER, cut, SERVER.length - cut, 2);
    assert.equal(c.server?.softwareVersion, 'OpenSSH_9.2p1', `cut at ${cut}`);
  }
});

test('over-long lines and non-SSH client data abandon the side without throwing', () => {
  const c = new SshConnection();
  const long = Buffer.alloc(1000, 0x41);
  c.feed(1, long, 0, long.length, 1);
  const junk = Buffer.from('GET / HTTP/1.1\r\n');
  c.feed(0, junk, 0, junk.length, 1);
  assert.equal(c.server, null);
  assert.equal(c.client, null);
  assert.equal(c.done, true);
  assert.equal(probeSsh(junk, 0, junk.length), 'no');
  assert.equal(probeSsh(CLIENT, 0, 2), 'need_more');
  assert.equal(probeSsh(CLIENT, 0, CLIENT.length), 'yes');
  assert.deepEqual(parseBanner('SSH-1.99-Cisco-1.25'), {
    protoVersion: '1.99',
    softwareVersion: 'Cisco-1.25',
    comments: '',
  });
});

test('EVE ssh object validates against Suricata schema', () => {
  const schemaPath = path.join(SHARED_DIR, 'data', 'eve-schema', 'schema.json');
  if (!fs.existsSync(schemaPath)) return;
  const require = createRequire(import.meta.url);
  const Ajv2020 = require('ajv/dist/2020') as new (o: object) => { compile(s: object): (d: unknown) => boolean };
  const validate = new Ajv2020({ strict: false }).compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as object);
  const c = new SshConnection();
  c.feed(0, CLIENT, 0, CLIENT.length, 10);
  c.feed(1, SERVER, 0, SERVER.length, 20);
  const ev = {
    timestamp: '2026-11-26T10:30:18.312528+0000',
    event_type: 'ssh',
    src_ip: '10.0.0.1',
    src_port: 40000,
    dest_ip: '10.0.0.2',
    dest_port: 22,
    proto: 'TCP',
    ssh: sshEveObject(c),
  };
  assert.equal(validate(ev), true);
});

test('fuzz: random, truncated and mutated banners in random pieces never throw and stay bounded', async () => {
  const { mulberry32 } = await import('../../../test/fuzz/prng.js');
  const rnd = mulberry32(7);
  const seeds = [CLIENT, SERVER, Buffer.from('SSH-1.99-Cisco-1.25\r\n'), Buffer.from('SSH-2.0-x\n')];
  for (let n = 0; n < 3000; n++) {
    const base = seeds[n % seeds.length]!;
    let data: Buffer;
    if (n % 3 === 0) data = Buffer.from(Array.from({ length: Math.floor(rnd() * 600) }, () => Math.floor(rnd() * 256)));
    else {
      data = Buffer.from(base.subarray(0, Math.floor(rnd() * (base.length + 1))));
      for (let m = Math.floor(rnd() * 4); m > 0 && data.length > 0; m--)
        data[Math.floor(rnd() * data.length)] = Math.floor(rnd() * 256);
    }
    const c = new SshConnection();
    let off = 0;
    while (off < data.length) {
      const len = 1 + Math.floor(rnd() * 40);
      c.feed(n % 2 === 0 ? 0 : 1, data, off, Math.min(len, data.length - off), n);
      off += len;
    }
    for (const b of [c.client, c.server]) {
      if (b === null) continue;
      // A banner line is capped, so its parts are too.
      assert.ok(b.protoVersion.length + b.softwareVersion.length + b.comments.length <= 255);
    }
  }
});
