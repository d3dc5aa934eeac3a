/** The browser bundle's `path`: the few POSIX functions the bundled modules call on paths. */
export const sep = '/';

export function join(...parts: string[]): string {
  return normalize(parts.filter(Boolean).join('/'));
}

export function resolve(...parts: string[]): string {
  const from = parts.reduce((acc, p) => (p.startsWith('/') ? p : `${acc}/${p}`), '/');
  return normalize(from);
}

export function basename(file: string): string {
  return file.split('/').filter(Boolean).pop() ?? '';
}

export function dirname(file: string): string {
  const i = file.replace(/\/+$/, '').lastIndexOf('/');
  return i <= 0 ? (file.startsWith('/') ? '/' : '.') : file.slice(0, i);
}

function normalize(file: string): string {
  const out: string[] = [];
  for (const part of file.split('/')) {
    if (part === '..') out.pop();
    else if (part && part !== '.') out.push(part);
  }
  return (file.startsWith('/') ? '/' : '') + out.join('/');
}
