// `tsproc images` as a table in docker's columns: REPOSITORY TAG IMAGE ID CREATED SIZE.
import type { ImageRecord } from '../../runner/image/index.js';
import { hexOf } from '../../runner/image/digest.js';
import { splitName } from '../../runner/image/reference.js';
import { humanDuration, humanSize } from '../human.js';
import { table } from './table.js';

export { hexOf };

export function formatImages(images: ImageRecord[], now: Date): string {
  const rows = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']];
  const sorted = [...images].sort((a, b) => created(b).localeCompare(created(a)));
  for (const i of sorted) {
    const id = hexOf(i.id).slice(0, 12);
    const age = now.getTime() - new Date(created(i)).getTime();
    const when = Number.isFinite(age) ? `${humanDuration(age)} ago` : 'N/A';
    const names = i.names.length > 0 ? i.names.map(splitName) : [{ repository: '<none>', tag: '<none>' }];
    for (const n of names) rows.push([n.repository, n.tag, id, when, humanSize(i.size)]);
  }
  return table(rows);
}

const created = (i: ImageRecord) => i.config.created ?? i.imported;
