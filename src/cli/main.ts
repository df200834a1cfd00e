#!/usr/bin/env node
/** The `vigil` command line: dispatches to subcommands. */
import { CliError } from './errors.js';
import { VERSION } from './version.js';

// Each subcommand is imported when it runs: `vigil analyze` need not load the server (Fastify,
// Socket.IO, pg), nor `vigil version` anything (start-up ~0.36 -> ~0.1 s).
const USAGE = `usage: vigil <command> [options]

commands:
  analyze FILE     analyse a pcap/pcapng capture offline (vigil analyze --help)
  config           print the effective configuration (engine, and server under "server"; --server)
  eval DIR         score analyze on a labeled corpus (NAME.pcap + NAME.truth.json; vigil eval --help)
  evaluate         score a trained model on labeled data (vigil evaluate --help)
  rules check FILE load rule files as analyze does, report loaded and skipped (vigil rules --help)
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
      return (await import('./analyze.js')).analyzeCommand(rest);
    case 'config':
      return (await import('./config.js')).configCommand(rest);
    case 'eval':
      return (await import('./eval.js')).evalCommand(rest);
    case 'evaluate':
      return (await import('./evaluate.js')).evaluateCommand(rest);
    case 'rules':
      return (await import('./rules.js')).rulesCommand(rest);
    case 'serve':
      return (await import('./serve.js')).serveCommand(rest);
    case 'train':
      return (await import('./train.js')).trainCommand(rest);
    case 'verify':
      return (await import('./verify.js')).verifyCommand(rest);
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
