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
