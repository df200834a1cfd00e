/**
 * TLS parser events, named like Suricata's `app-layer-event:tls.*` (rules/tls-events.rules) where
 * one exists; Vigil-only names are marked.
 */
export const TLS_EVENT = {
  INVALID_RECORD_TYPE: 'tls.invalid_record_type',
  INVALID_RECORD_VERSION: 'tls.invalid_record_version',
  INVALID_RECORD_LENGTH: 'tls.invalid_record_length',
  RECORD_OVERFLOW: 'tls.record_overflow', // Vigil: record body over 2^14+2048 bytes, side abandoned
  INVALID_HANDSHAKE_MESSAGE: 'tls.invalid_handshake_message',
  HANDSHAKE_INVALID_LENGTH: 'tls.handshake_invalid_length', // handshake message over the cap, side abandoned
  MULTIPLE_SNI_EXTENSIONS: 'tls.multiple_sni_extensions',
  INVALID_SNI_TYPE: 'tls.invalid_sni_type',
  INVALID_SNI_LENGTH: 'tls.invalid_sni_length',
  INVALID_CERTIFICATE: 'tls.invalid_certificate',
  CERTIFICATE_INVALID_LENGTH: 'tls.certificate_invalid_length',
  HEARTBEAT_MESSAGE: 'tls.heartbeat_message',
} as const;

/** One TLS event name. */
export type TlsEvent = (typeof TLS_EVENT)[keyof typeof TLS_EVENT];
