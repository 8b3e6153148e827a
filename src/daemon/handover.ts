// What one serving process hands the next over a live connection (a reload or a takeover): INIT's
// agreement, the nodes' time, the open handles with their snapshots and the tracked containers'
// loads. One JSON text (bigints and bytes as strings), on the supervisor's IPC channel and its socket.
import type { Agreement } from '../../fs/dispatcher.js';
import type { ConnectionState } from '../../fs/server.js';
import type { KeptHandle } from '../../fs/tree/handle-store.js';
import { TsprocError } from '../errors.js';
import type { KeptLoad } from './loadavg/sampler.js';

/** Raised when the layout below changes; a daemon refuses a hand-over in a format it does not know. */
export const HANDOVER_FORMAT = 1;

export interface Handover {
  connection: ConnectionState;
  loads: KeptLoad[];
}

interface Wire {
  format: number;
  agreement?: Agreement;
  time: number;
  handles: Array<{ fh: string; fresh: boolean; content?: string }>;
  loads: KeptLoad[];
}

export function encodeHandover(h: Handover): string {
  const wire: Wire = {
    format: HANDOVER_FORMAT,
    ...(h.connection.agreement ? { agreement: h.connection.agreement } : {}),
    time: h.connection.time,
    handles: h.connection.handles.map((k) => ({
      fh: k.fh.toString(),
      fresh: k.fresh,
      ...(k.content ? { content: k.content.toString('base64') } : {}),
    })),
    loads: h.loads,
  };
  return JSON.stringify(wire);
}

export function decodeHandover(text: string): Handover {
  let wire: Wire;
  try {
    wire = JSON.parse(text) as Wire;
  } catch (err) {
    throw new TsprocError(`the hand-over is not JSON: ${(err as Error).message}`, { code: 'EPROTO', cause: err });
  }
  if (wire?.format !== HANDOVER_FORMAT)
    throw new TsprocError(`the hand-over is in format ${String(wire?.format)}; this tsproc reads format ${HANDOVER_FORMAT}`, {
      code: 'EPROTO',
    });
  const handles: KeptHandle[] = (wire.handles ?? []).map((k) => ({
    fh: BigInt(k.fh),
    fresh: k.fresh === true,
    ...(k.content !== undefined ? { content: Buffer.from(k.content, 'base64') } : {}),
  }));
  return { connection: { ...(wire.agreement ? { agreement: wire.agreement } : {}), time: wire.time, handles }, loads: wire.loads ?? [] };
}
