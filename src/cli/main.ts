#!/usr/bin/env node
/** The `vigil` command line: dispatches to subcommands. */
import { analyzeCommand } from './analyze.js';
import { configCommand } from './config.js';
import { CliError } from './errors.js';
import { rulesCommand } from './rules.js';
import { verifyCommand } from './verify.js';
import { VERSION } from './version.js';

const USAGE = `usage: vigil <command> [options]

commands:
  analyze FILE     analyse a pcap/pcapng capture offline (vigil analyze --help)
  config           print the effective engine configuration
  rules check FILE parse rule files, report loaded and skipped rules (vigil rules --help)
  rules update     merge rule sources, apply enable/disable/modify/drop.conf, test-load, write
  verify DIR...    run suricata-verify regression cases (vigil verify --help)
  version          print the version

Planned (see the issues): serve, train, evaluate, sensor, bench.
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'analyze':
      return analyzeCommand(rest);
    case 'config':
      return configCommand(rest);
    case 'rules':
      return rulesCommand(rest);
    case 'verify':
      return verifyCommand(rest);
    case 'version':
    case '--version':
    case '-V':
      process.stdout.write(`vigil ${VERSION}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`vigil: unknown command "${cmd}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof CliError) {
      process.stderr.write(`vigil: ${e.message}\n`);
      process.exitCode = e.exitCode;
    } else {
      process.stderr.write(`vigil: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    }
  },
);
