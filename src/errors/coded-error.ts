// The one base of every error that crosses a module: a stable `code` to branch on, count and log,
// never the message. AppError (what a caller may see, with its HTTP status) is one of them; the
// others are turned into AppErrors or results where they are handled.

export class CodedError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option or setting that cannot work: raised while the gateway is built, never while serving. */
export class InvalidOptionError extends CodedError<'ERR_INVALID_OPTION'> {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_INVALID_OPTION', message, options);
  }
}

/** Code that cannot be reached was: a wiring or programming mistake (a caller gets the 500). */
export class InvariantError extends CodedError<'ERR_INVARIANT'> {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_INVARIANT', message, options);
  }
}
