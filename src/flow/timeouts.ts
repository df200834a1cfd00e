/**
 * Flow timeouts, in seconds of packet time (never the wall clock). Defaults are Suricata's
 * shipped suricata.yaml `flow-timeouts` values; see docs/flows.md.
 */

/** Timeouts of one protocol class, seconds. `closed` applies to TCP flows closed by RST or FIN/FIN/ACK. */
export interface ProtoTimeouts {
  new: number;
  established: number;
  closed: number;
  emergencyNew: number;
  emergencyEstablished: number;
  emergencyClosed: number;
}

export interface FlowTimeouts {
  tcp: ProtoTimeouts;
  udp: ProtoTimeouts;
  icmp: ProtoTimeouts;
  /** Every other IP protocol (GRE, ESP, SCTP, ...). */
  default: ProtoTimeouts;
  /**
   * Active timeout: a flow older than this (first packet to current packet) is ended with reason
   * 'timeout' when its next packet arrives, and that packet starts a continuation flow with the
   * same client/server orientation. 0 disables it.
   */
  active: number;
}

/** What `FlowOptions.timeouts` accepts: any subset, per protocol class and field. */
export type FlowTimeoutsInput = {
  [K in keyof FlowTimeouts]?: FlowTimeouts[K] extends number ? number : Partial<ProtoTimeouts>;
};

/** Suricata 7 suricata.yaml defaults (flow-timeouts), plus Vigil's 1800 s active timeout. */
export const DEFAULT_TIMEOUTS: Readonly<FlowTimeouts> = Object.freeze({
  tcp: { new: 60, established: 600, closed: 60, emergencyNew: 5, emergencyEstablished: 100, emergencyClosed: 10 },
  udp: { new: 30, established: 300, closed: 0, emergencyNew: 10, emergencyEstablished: 100, emergencyClosed: 0 },
  icmp: { new: 30, established: 300, closed: 0, emergencyNew: 10, emergencyEstablished: 100, emergencyClosed: 0 },
  default: { new: 30, established: 300, closed: 0, emergencyNew: 10, emergencyEstablished: 100, emergencyClosed: 0 },
  active: 1800,
});

/** Protocol classes (index into the resolved timeout table). */
export const PROTO_CLASS = { DEFAULT: 0, TCP: 1, UDP: 2, ICMP: 3 } as const;

/** Flow states as stored per slot. */
export const FLOW_STATE = { NEW: 0, ESTABLISHED: 1, CLOSED: 2 } as const;

export const FLOW_STATE_NAMES = ['new', 'established', 'closed'] as const;

export function protoClass(proto: number): number {
  if (proto === 6) return PROTO_CLASS.TCP;
  if (proto === 17) return PROTO_CLASS.UDP;
  if (proto === 1 || proto === 58) return PROTO_CLASS.ICMP;
  return PROTO_CLASS.DEFAULT;
}

/** Merge user input over the defaults. Negative or non-finite values are rejected (config edge). */
export function resolveTimeouts(input: FlowTimeoutsInput | undefined): FlowTimeouts {
  const d = DEFAULT_TIMEOUTS;
  const pick = (base: ProtoTimeouts, over: Partial<ProtoTimeouts> | undefined): ProtoTimeouts => {
    const r = { ...base, ...(over ?? {}) };
    for (const [k, v] of Object.entries(r)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        throw new RangeError(`flow timeout ${k} must be >= 0 seconds`);
    }
    return r;
  };
  const active = input?.active ?? d.active;
  if (!Number.isFinite(active) || active < 0) throw new RangeError('flow active timeout must be >= 0 seconds');
  return {
    tcp: pick(d.tcp, input?.tcp),
    udp: pick(d.udp, input?.udp),
    icmp: pick(d.icmp, input?.icmp),
    default: pick(d.default, input?.default),
    active,
  };
}

/**
 * Timeouts in microseconds as a flat table: index `(protoClass * 2 + emergency) * 3 + flowState`.
 * A flow expires when `now - lastSeen > table[...]`.
 */
export function timeoutTableUs(t: FlowTimeouts): Float64Array {
  const out = new Float64Array(4 * 2 * 3);
  const classes = [t.default, t.tcp, t.udp, t.icmp];
  for (let c = 0; c < 4; c++) {
    const p = classes[c]!;
    const normal = [p.new, p.established, p.closed];
    const emerg = [p.emergencyNew, p.emergencyEstablished, p.emergencyClosed];
    for (let s = 0; s < 3; s++) {
      out[(c * 2 + 0) * 3 + s] = normal[s]! * 1e6;
      out[(c * 2 + 1) * 3 + s] = emerg[s]! * 1e6;
    }
  }
  return out;
}
