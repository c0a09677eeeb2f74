// shell.ts — `zkts shell`, ZooKeeper's zkCli.sh in TypeScript: the same flags, commands, prompt
// ("[zk: host:port(CONNECTED) N] "), output and error texts (errors on stderr), and WATCHER::
// lines for watch events. Interactive on a terminal (tab completion of commands and paths,
// history); reading a pipe it prints no prompt, as zkCli without JLine; with a command after the
// flags it runs that one command and exits non-zero when it failed. `-w json` prints one JSON
// object per command (and per watch event) instead.
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { type SessionState, type WatchedEvent, ZooKeeper } from '../client/index.js';
import { type ShellArgs, parseShellArgs, tokenize } from './args.js';
import { type Command, type CommandContext, CliError, NODE_COMMANDS, runCommand } from './commands.js';
import { delquota, listquota, setquota } from './quota.js';
import { reconfig } from './reconfig.js';

const COMMANDS: Record<string, Command> = { ...NODE_COMMANDS, setquota, listquota, delquota, reconfig };

/** Commands the shell itself handles (usage text as zkCli lists them). */
const SHELL_COMMANDS: Record<string, string> = {
  close: '', connect: 'host:port', history: '', printwatches: 'on|off', quit: '', redo: 'cmdno', version: '',
};

const JAVA_STATES: Record<SessionState, string> = {
  connecting: 'CONNECTING', connected: 'CONNECTED', readOnly: 'CONNECTEDREADONLY', suspended: 'CONNECTING',
  expired: 'CLOSED', closed: 'CLOSED', authFailed: 'AUTH_FAILED',
};

export interface ShellIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: ShellIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

function usageText(): string {
  const all: Record<string, string> = { ...SHELL_COMMANDS };
  for (const [name, c] of Object.entries(COMMANDS)) all[name] = c.usage.startsWith(name) ? c.usage.substring(name.length + 1) : c.usage;
  const lines = Object.keys(all).sort().map((n) => `\t${n} ${all[n]}`);
  return `ZooKeeper -server host:port -client-configuration properties-file cmd args\n${lines.join('\n')}\n`;
}

function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `zkts-${pkg.version}`;
}

/** One shell: its session, watch printing, history and the exit code of the last command. */
export class Shell {
  zk: ZooKeeper | null = null;
  host: string;
  printWatches = true;
  exitCode = 0;
  quitRequested = false;
  readonly history = new Map<number, string>();
  commandCount = 0;

  constructor(readonly args: ShellArgs, readonly io: ShellIo = processIo) {
    this.host = args.server;
  }

  get prompt(): string {
    const state = this.zk === null ? 'CLOSED' : JAVA_STATES[this.zk.state];
    return `[zk: ${this.host}(${state}) ${this.commandCount}] `;
  }

  private out(text: string): void {
    if (!this.args.json) this.io.stdout(`${text}\n`);
  }
  private err(text: string): void {
    if (!this.args.json) this.io.stderr(`${text}\n`);
  }

