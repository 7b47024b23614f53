import { z } from 'zod';
import type { CursorType } from '../dis/wire.ts';

/** Cursors are valid for five minutes on the emulator clock (dis-api.md §7). */
export const CURSOR_TTL_MS = 5 * 60 * 1000;

export const CURSOR_TYPES = [
  'AT_SEQUENCE_NUMBER',
  'AFTER_SEQUENCE_NUMBER',
  'TRIM_HORIZON',
  'LATEST',
  'AT_TIMESTAMP',
] as const satisfies readonly CursorType[];

export interface CursorPayload {
  readonly streamName: string;
  /** A cursor of a deleted and re-created stream must not read the new one. */
  readonly streamId: string;
  readonly partition: number;
  readonly cursorType: CursorType;
  /** Next sequence number this cursor reads. */
  readonly position: bigint;
  readonly generatedAt: number;
}

// Same outer shape as the cursors DIS documents (Base64 of JSON with getIteratorParam and
// generateTimestamp); clients must treat it as opaque anyway.
const Wire = z.object({
  getIteratorParam: z.object({
    'stream-name': z.string(),
    'partition-id': z.string().regex(/^\d{1,10}$/),
    'cursor-type': z.enum(CURSOR_TYPES),
    'starting-sequence-number': z.string().regex(/^\d{1,19}$/),
  }),
  generateTimestamp: z.number().int(),
  streamId: z.string(),
});

export function encodeCursor(cursor: CursorPayload): string {
  const wire: z.input<typeof Wire> = {
    getIteratorParam: {
      'stream-name': cursor.streamName,
      'partition-id': String(cursor.partition),
      'cursor-type': cursor.cursorType,
      'starting-sequence-number': String(cursor.position),
    },
    generateTimestamp: cursor.generatedAt,
    streamId: cursor.streamId,
  };
  return Buffer.from(JSON.stringify(wire), 'utf8').toString('base64');
}

export function decodeCursor(text: string): CursorPayload | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length > 512) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  const result = Wire.safeParse(parsed);
  if (!result.success) return undefined;
  const { getIteratorParam: p } = result.data;
  return {
    streamName: p['stream-name'],
    streamId: result.data.streamId,
    partition: Number(p['partition-id']),
    cursorType: p['cursor-type'],
    position: BigInt(p['starting-sequence-number']),
    generatedAt: result.data.generateTimestamp,
  };
}
