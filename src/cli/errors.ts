/** CLI errors: a stable code and an exit status; the message is printed as one line. */
export class CliError extends Error {
  constructor(
    readonly code: 'VIGIL_CLI_USAGE' | 'VIGIL_CLI_INPUT' | 'VIGIL_CLI_CONFIG',
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export const usageError = (msg: string): CliError => new CliError('VIGIL_CLI_USAGE', msg, 2);
