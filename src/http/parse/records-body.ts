// The records endpoint's body: application/json `{"records": [ … ]}` or application/x-ndjson, parsed
// and validated all-or-nothing into the records to write.
//
// NDJSON: lines are split on LF; a CR before it is JSON whitespace and so tolerated. Blank (empty or
// whitespace-only) lines are skipped wherever they are, including the usual final newline: they carry
// no record, and NDJSON allows ignoring them. Pointers are `/<record index>` counting records, not
// lines; each problem's detail also gives the line number.

import { AppError } from '../../errors/app-error.ts';
import type { JsonNode } from '../../json/node.ts';
import { appendPointer, MAX_ECHOED_NAME } from '../../json/pointer.ts';
import { scanJson } from '../../json/scanner.ts';
import { codeAt, isJsonWhitespace } from '../../json/tokens.ts';
import { decodeUtf8Body } from './body-text.ts';
import { createProblemList, describePosition, singleProblem } from './problems.ts';
import { dataRecord, parseEnvelopeRecord, type RecordContext } from './record-fields.ts';
import type { ParsedRecord, RecordsParseOptions } from './types.ts';

/** Body object, `records` array, record object: members below are `data` content. */
const ENVELOPE_DEPTH = 3;

/**
 * Every record of the body, or an AppError: 400 `ERR_HTTP_INVALID_UTF8` / `ERR_HTTP_INVALID_JSON`
 * (with line and column), 400 `ERR_VALIDATION` or 413 `ERR_VALIDATION_TOO_LARGE` listing each problem
 * with its JSON pointer in `errors`.
 */
export function parseJsonRecords(body: Buffer, options: RecordsParseOptions): ParsedRecord[] {
  const text = decodeUtf8Body(body);
  const scanned = scanJson(text, 0, text.length, {
    maxDepth: options.maxDepth,
    materializeDepth: ENVELOPE_DEPTH + (options.partitionKeyPointer?.length ?? 0),
  });
  if (!scanned.ok) {
    const { failure } = scanned;
    if (failure.kind === 'depth') throw singleProblem(failure.pointer, failure.reason);
    const detail = `${failure.reason} at ${describePosition(text, failure.offset)}`;
    throw new AppError('ERR_HTTP_INVALID_JSON', {
      detail,
      extensions: { errors: [{ pointer: failure.pointer, detail }] },
    });
  }

  const items = envelopeRecords(scanned.value);
  if (items.length > options.maxRecords) {
    throw singleProblem(
      '/records',
      `${items.length} records; at most ${options.maxRecords} per request`,
      true,
    );
  }
  const ctx: RecordContext = { text, options, problems: createProblemList() };
  const records: ParsedRecord[] = [];
  items.forEach((item, index) => {
    const record = parseEnvelopeRecord(ctx, item, `/records/${index}`);
    if (record !== undefined) records.push(record);
  });
  ctx.problems.throwIfAny();
  return records;
}

/** The items of the `records` array, after checking the envelope around it. */
function envelopeRecords(root: JsonNode): readonly JsonNode[] {
  const shape = 'the body must be a JSON object {"records": [ … ]}';
  if (root.kind !== 'object') throw singleProblem('', shape);
  const problems = createProblemList();
  let records: JsonNode | undefined;
  for (const member of root.members ?? []) {
    const at = appendPointer('', member.key);
    if (member.key !== 'records') {
      const name =
        member.key.length > MAX_ECHOED_NAME ? 'with a long name' : JSON.stringify(member.key);
      problems.add(at, `unknown member ${name}; ${shape}`);
    } else if (records !== undefined) {
      problems.add(at, 'duplicate member "records"');
    } else {
      records = member.value;
    }
  }
  if (records === undefined) problems.add('/records', `missing; ${shape}`);
  else if (records.kind !== 'array') problems.add('/records', '"records" must be an array');
  else if (records.items?.length === 0) {
    problems.add('/records', '"records" must hold at least one record');
  }
  problems.throwIfAny();
  return records?.kind === 'array' ? (records.items ?? []) : [];
}

/**
 * Every record of the body, or an AppError as for parseJsonRecords. Malformed lines are all reported
 * (400 `ERR_HTTP_INVALID_JSON`) before other problems; the depth limit applies per line.
 */
export function parseNdjsonRecords(body: Buffer, options: RecordsParseOptions): ParsedRecord[] {
  const text = decodeUtf8Body(body);
  const limits = {
    maxDepth: options.maxDepth,
    materializeDepth: options.partitionKeyPointer?.length ?? 0,
  };
  const malformed = createProblemList();
  const ctx: RecordContext = { text, options, problems: createProblemList() };
  const records: ParsedRecord[] = [];
  let index = 0;
  let line = 0;
  for (let lineStart = 0; lineStart < text.length;) {
    line++;
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    if (!isBlank(text, lineStart, lineEnd)) {
      if (index >= options.maxRecords) {
        throw singleProblem(
          '',
          `more than ${options.maxRecords} records; at most ${options.maxRecords} per request`,
          true,
        );
      }
      const pointer = `/${index}`;
      const scanned = scanJson(text, lineStart, lineEnd, limits);
      if (scanned.ok) {
        const record = dataRecord(ctx, scanned.value, pointer);
        if (record.data.length <= options.maxRecordBytes) records.push(record);
      } else {
        const { failure } = scanned;
        const where = `line ${line}, column ${failure.offset - lineStart + 1}`;
        const list = failure.kind === 'depth' ? ctx.problems : malformed;
        list.add(pointer + failure.pointer, `${failure.reason} at ${where}`);
      }
      index++;
    }
    lineStart = lineEnd + 1;
  }
  if (index === 0) {
    throw singleProblem('', 'no records: the body must hold one JSON value per line');
  }
  malformed.throwIfAny('ERR_HTTP_INVALID_JSON');
  ctx.problems.throwIfAny();
  return records;
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isJsonWhitespace(codeAt(text, i))) return false;
  return true;
}
