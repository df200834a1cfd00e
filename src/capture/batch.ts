/**
 * A batch of captured packets: packet bytes live in one large `Buffer`, described by
 * typed-array columns. Readers fill a preallocated batch and reuse it (STYLE.md, hot-path habits):
 * no object is created per packet.
 */

/** Packets per batch. Chosen so that a batch of full-size frames stays within a few MB. */
export const BATCH_PACKETS = 1024;

/** Link-layer types (pcap LINKTYPE_* numbers) that Vigil decodes. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  C_HDLC: 104,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export class PacketBatch {
  /** Bytes of the packets; `off[i]` indexes into it. May be a reader-owned buffer valid until the next fill. */
  buf: Buffer;
  /** Number of valid packets. */
  count = 0;
  readonly capacity: number;
  /** Start of packet i in `buf`. */
  readonly off: Uint32Array;
  /** Captured length of packet i (bytes present in `buf`). */
  readonly capLen: Uint32Array;
  /** Original length on the wire of packet i (>= capLen when snaplen truncated it). */
  readonly origLen: Uint32Array;
  /** Capture time of packet i in microseconds since the Unix epoch (exact in a double until year 2255). */
  readonly tsUs: Float64Array;
  /** pcap LINKTYPE_* of packet i (pcapng files may mix interfaces with different link types). */
  readonly linkType: Uint16Array;
  /** Interface index within the capture (pcapng), 0 for classic pcap. */
  readonly ifIndex: Uint16Array;

  /**
   * @param columns optional storage for the columns (e.g. a SharedArrayBuffer handed to a worker
   *   thread), at least `PacketBatch.columnBytes(capacity)` long; allocated when omitted.
   */
  constructor(capacity: number = BATCH_PACKETS, buf: Buffer = Buffer.alloc(0), columns?: ArrayBufferLike) {
    this.capacity = capacity;
    this.buf = buf;
    const store = columns ?? new ArrayBuffer(PacketBatch.columnBytes(capacity));
    // Float64 column first so every view is aligned.
    let o = 0;
    this.tsUs = new Float64Array(store, o, capacity);
    o += 8 * capacity;
    this.off = new Uint32Array(store, o, capacity);
    o += 4 * capacity;
    this.capLen = new Uint32Array(store, o, capacity);
    o += 4 * capacity;
    this.origLen = new Uint32Array(store, o, capacity);
    o += 4 * capacity;
    this.linkType = new Uint16Array(store, o, capacity);
    o += 2 * capacity;
    this.ifIndex = new Uint16Array(store, o, capacity);
  }

  /** Bytes needed to hold the columns of a batch of `capacity` packets. */
  static columnBytes(capacity: number): number {
    return 24 * capacity;
  }
}