  /** Connects (ZooKeeperMain.connectToZK); waits for the session when asked to. */
  async connect(host: string, wait: boolean): Promise<void> {
    if (this.zk !== null && this.zk.state !== 'closed' && this.zk.state !== 'expired') await this.zk.close();
    this.host = host;
    const zk = new ZooKeeper(host, { sessionTimeoutMs: this.args.timeoutMs, canBeReadOnly: this.args.readOnly });
    this.zk = zk;
    zk.on('watch', (ev) => this.onWatch(ev));
    if (!wait) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        zk.off('state', onState);
        void zk.close({ timeoutMs: 100 }).catch(() => undefined);
        reject(new CliError(`could not connect to ${host} within ${this.args.timeoutMs} ms`));
      }, this.args.timeoutMs);
      const onState = (s: SessionState): void => {
        if (s === 'connected' || s === 'readOnly' || s === 'closed' || s === 'expired' || s === 'authFailed') {
          clearTimeout(timer);
          zk.off('state', onState);
          if (s === 'connected' || s === 'readOnly') resolve();
          else reject(new CliError(`could not connect to ${host} (${s})`));
        }
      };
      if (zk.state === 'connected' || zk.state === 'readOnly') {
        clearTimeout(timer);
        resolve();
      } else zk.on('state', onState);
    });
  }

  private onWatch(ev: WatchedEvent): void {
    if (!this.printWatches) return;
    if (this.args.json) {
      this.io.stdout(`${JSON.stringify({ event: { type: ev.type, state: ev.state, path: ev.path } })}\n`);
      return;
    }
    // MyWatcher: printMessage("WATCHER::"), printMessage(event.toString())
    const zxid = this.args.compat === '3.9' ? ` zxid: ${ev.zxid}` : '';
    this.io.stdout(`\nWATCHER::\n\nWatchedEvent state:${ev.state} type:${ev.type} path:${ev.path ?? 'null'}${zxid}\n`);
  }

  /** ZooKeeperMain.executeLine */
  async executeLine(line: string): Promise<void> {
    if (line.trim() === '') return;
    this.history.set(this.commandCount, line);
    await this.processCmd(tokenize(line), line);
    this.commandCount++;
  }

  private async processCmd(words: string[], line: string): Promise<void> {
    try {
      const result = await this.processZkCmd(words);
      this.exitCode = 0;
      if (this.args.json && result !== undefined) this.io.stdout(`${JSON.stringify({ command: line, ok: true, result })}\n`);
    } catch (e) {
      if (!(e instanceof CliError) && !(e instanceof Error)) throw e;
      this.exitCode = e instanceof CliError ? e.exitCode : 1;
      if (this.args.json) this.io.stdout(`${JSON.stringify({ command: line, ok: false, error: e.message })}\n`);
      else this.io.stderr(`${e.message}\n`);
    }
  }

  private async processZkCmd(words: string[]): Promise<unknown> {
    const [cmd, ...rest] = words;
    if (cmd === undefined) {
      this.err(usageText().trimEnd());
      throw new CliError('No command entered');
    }
    if (!(cmd in SHELL_COMMANDS) && !(cmd in COMMANDS)) {
      this.err(usageText().trimEnd());
      throw new CliError(`Command not found: Command not found ${cmd}`, 127);
    }
    switch (cmd) {
      case 'quit':
        await this.zk?.close();
        this.quitRequested = true;
        return undefined;
      case 'redo': {
        const i = Number(rest[0]);
        if (rest[0] === undefined) break;
        if (!Number.isInteger(i) || this.commandCount <= i || i < 0) throw new CliError('Command index out of range');
        const again = this.history.get(i)!;
        const againWords = tokenize(again);
        if (againWords[0] === 'redo') throw new CliError('No redoing redos');
        this.history.set(this.commandCount, again);
        return this.processZkCmd(againWords);
      }
      case 'history': {
        const lines: string[] = [];
        for (let i = Math.max(0, this.commandCount - 10); i <= this.commandCount; i++) lines.push(`${i} - ${this.history.get(i)}`);
        this.out(lines.join('\n'));
        return { history: lines };
      }
      case 'printwatches':
        if (rest.length === 0) this.out(`printwatches is ${this.printWatches ? 'on' : 'off'}`);
        else this.printWatches = rest[0] === 'on';
        return { printwatches: this.printWatches };
      case 'connect':
        await this.connect(rest[0] ?? this.host, false);
        break;
      case 'version':
        this.out(`ZooKeeper CLI version: ${cliVersion()}`);
        return { version: cliVersion() };
      default:
        break;
    }
    // Below commands all need a live connection.
    const zk = this.zk;
    if (zk === null || zk.state === 'closed' || zk.state === 'expired' || zk.state === 'authFailed') {
      this.out('Not connected');
      return undefined;
    }
    if (cmd === 'close') {
      await zk.close();
      return { closed: true };
    }
    const command = COMMANDS[cmd];
    if (command === undefined) return cmd === 'connect' ? { connected: this.host } : undefined;
    const ctx: CommandContext = { zk, out: (t) => this.out(t), err: (t) => this.err(t) };
    return runCommand(ctx, command, rest);
  }

  /** Tab completion: command words first, then znode paths (children of the typed parent). */
  complete(line: string, cb: (err: null, result: [string[], string]) => void): void {
    const words = line.split(/\s+/);
    const last = words[words.length - 1] ?? '';
    if (words.length <= 1) {
      const names = [...Object.keys(COMMANDS), ...Object.keys(SHELL_COMMANDS)].sort();
      cb(null, [names.filter((n) => n.startsWith(last)), last]);
      return;
    }
    const zk = this.zk;
    if (!last.startsWith('/') || zk === null || JAVA_STATES[zk.state] !== 'CONNECTED') {
      cb(null, [[], last]);
      return;
    }
    const slash = last.lastIndexOf('/');
    const parent = slash === 0 ? '/' : last.substring(0, slash);
    const prefix = last.substring(slash + 1);
    zk.getChildren(parent).then(
      (children) => {
        const base = parent === '/' ? '/' : `${parent}/`;
        cb(null, [children.filter((c) => c.startsWith(prefix)).sort().map((c) => base + c), last]);
      },
      () => cb(null, [[], last]),
    );
  }
}

