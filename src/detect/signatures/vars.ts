/** Rule variables ($HOME_NET, $HTTP_PORTS, ...). */

/** Address and port groups, by name without the `$`. */
export interface RuleVars {
  addressGroups: Record<string, string>;
  portGroups: Record<string, string>;
}

/**
 * Suricata's default variables (suricata.yaml `vars`, Suricata 7), used under whatever the engine
 * configuration sets: ET Open refers to the server groups ($HTTP_SERVERS, $SQL_SERVERS, ...) too.
 */
export const SURICATA_DEFAULT_VARS: RuleVars = {
  addressGroups: {
    HOME_NET: '[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]',
    EXTERNAL_NET: '!$HOME_NET',
    HTTP_SERVERS: '$HOME_NET',
    SMTP_SERVERS: '$HOME_NET',
    SQL_SERVERS: '$HOME_NET',
    DNS_SERVERS: '$HOME_NET',
    TELNET_SERVERS: '$HOME_NET',
    AIM_SERVERS: '$EXTERNAL_NET',
    DC_SERVERS: '$HOME_NET',
    DNP3_SERVER: '$HOME_NET',
    DNP3_CLIENT: '$HOME_NET',
    MODBUS_CLIENT: '$HOME_NET',
    MODBUS_SERVER: '$HOME_NET',
    ENIP_CLIENT: '$HOME_NET',
    ENIP_SERVER: '$HOME_NET',
  },
  portGroups: {
    HTTP_PORTS: '80',
    SHELLCODE_PORTS: '!80',
    ORACLE_PORTS: '1521',
    SSH_PORTS: '22',
    DNP3_PORTS: '20000',
    MODBUS_PORTS: '502',
    FILE_DATA_PORTS: '[$HTTP_PORTS,110,143]',
    FTP_PORTS: '21',
    GENEVE_PORTS: '6081',
    VXLAN_PORTS: '4789',
    TEREDO_PORTS: '3544',
  },
};

/** Suricata's defaults overlaid with `vars` (the engine configuration's groups win). */
export function withDefaultVars(vars?: RuleVars): RuleVars {
  return {
    addressGroups: { ...SURICATA_DEFAULT_VARS.addressGroups, ...vars?.addressGroups },
    portGroups: { ...SURICATA_DEFAULT_VARS.portGroups, ...vars?.portGroups },
  };
}

/**
 * Split a `[a, b, [c, d]]` list body on top-level commas. Returns null on unbalanced brackets.
 */
export function splitList(s: string): string[] | null {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '[') depth++;
    else if (c === ']') {
      if (--depth < 0) return null;
    } else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (depth !== 0) return null;
  out.push(s.slice(start).trim());
  return out;
}

/** Nesting cap for lists and variables (a rule is an untrusted input). */
export const MAX_NESTING = 32;
