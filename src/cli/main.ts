#!/usr/bin/env node
// main.ts — the `zkts` command. `zkts server <zoo.cfg>` runs a server on a ZooKeeper config;
// `zkts snapshot dump` and `zkts txnlog dump` print data files as ZooKeeper's own tools do;
// `zkts bench` loads a server. Every command takes --help (exit 0); an unknown option exits 2.
import { readFileSync } from 'node:fs';
import { ZktsError } from '../errors.js';
import { runSnapshotCommand, runTxnLogCommand } from './dump-command.js';
import { runServer } from './server-command.js';

const USAGE = `usage: zkts <command> [args]

commands:
  server [zoo.cfg]   run a server on a ZooKeeper config (default: conf/zoo.cfg)
  snapshot dump [-d] [--json | --ncdu] <file>
                     print a snapshot file as ZooKeeper's SnapshotFormatter does
  txnlog dump [--json] <file>
                     print a txn log file as ZooKeeper's TxnLogToolkit does
  shell [-server host:port[/chroot]] [-timeout ms] [-r] [-waitforconnection] [-w json] [cmd args]
                     a zkCli.sh-compatible shell; with a command, runs it and exits
  bench [--server host:port] [--sessions N] [--outstanding K] [--workload W] [--seconds S] [--json]
                     a pipelined load generator: throughput and p50/p99/p999 latency
  version            print the version

Run \`zkts <command> --help\` for a command's options.
`;

const VERSION_USAGE = `usage: zkts version

Prints the version of zkts.
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'server':
      return runServer(rest);
    case 'snapshot':
      return runSnapshotCommand(rest);
    case 'txnlog':
      return runTxnLogCommand(rest);
    case 'shell':
      return (await import('../shell/shell.js')).runShell(rest);
    case 'bench':
      return (await import('./bench-command.js')).runBench(rest);
    case 'version': {
      if (rest[0] === '--help' || rest[0] === '-h') {
        process.stdout.write(VERSION_USAGE);
        return 0;
      }
      if (rest.length > 0) {
        process.stderr.write(`zkts version: ${rest[0]!.startsWith('-') ? 'unknown option' : 'unexpected argument'} '${rest[0]}'\n${VERSION_USAGE}`);
        return 2;
      }
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      console.log(`zkts ${pkg.version}`);
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`zkts: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ZktsError) {
      process.stderr.write(`zkts: ${err.message} [${err.code}]\n`);
    } else {
      process.stderr.write(`zkts: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    }
    process.exitCode = 1;
  },
);
