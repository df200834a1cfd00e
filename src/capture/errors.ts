/**
 * Typed errors of the capture layer (STYLE.md, Errors): callers branch on `code`, never on the
 * message. Only opening a capture throws; reading never does (see `CaptureReader.error`).
 */

/** Stable codes of {@link CaptureError}. */
export type CaptureErrorCode =
  'VIGIL_CAPTURE_NOT_FOUND' | 'VIGIL_CAPTURE_UNREADABLE' | 'VIGIL_CAPTURE_UNKNOWN_FORMAT' | 'VIGIL_CAPTURE_EMPTY';

/** A capture file or buffer that cannot be opened as pcap or pcapng. The message is one line. */
export class CaptureError extends Error {
  readonly code: CaptureErrorCode;

  constructor(code: CaptureErrorCode, message: string) {
    super(message);
    this.name = 'CaptureError';
    this.code = code;
  }
}

/**
 * Why live capture is not running, machine-readable (for /api/health): `no_privileges` (needs root
 * or cap_net_raw,cap_net_admin on the capture tool), `libpcap_unavailable` (tcpdump/libpcap not
 * installed), `no_such_interface`, `interface_down`, `invalid_filter` (BPF does not compile),
 * `invalid_config`, `capture_failed` (anything else; the message says what).
 */
export type LiveUnavailableReason =
  | 'no_privileges'
  | 'libpcap_unavailable'
  | 'no_such_interface'
  | 'interface_down'
  | 'invalid_filter'
  | 'invalid_config'
  | 'capture_failed';

/** Live capture could not start or stopped; `reason` is stable, the message is one line. */
export class LiveCaptureError extends Error {
  readonly code = 'VIGIL_CAPTURE_LIVE_UNAVAILABLE' as const;
  readonly reason: LiveUnavailableReason;

  constructor(reason: LiveUnavailableReason, message: string) {
    super(message);
    this.name = 'LiveCaptureError';
    this.reason = reason;
  }
}
