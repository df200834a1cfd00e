/** Evaluation errors: a stable code; callers branch on it, never on the message. */
export class EvalError extends Error {
  constructor(
    readonly code: 'VIGIL_EVAL_TRUTH_INVALID',
    message: string,
  ) {
    super(message);
  }
}
