// One record of the JSON envelope, checked member by member. Every problem is reported (not just the
// first) so a caller can fix a whole batch at once.

import { MAX_HASH_KEY, parsePartitionId } from '../../dis/wire.ts';
import { compactValueBytes } from '../../json/compact.ts';
import { keyStringProblem } from '../../json/key-string.ts';
import { stringValue, type JsonNode } from '../../json/node.ts';
import { appendPointer, MAX_ECHOED_NAME, resolvePointer } from '../../json/pointer.ts';
import type { JsonPointer } from '../../json/pointer.ts';
import type { ProblemList } from './problems.ts';
import { decodeStrictBase64 } from './strict-base64.ts';
import type { ParsedRecord, RecordsParseOptions } from './types.ts';

export interface RecordContext {
  readonly text: string;
  readonly options: RecordsParseOptions;
  readonly problems: ProblemList;
}

const FIELDS = [
  'data',
  'data_base64',
  'id',
  'partition_key',
  'partition_id',
  'explicit_hash_key',
] as const;
type FieldName = (typeof FIELDS)[number];
const FIELD_NAMES: ReadonlySet<string> = new Set(FIELDS);

function isFieldName(key: string): key is FieldName {
  return FIELD_NAMES.has(key);
}

/** Decimal without sign or leading zeros; the value is also checked against MAX_HASH_KEY. */
export const HASH_KEY = /^(?:0|[1-9][0-9]{0,18})$/;

/** A record whose only content is `data` (NDJSON lines, and the `data` member of the envelope). */
export function dataRecord(ctx: RecordContext, data: JsonNode, pointer: string): ParsedRecord {
  const bytes = compactValueBytes(ctx.text, data);
  if (bytes.length > ctx.options.maxRecordBytes) {
    ctx.problems.add(
      pointer,
      `data is ${bytes.length} bytes as compact JSON; at most ${ctx.options.maxRecordBytes} per record`,
      true,
    );
  }
  const keyPointer = ctx.options.partitionKeyPointer;
  const pointerKey =
    keyPointer === undefined ? undefined : pointerKeyOf(ctx.text, data, keyPointer);
  return pointerKey === undefined ? { data: bytes } : { data: bytes, pointerKey };
}

/** The record at `pointer`, or undefined when it had problems (added to `ctx.problems`). */
export function parseEnvelopeRecord(
  ctx: RecordContext,
  node: JsonNode,
  pointer: string,
): ParsedRecord | undefined {
  const { problems, text } = ctx;
  if (node.kind !== 'object') {
    problems.add(pointer, 'a record must be a JSON object');
    return undefined;
  }
  const before = problems.size;
  const fields = new Map<FieldName, JsonNode>();
  for (const member of node.members ?? []) {
    const at = appendPointer(pointer, member.key);
    if (!isFieldName(member.key)) {
      const name =
        member.key.length > MAX_ECHOED_NAME
          ? `with a ${member.key.length}-character name`
          : JSON.stringify(member.key);
      problems.add(at, `unknown member ${name}; allowed: ${FIELDS.join(', ')}`);
    } else if (fields.has(member.key)) {
      problems.add(at, `duplicate member "${member.key}"`);
    } else {
      fields.set(member.key, member.value);
    }
  }

  const string = (field: FieldName): string | undefined => {
    const value = fields.get(field);
    if (value === undefined) return undefined;
    if (value.kind === 'string') return stringValue(text, value);
    problems.add(appendPointer(pointer, field), `"${field}" must be a string`);
    return undefined;
  };
  const problemAt = (field: FieldName, detail: string | undefined): void => {
    if (detail !== undefined) problems.add(appendPointer(pointer, field), `"${field}" ${detail}`);
  };

  const dataNode = fields.get('data');
  const base64 = string('data_base64');
  if ((dataNode === undefined) === (fields.get('data_base64') === undefined)) {
    problems.add(
      pointer,
      dataNode === undefined
        ? 'a record needs "data" or "data_base64"'
        : 'a record must have only one of "data" and "data_base64"',
    );
  }
  let data: ParsedRecord | undefined;
  if (dataNode !== undefined) data = dataRecord(ctx, dataNode, appendPointer(pointer, 'data'));
  if (base64 !== undefined) {
    const decoded = decodeStrictBase64(base64, ctx.options.maxRecordBytes);
    if (decoded.ok) data = { data: decoded.bytes };
    else
      problems.add(
        appendPointer(pointer, 'data_base64'),
        decoded.reason,
        decoded.tooLarge === true,
      );
  }

  const id = string('id');
  if (id !== undefined) problemAt('id', keyStringProblem(id));
  const partitionKey = string('partition_key');
  if (partitionKey !== undefined) problemAt('partition_key', keyStringProblem(partitionKey));
  const partitionId = string('partition_id');
  if (partitionId !== undefined) problemAt('partition_id', partitionIdProblem(partitionId, ctx));
  const explicitHashKey = string('explicit_hash_key');
  if (explicitHashKey !== undefined) {
    problemAt('explicit_hash_key', hashKeyProblem(explicitHashKey));
  }

  if (problems.size > before || data === undefined) return undefined;
  const keyed =
    partitionKey !== undefined || partitionId !== undefined || explicitHashKey !== undefined;
  return {
    data: data.data,
    ...(id === undefined ? {} : { id }),
    ...(partitionKey === undefined ? {} : { partitionKey }),
    ...(partitionId === undefined ? {} : { partitionId }),
    ...(explicitHashKey === undefined ? {} : { explicitHashKey }),
    ...(keyed || data.pointerKey === undefined ? {} : { pointerKey: data.pointerKey }),
  };
}

function partitionIdProblem(value: string, ctx: RecordContext): string | undefined {
  const index = parsePartitionId(value);
  if (index === undefined) {
    return 'must be a partition id like "shardId-0000000003" or a partition index like "3"';
  }
  const partitions = ctx.options.partitions;
  if (partitions !== undefined && index >= partitions) {
    return `names partition ${index} but the stream has ${partitions} (0 to ${partitions - 1})`;
  }
  return undefined;
}

function hashKeyProblem(value: string): string | undefined {
  if (!HASH_KEY.test(value) || BigInt(value) > MAX_HASH_KEY) {
    return `must be a decimal integer from 0 to ${MAX_HASH_KEY} without sign or leading zeros`;
  }
  return undefined;
}

/** See ParsedRecord.pointerKey. */
function pointerKeyOf(text: string, data: JsonNode, pointer: JsonPointer): string | undefined {
  const node = resolvePointer(data, pointer);
  if (node === undefined) return undefined;
  switch (node.kind) {
    case 'string': {
      const value = stringValue(text, node);
      return keyStringProblem(value) === undefined ? value : undefined;
    }
    case 'number':
    case 'true':
    case 'false':
      return text.slice(node.start, node.end);
    default:
      return undefined;
  }
}
