#!/usr/bin/env node
/** The `vigil` command line: dispatches to subcommands. */
import { analyzeCommand } from './analyze.js';
import { configCommand } from './config.js';
import { evalCommand } from './eval.js';
import { evaluateCommand } from './evaluate.js';
import { CliError } from './errors.js';
import { rulesCommand } from './rules.js';
import { serveCommand } from './serve.js';
import { trainCommand } from './train.js';
import { verifyCommand } from './verify.js';
import { VERSION } from './version.js';

const USAGE = `usage: vigil <command> [options]

commands:
  analyze FILE     analyse a pcap/pcapng capture offline (vigil analyze --help)
  config           print the effective configuration (engine, and server under "server"; --server)
  eval DIR         score analyze on a labeled corpus (NAME.pcap + NAME.truth.json; vigil eval --help)
  evaluate         score a trained model on labeled data (vigil evaluate --help)
  rules check FILE parse rule files, report loaded and skipped rules (vigil rules --help)
  rules update     merge rule sources, apply enable/disable/modify/drop.conf, test-load, write
  serve            run the API server (vigil serve --help; docs/server.md)
  train            train a model on a labeled CSV dataset or captures (vigil train --help)
  verify DIR...    run suricata-verify regression cases (vigil verify --help)
  version          print the version

Planned (see the issues): sensor, bench.
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'analyze':
      return analyzeCommand(rest);
    case 'config':
      return configCommand(rest);
    case 'eval':
      return evalCommand(rest);
    case 'evaluate':
      return evaluateCommand(rest);
    case 'rules':
      return rulesCommand(rest);
    case 'serve':
      return serveCommand(rest);
    case 'train':
      return trainCommand(rest);
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
