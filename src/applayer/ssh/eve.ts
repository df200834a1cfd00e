/** Suricata's EVE `ssh` object: client and server identification. */
import type { SshBanner, SshConnection } from './parser.js';

function side(b: SshBanner): Record<string, unknown> {
  return { proto_version: b.protoVersion, software_version: b.softwareVersion };
}

export function sshEveObject(conn: SshConnection): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (conn.client) o['client'] = side(conn.client);
  if (conn.server) o['server'] = side(conn.server);
  return o;
}
