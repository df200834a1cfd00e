/** `vigil config`: print the effective engine configuration (after -c and --set) as JSON. */
import { parseArgs } from 'node:util';
import { usageError } from './errors.js';
import { engineConfigFrom } from './options.js';

export function configCommand(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        k: { type: 'string', short: 'k' },
        set: { type: 'string', multiple: true },
        config: { type: 'string', short: 'c' },
      },
    });
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const cfg = engineConfigFrom(parsed.values, (m) => void process.stderr.write(`vigil: warning: ${m}\n`));
  // Nothing secret lives in the engine configuration yet; server secrets will be redacted here (issue 7).
  process.stdout.write(JSON.stringify(cfg, null, 2) + '\n');
  return 0;
}
