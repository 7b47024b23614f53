import { InvariantError } from '../../errors/coded-error.ts';
import type { RecordsRender, VerdictView, VerdictsView } from '../../ingest/accept-records.ts';

// How the front door speaks: DIS's own shapes (dis-api.md §2.2, §3.1), so that an SDK written for
// DIS reads every answer. Per-record results in a 200; whole-request errors as DIS's service writes
// them (`errorCode`, `message`); signature and token failures as DIS's API gateway writes them
// (`error_code`, `error_msg`, `request_id`).

/** DIS's throttling code: every SDK retries the records that carry it, with backoff. */
export const THROTTLED = { code: 'DIS.4303', message: 'Exceeded traffic control limit.' } as const;

/** A server-side per-record failure that java-dis (`DIS.5`), python-dis (`DIS.5250`) and go-dis retry. */
const RETRYABLE_SERVER = 'DIS.5250';

/** A whole-request answer in DIS's shape. */
export class DisAnswerError extends Error {
  readonly status: number;
  readonly disCode: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    disCode: string,
    message: string,
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'DisAnswerError';
    this.status = status;
    this.disCode = disCode;
    this.headers = headers;
  }
}

export const invalidRequest = (detail: string, status = 400): DisAnswerError =>
  new DisAnswerError(status, 'DIS.4200', `Invalid request. ${detail}`);

export const systemError = (
  status: number,
  detail: string,
  headers?: Readonly<Record<string, string>>,
): DisAnswerError => new DisAnswerError(status, 'DIS.5000', `System error. ${detail}`, headers);

export function disErrorBody(error: DisAnswerError): string {
  return JSON.stringify({ errorCode: error.disCode, message: error.message });
}

/** DIS's API gateway's refusal: one body for every reason, which the log records instead. */
export function apiGatewayRefusal(via: 'aksk' | 'token', requestId: string): string {
  const reason = via === 'aksk' ? 'verify aksk signature fail' : 'decrypt token fail';
  return JSON.stringify({
    error_msg: `Incorrect IAM authentication information: ${reason}`,
    error_code: 'APIGW.0301',
    request_id: requestId,
  });
}

export type DisResultEntry =
  | { readonly partition_id: string; readonly sequence_number: string }
  | { readonly error_code: string; readonly error_message: string };

/**
 * One record's verdict in DIS's words. DIS's own codes pass as they are. The gateway's reasons
 * become the codes the SDKs act on: a record that was not sent because the gateway's queue or
 * the caller's wait ran out is throttling (`DIS.4303`); another failure the same record may pass
 * later is a retryable server error (`DIS.5250`); a final one keeps the gateway's code (no SDK
 * retries it) and says why.
 */
export function disResultEntry(verdict: VerdictView): DisResultEntry {
  if (verdict.status === 'ok')
    return { partition_id: verdict.partitionId, sequence_number: verdict.sequenceNumber };
  const { errorCode, errorMessage } = verdict;
  if (errorCode.startsWith('DIS.')) return { error_code: errorCode, error_message: errorMessage };
  if (errorCode === 'ERR_DIS_NOT_SENT' || errorCode === 'ERR_INGEST_OVERLOADED')
    return { error_code: THROTTLED.code, error_message: THROTTLED.message };
  if (verdict.retryable)
    return { error_code: RETRYABLE_SERVER, error_message: `System error. ${errorMessage}` };
  return { error_code: errorCode, error_message: errorMessage };
}

export interface DisPutResult {
  readonly failedCount: number;
  readonly records: readonly DisResultEntry[];
}

export function toDisPutResult(outcome: VerdictsView): DisPutResult {
  const records = outcome.verdicts.map(disResultEntry);
  let failedCount = 0;
  for (const record of records) if ('error_code' in record) failedCount += 1;
  return { failedCount, records };
}

/** Every record refused with DIS.4303: the gateway's limits, in the terms the SDKs retry. */
export function throttledResult(count: number): DisPutResult {
  const entry: DisResultEntry = { error_code: THROTTLED.code, error_message: THROTTLED.message };
  return { failedCount: count, records: Array.from({ length: count }, () => entry) };
}

export function putResultJson(result: DisPutResult): string {
  return JSON.stringify({ failed_record_count: result.failedCount, records: result.records });
}

/** The front door's render: every answer is DIS's PutRecords 200 (front-door calls are sync). */
export const DIS_RENDER: RecordsRender = {
  verdicts: (_stream, outcome) => ({
    status: 200,
    headers: {},
    body: putResultJson(toDisPutResult(outcome)),
  }),
  accepted: () => {
    throw new InvariantError('the DIS front door hands records off synchronously only');
  },
};
