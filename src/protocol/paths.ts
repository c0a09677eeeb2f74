// paths.ts — znode path rules, identical to ZooKeeper's PathUtils.validatePath: absolute, no
// trailing slash, no empty, "." or ".." segments, no NUL and none of the reserved characters.
// Returns the reason a path is invalid, or null when it is valid.

export function pathError(path: string | null, isSequential = false): string | null {
  if (path === null) return 'Path cannot be null';
  const p = isSequential ? path + '1' : path;
  if (p.length === 0) return 'Path length must be > 0';
  if (p.charCodeAt(0) !== 0x2f) return 'Path must start with / character';
  if (p.length === 1) return null;
  if (p.charCodeAt(p.length - 1) === 0x2f) return 'Path must not end with / character';
  let last = 0x2f;
  for (let i = 1; i < p.length; last = p.charCodeAt(i), i++) {
    const c = p.charCodeAt(i);
    const nextIsEnd = i + 1 === p.length || p.charCodeAt(i + 1) === 0x2f;
    let reason: string | null = null;
    if (c === 0) reason = `null character not allowed @${i}`;
    else if (c === 0x2f && last === 0x2f) reason = `empty node name specified @${i}`;
    else if (c === 0x2e && last === 0x2e) {
      if (p.charCodeAt(i - 2) === 0x2f && nextIsEnd) reason = `relative paths not allowed @${i}`;
    } else if (c === 0x2e) {
      if (p.charCodeAt(i - 1) === 0x2f && nextIsEnd) reason = `relative paths not allowed @${i}`;
    } else if (
      (c > 0 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      reason = `invalid character @${i}`;
    }
    if (reason !== null) return `Invalid path string "${p}" caused by ${reason}`;
  }
  return null;
}

export function isValidPath(path: string, isSequential = false): boolean {
  return pathError(path, isSequential) === null;
}

/** Parent of an absolute, valid path ('/' for top-level nodes). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.substring(0, i);
}

/** Last segment of an absolute, valid path ('' for the root). */
export function baseName(path: string): string {
  return path.substring(path.lastIndexOf('/') + 1);
}

export function joinPath(parent: string, child: string): string {
  return parent === '/' ? '/' + child : parent + '/' + child;
}
