/**
 * Small classic pcaps of HTTP exchanges for tests: one TCP connection per exchange (handshake,
 * the request and the response each cut into segments of at most `mss` bytes, FIN both ways),
 * Ethernet/IPv4, microsecond timestamps, checksums left 0 (run with checksum validation off,
 * Vigil's default).
 */

/** One request/response exchange on its own TCP connection. */
export interface HttpExchange {
  request: Buffer;
  response: Buffer;
  /** Client and server IPv4 addresses (default 10.0.0.5 and 192.0.2.80). */
  client?: string;
  server?: string;
}

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const FIN = 0x01;

/** Client 10.0.0.5 (ports 40000, 40001, ...) to server 192.0.2.80:80, unless the exchange names others. */
export function httpPcap(exchanges: readonly HttpExchange[], mss = 1400): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0); // magic, microseconds
  head.writeUInt16LE(2, 4); // version 2.4
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16); // snaplen
  head.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  parts.push(head);
  let ts = 1_767_225_600_000_000;
  let cliAddr = [10, 0, 0, 5];
  let srvAddr = [192, 0, 2, 80];
  const frame = (cli: boolean, sport: number, seq: number, ack: number, flags: number, data: Buffer): void => {
    const ip = Buffer.alloc(20);
    ip[0] = 0x45; // IPv4, IHL 5
    ip.writeUInt16BE(40 + data.length, 2); // total length
    ip[8] = 64; // TTL
    ip[9] = 6; // TCP
    ip.set(cli ? cliAddr : srvAddr, 12);
    ip.set(cli ? srvAddr : cliAddr, 16);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(cli ? sport : 80, 0);
    tcp.writeUInt16BE(cli ? 80 : sport, 2);
    tcp.writeUInt32BE(seq >>> 0, 4);
    tcp.writeUInt32BE(ack >>> 0, 8);
    tcp[12] = 0x50; // data offset 5
    tcp[13] = flags;
    tcp.writeUInt16BE(65535, 14); // window
    const eth = Buffer.from('0200000000020200000000010800', 'hex'); // dst, src MAC, IPv4
    const pkt = Buffer.concat([eth, ip, tcp, data]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(ts / 1e6), 0);
    rec.writeUInt32LE(ts % 1e6, 4);
    rec.writeUInt32LE(pkt.length, 8);
    rec.writeUInt32LE(pkt.length, 12);
    parts.push(rec, pkt);
    ts += 1000;
  };
  exchanges.forEach((x, k) => {
    cliAddr = (x.client ?? '10.0.0.5').split('.').map(Number);
    srvAddr = (x.server ?? '192.0.2.80').split('.').map(Number);
    const sport = 40000 + k;
    let c = 1000;
    let s = 5000;
    frame(true, sport, c, 0, SYN, Buffer.alloc(0));
    frame(false, sport, s, c + 1, SYN | ACK, Buffer.alloc(0));
    c++;
    s++;
    frame(true, sport, c, s, ACK, Buffer.alloc(0));
    for (let o = 0; o < x.request.length; o += mss) {
      const seg = x.request.subarray(o, o + mss);
      frame(true, sport, c, s, PSH | ACK, seg);
      c += seg.length;
    }
    frame(false, sport, s, c, ACK, Buffer.alloc(0));
    for (let o = 0; o < x.response.length; o += mss) {
      const seg = x.response.subarray(o, o + mss);
      frame(false, sport, s, c, PSH | ACK, seg);
      s += seg.length;
    }
    frame(true, sport, c, s, ACK, Buffer.alloc(0));
    frame(true, sport, c, s, FIN | ACK, Buffer.alloc(0));
    frame(false, sport, s, c + 1, FIN | ACK, Buffer.alloc(0));
    frame(true, sport, c + 1, s + 1, ACK, Buffer.alloc(0));
  });
  return Buffer.concat(parts);
}
