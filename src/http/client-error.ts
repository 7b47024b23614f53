import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.ts';
import { AppError, toProblem } from '../errors/app-error.ts';
import type { ErrorCode } from '../errors/catalog.ts';
import { PROBLEM_CONTENT_TYPE } from './middleware/problem-handler.ts';
import { requestIdFor } from './middleware/request-id.ts';

// Answers Node's HTTP server gives before the app sees a request: a message llhttp cannot frame
// (Content-Length with Transfer-Encoding, a bad chunk size, a bad header byte), headers over
// maxHeaderSize, a request that has not arrived within its timeout, and an Expect other than
// 100-continue. Node's own answers are bare status lines; these are problem+json with a request
// id, like every other answer, and close the connection: after a framing error nothing more on it
// can be trusted.

export interface ClientErrorOptions {
  readonly logger: Logger;
  /** Counts each answer by its problem code. */
  readonly count?: ((code: ErrorCode) => void) | undefined;
  readonly generateId?: (() => string) | undefined;
}

/** The error Node hands to `clientError`: llhttp's `HPE_*` codes, its timeout, or a socket's. */
interface ClientError extends Error {
  readonly code?: unknown;
}

function answerFor(error: ClientError): AppError | undefined {
  const code = typeof error.code === 'string' ? error.code : '';
  if (code === 'HPE_HEADER_OVERFLOW')
    return new AppError('ERR_HTTP_HEADERS_TOO_LARGE', {
      detail: 'The request line and headers are over the size limit',
    });
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW')
    return new AppError('ERR_HTTP_BODY_TOO_LARGE', {
      detail: 'The chunk extensions are over the size limit',
    });
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return new AppError('ERR_HTTP_REQUEST_TIMEOUT', {
      detail: 'The request headers or body did not arrive within the server’s timeout',
    });
  if (code.startsWith('HPE_'))
    return new AppError('ERR_HTTP_BAD_REQUEST', {
      detail: 'The request is not well-formed HTTP/1.1 (framing, header syntax or chunk encoding)',
    });
  // ECONNRESET, EPIPE, …: the socket failed, there is nobody to answer.
  return undefined;
}

/** A complete HTTP/1.1 answer; its bytes are written straight to the socket. */
function problemMessage(error: AppError, requestId: string): string {
  const problem = toProblem(error);
  const body = JSON.stringify(problem.body);
  return [
    `HTTP/1.1 ${String(problem.status)} ${STATUS_CODES[problem.status] ?? ''}`,
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${String(Buffer.byteLength(body))}`,
    `X-Request-Id: ${requestId}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

export interface ClientErrorHandlers {
  /** For the server's `request` event: remembers each socket's latest answer. */
  readonly trackResponse: (req: IncomingMessage, res: ServerResponse) => void;
  /** For the server's `clientError` event. */
  readonly onClientError: (error: Error, socket: Duplex) => void;
  /** For the server's `checkExpectation` event (an Expect other than 100-continue). */
  readonly onCheckExpectation: (req: IncomingMessage, res: ServerResponse) => void;
}

export function createClientErrorHandlers(options: ClientErrorOptions): ClientErrorHandlers {
  const generate = options.generateId ?? randomUUID;
  // A timeout can strike a connection whose answer is being written (a handler that answered
  // before the body was in): another status line in the middle of it would corrupt it.
  const answers = new WeakMap<Duplex, ServerResponse>();

  const report = (error: AppError, requestId: string, cause: string): void => {
    options.count?.(error.code);
    // The parser's error carries the raw bytes it was given (rawPacket: a token, a signature),
    // so only its code is logged; a client's mistake, not the gateway's: no stack, not a 500.
    options.logger.info(
      { requestId, status: error.status, code: error.code, cause },
      'client error answered by the HTTP server',
    );
  };

  return {
    trackResponse: function trackResponse(req, res) {
      answers.set(req.socket, res);
    },
    onClientError: function onClientError(error: ClientError, socket) {
      // Node can report a connection again while the first answer is still being flushed.
      if (socket.writableEnded) return;
      const answer = answerFor(error);
      const inFlight = answers.get(socket);
      const answering =
        inFlight !== undefined && inFlight.headersSent && !inFlight.writableFinished;
      if (answer === undefined || !socket.writable || answering) {
        socket.destroy();
        return;
      }
      const requestId = generate();
      report(answer, requestId, typeof error.code === 'string' ? error.code : 'unknown');
      socket.end(problemMessage(answer, requestId), () => {
        socket.destroy();
      });
    },
    onCheckExpectation: function onCheckExpectation(req, res) {
      const requestId = requestIdFor(req.headers['x-request-id'], generate);
      const answer = new AppError('ERR_HTTP_EXPECTATION_FAILED', {
        detail: 'Only Expect: 100-continue is supported',
      });
      report(answer, requestId, 'expect');
      const problem = toProblem(answer);
      const body = JSON.stringify(problem.body);
      // The body the caller meant to send may follow; nobody will read it.
      res.writeHead(problem.status, {
        'Content-Type': PROBLEM_CONTENT_TYPE,
        'Content-Length': Buffer.byteLength(body),
        'X-Request-Id': requestId,
        Connection: 'close',
      });
      res.end(body);
    },
  };
}
