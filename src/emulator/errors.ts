import type { ApiGatewayErrorBody, DisErrorBody } from '../dis/wire.ts';

// Messages as documented in the DIS error-code table (dis-api.md §3.2); `%s` details are appended.
const DIS_MESSAGES = {
  'DIS.4117': 'Invalid Project Id.',
  'DIS.4200': 'Invalid request.',
  'DIS.4201': 'Invalid partition_id.',
  'DIS.4202': 'Empty request.',
  'DIS.4215': 'Invalid cursor type.',
  'DIS.4216': 'Invalid sequence_number.',
  'DIS.4217': 'Invalid partition cursor.',
  'DIS.4224': 'Sequence_number out of range.',
  'DIS.4225': 'Expired partition cursor.',
  'DIS.4226':
    'A partition iterator error occurred or a record to which the SN corresponds has expired. Try to obtain the partition iterator again.',
  'DIS.4300': 'Request error.',
  'DIS.4301': 'The stream does not exist.',
  'DIS.4302': 'Partition does not exist.',
  'DIS.4303': 'Exceeded traffic control limit.',
  'DIS.4307': 'The stream already exists.',
  'DIS.4308': 'Insufficient quota.',
  'DIS.5000': 'System error.',
} as const;

export type DisCode = keyof typeof DIS_MESSAGES;

export function disMessage(code: DisCode, detail?: string): string {
  const base = DIS_MESSAGES[code];
  return detail === undefined ? base : `${base} ${detail}`;
}

/** Thrown by operations; the server turns it into the body shape of whoever would answer in the cloud. */
export class EmulatorError extends Error {
  readonly status: number;
  readonly shape: 'dis' | 'apigw';
  readonly code: string;

  constructor(status: number, shape: 'dis' | 'apigw', code: string, message: string) {
    super(message);
    this.name = 'EmulatorError';
    this.status = status;
    this.shape = shape;
    this.code = code;
  }
}

export function disError(code: DisCode, detail?: string, status = 400): EmulatorError {
  return new EmulatorError(status, 'dis', code, disMessage(code, detail));
}

export function apigwError(status: number, code: string, message: string): EmulatorError {
  return new EmulatorError(status, 'apigw', code, message);
}

export function errorBody(
  error: Pick<EmulatorError, 'shape' | 'code' | 'message'>,
  requestId: string,
): DisErrorBody | ApiGatewayErrorBody {
  return error.shape === 'dis'
    ? { errorCode: error.code, message: error.message }
    : { error_code: error.code, error_msg: error.message, request_id: requestId };
}
