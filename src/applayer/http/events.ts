/**
 * HTTP parser events, named like Suricata's `app-layer-event:http.*` (libhtp's decoder events,
 * rules/http-events.rules) where one exists; Vigil-only names are marked.
 */
export const HTTP_EVENT = {
  REQUEST_LINE_TOO_LONG: 'http.request_line_too_long', // Vigil: request line over the cap, side abandoned
  RESPONSE_LINE_TOO_LONG: 'http.response_line_too_long', // Vigil: status line over the cap, side abandoned
  REQUEST_LINE_INVALID: 'http.request_line_invalid',
  REQUEST_LINE_MISSING_PROTOCOL: 'http.request_line_missing_protocol',
  RESPONSE_INVALID_PROTOCOL: 'http.response_invalid_protocol',
  RESPONSE_INVALID_STATUS: 'http.response_invalid_status',
  REQUEST_FIELD_TOO_LONG: 'http.request_field_too_long',
  RESPONSE_FIELD_TOO_LONG: 'http.response_field_too_long',
  REQUEST_FIELD_MISSING_COLON: 'http.request_field_missing_colon',
  RESPONSE_FIELD_MISSING_COLON: 'http.response_field_missing_colon',
  REQUEST_TOO_MANY_HEADERS: 'http.request_too_many_headers',
  RESPONSE_TOO_MANY_HEADERS: 'http.response_too_many_headers',
  INVALID_REQUEST_FIELD_FOLDING: 'http.invalid_request_field_folding',
  INVALID_RESPONSE_FIELD_FOLDING: 'http.invalid_response_field_folding',
  INVALID_REQUEST_CHUNK_LEN: 'http.invalid_request_chunk_len',
  INVALID_RESPONSE_CHUNK_LEN: 'http.invalid_response_chunk_len',
  INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST: 'http.invalid_transfer_encoding_value_in_request',
  INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE: 'http.invalid_transfer_encoding_value_in_response',
  INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST: 'http.invalid_content_length_field_in_request',
  INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE: 'http.invalid_content_length_field_in_response',
  DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST: 'http.duplicate_content_length_field_in_request',
  DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE: 'http.duplicate_content_length_field_in_response',
  MISSING_HOST_HEADER: 'http.missing_host_header',
  HOST_HEADER_AMBIGUOUS: 'http.host_header_ambiguous',
  UNABLE_TO_MATCH_RESPONSE_TO_REQUEST: 'http.unable_to_match_response_to_request',
  GZIP_DECOMPRESSION_FAILED: 'http.gzip_decompression_failed',
  ABNORMAL_CE_HEADER: 'http.abnormal_ce_header',
  TOO_MANY_ENCODING_LAYERS: 'http.too_many_encoding_layers',
  RESPONSE_ABNORMAL_TRANSFER_ENCODING: 'http.response_abnormal_transfer_encoding',
  RESPONSE_CHUNKED_OLD_PROTO: 'http.response_chunked_old_proto',
  DOUBLE_ENCODED_URI: 'http.double_encoded_uri',
  URI_INVALID_ENCODING: 'http.uri_invalid_encoding', // Vigil: a '%' not followed by two hex digits
  TOO_MANY_TRANSACTIONS: 'http.too_many_transactions', // Vigil: unanswered pipeline over the cap
  REQUEST_INCOMPLETE: 'http.request_incomplete', // Vigil: connection ended inside a request
  RESPONSE_INCOMPLETE: 'http.response_incomplete', // Vigil: connection ended inside a response
} as const;

/** One HTTP event name. */
export type HttpEvent = (typeof HTTP_EVENT)[keyof typeof HTTP_EVENT];