/** `zkts shell [flags] [command args]`: returns the process exit code. */
export async function runShell(argv: readonly string[], io: ShellIo = processIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(`usage: zkts shell [-server host:port[,host:port][/chroot]] [-timeout ms] [-r] [-waitforconnection] [-w json] [-compat 3.8|3.9] [cmd args]\n${usageText()}`);
    return 0;
  }
  const parsed = parseShellArgs(argv);
  if (!parsed.ok) {
    io.stderr(`${parsed.error}\n${usageText()}`);
    return 2;
  }
  const args = parsed.value;
  const shell = new Shell(args, io);
  if (args.command.length > 0) return oneShot(shell);
  if (!args.json) io.stdout(`Connecting to ${args.server}\n`);
  try {
    await shell.connect(args.server, args.waitForConnection);
  } catch (e) {
    io.stderr(`${(e as Error).message}\n`);
    return 1;
  }
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  if (!args.json) io.stdout(`Welcome to ZooKeeper!\nJLine support is ${interactive ? 'enabled' : 'disabled'}\n`);
  return interactive ? interactiveLoop(shell) : pipeLoop(shell);
}

async function oneShot(shell: Shell): Promise<number> {
  shell.printWatches = false; // the session's own events would only interleave with the answer
  try {
    await shell.connect(shell.args.server, true);
  } catch (e) {
    shell.io.stderr(`${(e as Error).message}\n`);
    return 1;
  }
  const [cmd, ...rest] = shell.args.command;
  // Words were split by the invoking shell already; quote any with spaces for tokenize.
  const line = [cmd!, ...rest.map((w) => (/\s/.test(w) || w === '' ? `'${w}'` : w))].join(' ');
  await shell.executeLine(line);
  await shell.zk?.close();
  return shell.exitCode;
}

async function pipeLoop(shell: Shell): Promise<number> {
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) {
      await shell.executeLine(line);
      if (shell.quitRequested) break;
    }
  } finally {
    rl.close();
  }
  if (!shell.quitRequested) await shell.zk?.close();
  return shell.exitCode;
}

/** Where the interactive shell keeps its history between runs (ZKTS_SHELL_HISTORY overrides). */
function historyFile(): string {
  return process.env.ZKTS_SHELL_HISTORY ?? path.join(homedir(), '.zkts_shell_history');
}

function loadHistory(): string[] {
  try {
    return readFileSync(historyFile(), 'utf8').split('\n').filter((l) => l !== '').reverse().slice(0, 1000);
  } catch {
    return [];
  }
}

async function interactiveLoop(shell: Shell): Promise<number> {
  const rl = readline.createInterface({
    history: loadHistory(),
    input: process.stdin,
    output: process.stdout,
    terminal: true,
    historySize: 1000,
    removeHistoryDuplicates: true,
    completer: (line: string, cb: (err: null, result: [string[], string]) => void) => shell.complete(line, cb),
  });
  rl.on('history', (h: string[]) => {
    try {
      writeFileSync(historyFile(), `${[...h].reverse().join('\n')}\n`, { mode: 0o600 });
    } catch {
      // history is a convenience: an unwritable home directory does not stop the shell
    }
  });
  // Redraw the prompt when the session's state changes (CONNECTING → CONNECTED …).
  const refresh = (): void => rl.setPrompt(shell.prompt);
  shell.zk?.on('state', refresh);
  try {
    rl.setPrompt(shell.prompt);
    rl.prompt();
    for await (const line of rl) {
      await shell.executeLine(line);
      if (shell.quitRequested) break;
      shell.zk?.off('state', refresh);
      shell.zk?.on('state', refresh);
      rl.setPrompt(shell.prompt);
      rl.prompt();
    }
  } finally {
    rl.close();
  }
  if (!shell.quitRequested) await shell.zk?.close();
  return shell.exitCode;
}
