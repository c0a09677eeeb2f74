#!/usr/bin/env node
// main.ts — the `zkts` command. `zkts server <zoo.cfg>` runs a server on a ZooKeeper config;
// `zkts snapshot dump` and `zkts txnlog dump` print data files as ZooKeeper's own tools do.
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
  version            print the version
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
    case 'version': {
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
