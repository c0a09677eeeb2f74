// jaas.ts — a JAAS login configuration file (java.security.auth.login.config) read the way
// Java's sun.security.provider.ConfigFile reads it, and the DIGEST-MD5 users ZooKeeper takes
// from it. The grammar:
//
//   Name { module.Class flag key="value" key2=value2 ; ... } ;
//
// with // and /* */ comments. Words are letters, digits, and $ _ - * . ; a token that starts
// with a digit, "." or "-digit" is a number, which Java rejects wherever a name or value is
// expected, so such values must be quoted. Flags are required, requisite, sufficient or
// optional, in any case. Java's ${property} expansion of values is not done: values are taken
// literally. Pure: the caller reads the file and passes its text and name.
import { ZktsError } from '../../errors.js';

export type JaasFlag = 'required' | 'requisite' | 'sufficient' | 'optional';

export interface JaasEntry {
  loginModule: string;
  flag: JaasFlag;
  /** Options in file order; a repeated key keeps its last value, as Java's HashMap does. */
  options: Map<string, string>;
}

/** Sections by name, each a list of login module entries. */
export type JaasConfig = Map<string, JaasEntry[]>;

type Token =
  | { kind: 'word' | 'quoted' | 'number'; text: string; line: number }
  | { kind: 'char'; text: string; line: number }
  | { kind: 'eof'; text: ''; line: number };

const FLAGS: readonly JaasFlag[] = ['required', 'requisite', 'sufficient', 'optional'];
const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

function isWordStart(c: string): boolean {
  return /[A-Za-z$_*]/.test(c) || c.charCodeAt(0) >= 0xa0;
}

function isWordPart(c: string): boolean {
  return isWordStart(c) || /[0-9.\-]/.test(c);
}

/** Splits the text into tokens as java.io.StreamTokenizer does with ConfigFile's settings. */
function tokenize(text: string, file: string): Token[] {
  const fail = (line: number, what: string): never => {
    throw new ZktsError('ZKTS_ERR_JAAS', `${file}:${line}: ${what}; fix the JAAS configuration file`);
  };
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const skipToEol = (): void => {
    while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '\r' || c === '\n') {
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
    } else if (c.charCodeAt(0) <= 32) {
      i++;
    } else if (c === '/') {
      // "/*" opens a block comment; "//" and, as in Java, a lone "/" comment out the line.
      if (text[i + 1] !== '*') {
        skipToEol();
        continue;
      }
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      line += (text.slice(i, stop).match(/\r\n|\r|\n/g) ?? []).length;
      i = stop;
    } else if (c === '"') {
      const start = line;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length || text[i] === '\n' || text[i] === '\r') fail(start, 'unterminated quoted string');
        const d = text[i++];
        if (d === '"') break;
        if (d !== '\\') {
          value += d;
          continue;
        }
        const octal = /^[0-3][0-7]{0,2}|^[4-7][0-7]?/.exec(text.slice(i, i + 3));
        if (octal !== null) {
          value += String.fromCharCode(parseInt(octal[0], 8));
          i += octal[0].length;
        } else if (i < text.length) {
          if (text[i] === '\n' || (text[i] === '\r' && text[i + 1] !== '\n')) line++;
          value += ESCAPES[text[i]] ?? text[i];
          i++;
        }
      }
      tokens.push({ kind: 'quoted', text: value, line: start });
    } else if (c === "'") {
      fail(line, 'single-quoted strings are not allowed (Java rejects them); use double quotes');
    } else if (/[0-9.]/.test(c) || (c === '-' && /[0-9.]/.test(text[i + 1] ?? ''))) {
      const m = /^-?[0-9.]*/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'number', text: m[0], line });
      i += m[0].length;
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < text.length && isWordPart(text[j])) j++;
      tokens.push({ kind: 'word', text: text.slice(i, j), line });
      i = j;
    } else {
      tokens.push({ kind: 'char', text: c, line });
      i++;
    }
  }
  tokens.push({ kind: 'eof', text: '', line });
  return tokens;
}

/** Parses a JAAS configuration; throws ZktsError ZKTS_ERR_JAAS naming file and line on a syntax error. */
export function parseJaasConfig(text: string, file: string): JaasConfig {
  const tokens = tokenize(text, file);
  let pos = 0;
  const describe = (t: Token): string =>
    t.kind === 'eof' ? 'end of file' : t.kind === 'quoted' ? `"${t.text}"` : t.kind === 'number' ? `number ${t.text} (quote it)` : `"${t.text}"`;
  const fail = (t: Token, expected: string): never => {
    throw new ZktsError('ZKTS_ERR_JAAS', `${file}:${t.line}: expected ${expected}, found ${describe(t)}; fix the JAAS configuration file`);
  };
  const name = (expected: string): string => {
    const t = tokens[pos];
    if (t.kind !== 'word' && t.kind !== 'quoted') fail(t, expected);
    pos++;
    return t.text;
  };
  const punct = (c: string): void => {
    const t = tokens[pos];
    if (t.kind !== 'char' || t.text !== c) fail(t, `"${c}"`);
    pos++;
  };
  const peek = (c: string): boolean => tokens[pos].kind === 'char' && tokens[pos].text === c;

  const config: JaasConfig = new Map();
  while (tokens[pos].kind !== 'eof') {
    const sectionToken = tokens[pos];
    const section = name('a section name');
    punct('{');
    const entries: JaasEntry[] = [];
    while (!peek('}')) {
      const loginModule = name('a login module class name');
      const flagToken = tokens[pos];
      const flag = name('a control flag').toLowerCase() as JaasFlag;
      if (!FLAGS.includes(flag)) fail(flagToken, 'a control flag (required, requisite, sufficient or optional)');
      const options = new Map<string, string>();
      while (!peek(';')) {
        const key = name('an option name or ";"');
        punct('=');
        options.set(key, name(`a value for option ${key}`));
      }
      pos++;
      entries.push({ loginModule, flag, options });
    }
    punct('}');
    punct(';');
    if (config.has(section)) {
      throw new ZktsError('ZKTS_ERR_JAAS', `${file}:${sectionToken.line}: section ${section} is defined twice; merge the two`);
    }
    config.set(section, entries);
  }
  return config;
}

/**
 * The users and passwords ZooKeeper's SASL DIGEST-MD5 server accepts: every option named
 * user_<name> of every entry of the section (ServerCnxnFactory.getDigestMd5Credentials), whatever
 * its login module. undefined when the section is missing or empty, which ZooKeeper takes to
 * mean that SASL is not configured.
 */
export function digestMd5Credentials(config: JaasConfig, section = 'Server'): Map<string, string> | undefined {
  const entries = config.get(section);
  if (entries === undefined || entries.length === 0) return undefined;
  const credentials = new Map<string, string>();
  for (const entry of entries) {
    for (const [key, value] of entry.options) {
      if (key.startsWith('user_')) credentials.set(key.slice('user_'.length), value);
    }
  }
  return credentials;
}
