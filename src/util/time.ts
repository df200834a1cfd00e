/** Time helpers. Packet times are microseconds since the Unix epoch held in a double. */

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/**
 * EVE timestamp for a packet time: `2026-11-26T10:30:18.312528+0000` (UTC, microseconds, an
 * offset without a colon, as Suricata's schema requires).
 */
export function eveTimestamp(tsUs: number): string {
  const us = Math.floor(tsUs);
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  const micros = us - Math.floor(us / 1e6) * 1e6;
  return (
    d.getUTCFullYear() +
    '-' +
    pad2(d.getUTCMonth() + 1) +
    '-' +
    pad2(d.getUTCDate()) +
    'T' +
    pad2(d.getUTCHours()) +
    ':' +
    pad2(d.getUTCMinutes()) +
    ':' +
    pad2(d.getUTCSeconds()) +
    '.' +
    String(micros).padStart(6, '0') +
    '+0000'
  );
}
