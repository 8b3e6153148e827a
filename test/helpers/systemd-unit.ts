// A systemd unit file read as systemd reads it, for tests that run its Exec lines by hand (no systemd
// is PID 1 here): sections and settings (systemd.syntax(7)), and a command line split into the argv
// systemd would exec, with $VAR and ${VAR} expanded (systemd.service(5), "Command lines").
import { readFileSync } from 'node:fs';

export type Unit = Map<string, Map<string, string[]>>;

/** Every setting of every section, in order (a setting given twice has two values; an empty one resets it). */
export function parseUnit(file: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    // a backslash at the end continues the line (comment lines inside are skipped)
    while (line.endsWith('\\') && i + 1 < lines.length) {
      const next = lines[++i]!.trim();
      line = `${line.slice(0, -1)} ${next.startsWith('#') || next.startsWith(';') ? '' : next}`.trimEnd();
    }
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq < 1) throw new Error(`${file}:${i + 1}: not a setting: ${line}`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    section.set(key, value === '' ? [] : [...(section.get(key) ?? []), value]);
  }
  return unit;
}

/** The one value of a setting; throws if it is missing or given more than once. */
export function setting(unit: Unit, section: string, key: string): string {
  const values = unit.get(section)?.get(key) ?? [];
  if (values.length !== 1) throw new Error(`[${section}] ${key}= is given ${values.length} times, not once`);
  return values[0]!;
}

/**
 * The argv of one Exec line. Words are split at whitespace; "..." and '...' quote (with C escapes
 * inside). Then, in each word (quoted or not, as systemd does it after unquoting): `$$` is a dollar
 * sign, `${VAR}` expands in place, and a word that is `$VAR` alone becomes the value's words. A
 * leading prefix (`-`, `@`, `:`, `+`, `!`) and a braceless `$VAR` inside a word are refused: the
 * units here use neither.
 */
export function execArgv(line: string, env: Record<string, string>): string[] {
  if (/^[-@:+!]/.test(line)) throw new Error(`Exec prefix not handled here: ${line}`);
  const value = (name: string) => {
    if (!(name in env)) throw new Error(`$${name} is not set`);
    return env[name]!;
  };
  return splitWords(line).flatMap((word) => {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole) return value(whole[1]!).split(/\s+/).filter(Boolean);
    return [
      word.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_])/g, (_m, braced: string | undefined, bare: string | undefined) => {
        if (bare) throw new Error(`a braceless $${bare}... inside a word: ${line}`);
        return braced ? value(braced) : '$';
      }),
    ];
  });
}

/** Whitespace-separated words, quotes removed and escapes applied. */
function splitWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length) break;
    let word = '';
    while (i < line.length && !/\s/.test(line[i]!)) {
      const c = line[i]!;
      if (c === '"' || c === "'") {
        for (i++; line[i] !== c; i++) {
          if (i >= line.length) throw new Error(`unterminated quote: ${line}`);
          if (line[i] !== '\\') word += line[i];
          else {
            const e = line[++i] ?? '';
            word += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          }
        }
        i++;
      } else if (c === '\\') {
        word += line[i + 1] ?? '';
        i += 2;
      } else {
        word += c;
        i++;
      }
    }
    words.push(word);
  }
  return words;
}
