/**
 * FTP parser events, named like Suricata's `app-layer-event:ftp.*` (rules/ftp-events.rules) where
 * one exists; Vigil-only names are marked.
 */
export const FTP_EVENT = {
  REQUEST_COMMAND_TOO_LONG: 'ftp.request_command_too_long',
  RESPONSE_COMMAND_TOO_LONG: 'ftp.response_command_too_long',
  TOO_MANY_REPLY_LINES: 'ftp.too_many_reply_lines', // Vigil: reply lines over MAX_REPLY_LINES dropped
  TOO_MANY_TRANSACTIONS: 'ftp.too_many_transactions', // Vigil: oldest unanswered command delivered early
  INVALID_REPLY: 'ftp.invalid_reply', // Vigil: a reply line outside a multi-line reply without a code
} as const;

/** One FTP event name. */
export type FtpEvent = (typeof FTP_EVENT)[keyof typeof FTP_EVENT];
