/** Errors of the suricata-verify runner: a stable code, a one-line message. */
export class VerifyError extends Error {
  constructor(
    /** NOT_FOUND: a DIR argument is missing or holds no case; BAD_CASE: a case cannot be run as written. */
    readonly code: 'VIGIL_VERIFY_NOT_FOUND' | 'VIGIL_VERIFY_BAD_CASE',
    message: string,
  ) {
    super(message);
  }
}

export const badCase = (msg: string): VerifyError => new VerifyError('VIGIL_VERIFY_BAD_CASE', msg);
