// args.ts — what `zkts shell` is given, parsed as zkCli.sh parses it: the process flags
// (ZooKeeperMain.MyCommandOptions.parseOptions) and each command line (parseCommand's quoting,
// then commons-cli style options per command). Pure: no I/O.

export interface ShellArgs {
  /** host:port[,host:port][/chroot] */
  server: string;
  timeoutMs: number;
  readOnly: boolean;
  waitForConnection: boolean;
  /** `-w json` (or `--json`): one JSON object per command, for scripts. */
  json: boolean;
  /** Which zkCli to print like: 3.9 adds "zxid: N" to WatchedEvent lines. */
  compat: '3.8' | '3.9';
  /** A command to run once (one-shot mode), or [] for the interactive shell. */
  command: string[];
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const VALUE_FLAGS = new Set(['-server', '-timeout', '-client-configuration', '-w', '-compat']);

export function parseShellArgs(argv: readonly string[]): Parsed<ShellArgs> {
  const a: ShellArgs = { server: 'localhost:2181', timeoutMs: 30_000, readOnly: false, waitForConnection: false, json: false, compat: '3.8', command: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (VALUE_FLAGS.has(arg)) {
      const v = argv[++i];
      if (v === undefined) return { ok: false, error: `Error: no argument found for option ${arg}` };
      if (arg === '-server') a.server = v;
      else if (arg === '-timeout') {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0) return { ok: false, error: `Error: -timeout takes a positive number of milliseconds, not '${v}'` };
        a.timeoutMs = n;
      } else if (arg === '-compat') {
        if (v !== '3.8' && v !== '3.9') return { ok: false, error: `Error: -compat takes 3.8 or 3.9, not '${v}'` };
        a.compat = v;
      } else if (arg === '-w') {
        if (v !== 'json') return { ok: false, error: `Error: -w takes 'json', not '${v}'` };
        a.json = true;
      }
      // -client-configuration: accepted and ignored (no client properties to read)
    } else if (arg === '-r') a.readOnly = true;
    else if (arg === '-waitforconnection') a.waitForConnection = true;
    else if (arg === '--json') a.json = true;
    else if (arg.startsWith('-') && a.command.length === 0) return { ok: false, error: `Error: unknown option ${arg}` };
    else {
      a.command = argv.slice(i) as string[];
      break;
    }
  }
  return { ok: true, value: a };
}

/** Splits a command line as zkCli does: words, or '…'/"…" quoted strings (quotes removed). */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /\s*([^"'\s]\S*|"[^"]*"|'[^']*')\s*/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null && m[0] !== '') {
    const w = m[1]!;
    const q = /^(['"])(.*)\1$/s.exec(w);
    out.push(q === null ? w : q[2]!);
  }
  return out;
}

export interface CommandLine {
  /** option letter → its value ('' for a flag) */
  opts: Map<string, string>;
  args: string[];
}

/**
 * Options of one command: `spec` lists the letters, a letter followed by ':' takes a value
 * ("sv:" is -s and -v <value>). Options may come anywhere, as commons-cli allows.
 */
export function parseCommandOptions(words: readonly string[], spec: string): Parsed<CommandLine> {
  const takes = new Map<string, boolean>();
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (c === ':') continue;
    takes.set(c, spec[i + 1] === ':');
  }
  const opts = new Map<string, string>();
  const args: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w.length === 2 && w[0] === '-' && /[A-Za-z]/.test(w[1]!)) {
      const letter = w[1]!;
      const hasValue = takes.get(letter);
      if (hasValue === undefined) return { ok: false, error: `Unrecognized option: ${w}` };
      if (hasValue) {
        const v = words[++i];
        if (v === undefined) return { ok: false, error: `Missing argument for option: ${letter}` };
        opts.set(letter, v);
      } else opts.set(letter, '');
    } else args.push(w);
  }
  return { ok: true, value: { opts, args } };
}
