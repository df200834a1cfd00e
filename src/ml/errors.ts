/** Training-side errors (src/ml/): a stable code; callers branch on it, never on the message. */
export type MlErrorCode =
  /** A data file cannot be read or parsed (missing label column, no rows, unknown format). */
  | 'VIGIL_ML_DATA_INVALID'
  /** Options that cannot work together (unknown model type, test size out of range, ...). */
  | 'VIGIL_ML_OPTIONS_INVALID'
  /** The model store (history.json, a version directory) cannot be read or written. */
  | 'VIGIL_ML_STORE_INVALID'
  /** A model refused by the store: corrupt, incompatible or unknown version. */
  | 'VIGIL_ML_MODEL_REFUSED';

export class MlError extends Error {
  constructor(
    readonly code: MlErrorCode,
    message: string,
  ) {
    super(message);
  }
}
