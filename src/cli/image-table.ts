// `tsproc images` as a table in docker's columns: REPOSITORY TAG IMAGE ID CREATED SIZE.
import type { ImageRecord } from '../../runner/image/index.js';
import { hexOf } from '../../runner/image/digest.js';
import { splitName } from '../../runner/image/reference.js';

export { hexOf };

export function formatImages(images: ImageRecord[], now: Date): string {
  const rows = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']];
  const sorted = [...images].sort((a, b) => created(b).localeCompare(created(a)));
  for (const i of sorted) {
    const id = hexOf(i.id).slice(0, 12);
    const when = ago(new Date(created(i)), now);
    const names = i.names.length > 0 ? i.names.map(splitName) : [{ repository: '<none>', tag: '<none>' }];
    for (const n of names) rows.push([n.repository, n.tag, id, when, human(i.size)]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 3))).join('')).join('\n') + '\n';
}

const created = (i: ImageRecord) => i.config.created ?? i.imported;

/** docker's wording: `5 minutes ago`, `1 hour ago`. */
export function ago(then: Date, now: Date): string {
  let n = (now.getTime() - then.getTime()) / 1000;
  if (Number.isNaN(n)) return 'unknown';
  if (n < 1) return 'Less than a second ago';
  const steps: Array<[number, string]> = [[60, 'second'], [60, 'minute'], [24, 'hour'], [7, 'day'], [4.35, 'week'], [12, 'month'], [Infinity, 'year']];
  for (const [size, unit] of steps) {
    if (n < size) return `${Math.floor(n)} ${unit}${Math.floor(n) === 1 ? '' : 's'} ago`;
    n /= size;
  }
  return 'unknown';
}

/** Sizes as docker prints them: decimal units, three significant digits. */
export function human(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let n = bytes;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toPrecision(3)}${units[i]}`;
}
