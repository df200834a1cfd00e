/**
 * Errors of the HTTP layer (STYLE.md, Errors): a stable `code` and the status it maps to. Every
 * error response of the API is `{ "error": { "code", "message" } }` (see app.ts's error handler).
 */

/** Stable codes of {@link ApiError}; clients branch on them, never on the message. */
export type ApiErrorCode =
  | 'VIGIL_API_VALIDATION'
  | 'VIGIL_API_UNAUTHENTICATED'
  | 'VIGIL_API_FORBIDDEN'
  | 'VIGIL_API_NOT_FOUND'
  | 'VIGIL_API_CONFLICT'
  | 'VIGIL_API_RATE_LIMITED'
  | 'VIGIL_API_PAYLOAD_TOO_LARGE'
  | 'VIGIL_API_UNSUPPORTED_MEDIA_TYPE'
  | 'VIGIL_API_UNAVAILABLE'
  | 'VIGIL_API_INTERNAL';

export const STATUS_OF: Readonly<Record<ApiErrorCode, number>> = {
  VIGIL_API_VALIDATION: 400,
  VIGIL_API_UNAUTHENTICATED: 401,
  VIGIL_API_FORBIDDEN: 403,
  VIGIL_API_NOT_FOUND: 404,
  VIGIL_API_CONFLICT: 409,
  VIGIL_API_PAYLOAD_TOO_LARGE: 413,
  VIGIL_API_UNSUPPORTED_MEDIA_TYPE: 415,
  VIGIL_API_RATE_LIMITED: 429,
  VIGIL_API_INTERNAL: 500,
  VIGIL_API_UNAVAILABLE: 503,
};

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly statusCode: number;

  constructor(code: ApiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = STATUS_OF[code];
  }
}

export const badRequest = (message: string): ApiError => new ApiError('VIGIL_API_VALIDATION', message);
export const notFound = (message: string): ApiError => new ApiError('VIGIL_API_NOT_FOUND', message);
export const forbidden = (message: string): ApiError => new ApiError('VIGIL_API_FORBIDDEN', message);
export const conflict = (message: string): ApiError => new ApiError('VIGIL_API_CONFLICT', message);

/** The status code for an error code that is not one of ours (Fastify's, a plugin's): by status. */
export function codeForStatus(status: number): ApiErrorCode {
  switch (status) {
    case 400:
      return 'VIGIL_API_VALIDATION';
    case 401:
      return 'VIGIL_API_UNAUTHENTICATED';
    case 403:
      return 'VIGIL_API_FORBIDDEN';
    case 404:
      return 'VIGIL_API_NOT_FOUND';
    case 409:
      return 'VIGIL_API_CONFLICT';
    case 413:
      return 'VIGIL_API_PAYLOAD_TOO_LARGE';
    case 415:
      return 'VIGIL_API_UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'VIGIL_API_RATE_LIMITED';
    case 503:
      return 'VIGIL_API_UNAVAILABLE';
    default:
      return status >= 400 && status < 500 ? 'VIGIL_API_VALIDATION' : 'VIGIL_API_INTERNAL';
  }
}

/** Error body of every failed request. */
export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
