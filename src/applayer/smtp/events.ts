/**
 * SMTP parser events, named like Suricata's `app-layer-event:smtp.*` (rules/smtp-events.rules and
 * app-layer-smtp.c's event table) where one exists; Vigil-only names are marked.
 */
export const SMTP_EVENT = {
  INVALID_REPLY: 'smtp.invalid_reply',
  UNABLE_TO_MATCH_REPLY_WITH_REQUEST: 'smtp.unable_to_match_reply_with_request',
  MAX_COMMAND_LINE_LEN_EXCEEDED: 'smtp.max_command_line_len_exceeded',
  MAX_REPLY_LINE_LEN_EXCEEDED: 'smtp.max_reply_line_len_exceeded',
  INVALID_PIPELINED_SEQUENCE: 'smtp.invalid_pipelined_sequence',
  BDAT_CHUNK_LEN_EXCEEDED: 'smtp.bdat_chunk_len_exceeded',
  NO_SERVER_WELCOME_MESSAGE: 'smtp.no_server_welcome_message',
  TLS_REJECTED: 'smtp.tls_rejected',
  DATA_COMMAND_REJECTED: 'smtp.data_command_rejected',
  MIME_PARSE_FAILED: 'smtp.mime_parse_failed',
  MIME_MALFORMED_MSG: 'smtp.mime_malformed_msg',
  MIME_INVALID_BASE64: 'smtp.mime_invalid_base64',
  MIME_INVALID_QP: 'smtp.mime_invalid_qp',
  MIME_LONG_LINE: 'smtp.mime_long_line',
  MIME_LONG_ENC_LINE: 'smtp.mime_long_enc_line',
  MIME_LONG_HEADER_NAME: 'smtp.mime_long_header_name',
  MIME_LONG_HEADER_VALUE: 'smtp.mime_long_header_value',
  MIME_LONG_BOUNDARY: 'smtp.mime_long_boundary',
  MIME_LONG_FILENAME: 'smtp.mime_long_filename',
  DUPLICATE_FIELDS: 'smtp.duplicate_fields',
  UNPARSABLE_CONTENT: 'smtp.unparsable_content',
  TRUNCATED_LINE: 'smtp.truncated_line',
  /** Vigil: end of data not `CRLF . CRLF` (a bare LF around the dot): the SMTP smuggling pattern. */
  NON_CRLF_END_OF_DATA: 'smtp.non_crlf_end_of_data',
  /** Vigil: finished transactions waiting for replies over MAX_PENDING_TX: the oldest delivered early. */
  TOO_MANY_TRANSACTIONS: 'smtp.too_many_transactions',
  /** Vigil: unanswered commands over MAX_PENDING_COMMANDS: the oldest forgotten. */
  TOO_MANY_PENDING_COMMANDS: 'smtp.too_many_pending_commands',
  /** Vigil: RCPT TO over MAX_RCPT in one transaction: further ones not kept. */
  TOO_MANY_RECIPIENTS: 'smtp.too_many_recipients',
  /** Vigil: message headers over MAX_HEADERS: further ones not kept. */
  MIME_TOO_MANY_HEADERS: 'smtp.mime_too_many_headers',
  /** Vigil: MIME leaf parts over MAX_PARTS, or nesting over MAX_MIME_DEPTH: not recorded. */
  MIME_TOO_MANY_PARTS: 'smtp.mime_too_many_parts',
} as const;

/** One SMTP event name. */
export type SmtpEvent = (typeof SMTP_EVENT)[keyof typeof SMTP_EVENT];
