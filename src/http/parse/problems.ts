// Validation is all-or-nothing: problems are collected per request and thrown as one AppError whose
// `errors` extension lists each with its JSON pointer.

import { AppError } from '../../errors/app-error.ts';

export interface RecordProblem {
  /** RFC 6901 pointer into the request body (`""` is the whole body). */
  readonly pointer: string;
  readonly detail: string;
}

export interface ProblemList {
  /** `tooLarge` problems (size and count limits) turn the answer into a 413. */
  add(pointer: string, detail: string, tooLarge?: boolean): void;
  readonly size: number;
  /** Throws the collected problems as `code` (413 when any was `tooLarge`); no-op when empty. */
  throwIfAny(code?: 'ERR_VALIDATION' | 'ERR_HTTP_INVALID_JSON'): void;
}

/** Enough for a caller to fix a batch; the count beyond it is still reported. */
export const MAX_REPORTED_PROBLEMS = 100;

/**
 * A class rather than a literal with closures and a getter: one is made per parsed body, and the
 * literal's allocations showed in the single-event profile.
 */
class Problems implements ProblemList {
  readonly #cap: number;
  readonly #problems: RecordProblem[] = [];
  #total = 0;
  #tooLargeSeen = false;

  constructor(cap: number) {
    this.#cap = cap;
  }

  add(pointer: string, detail: string, tooLarge = false): void {
    this.#total++;
    if (tooLarge) this.#tooLargeSeen = true;
    if (this.#problems.length < this.#cap) this.#problems.push({ pointer, detail });
  }

  get size(): number {
    return this.#total;
  }

  throwIfAny(code: 'ERR_VALIDATION' | 'ERR_HTTP_INVALID_JSON' = 'ERR_VALIDATION'): void {
    const problems = this.#problems;
    const first = problems[0];
    if (first === undefined) return;
    const total = this.#total;
    const detail =
      total === 1
        ? first.detail
        : `${total} problems in the request${total > problems.length ? ` (first ${problems.length} listed)` : ''}`;
    throw new AppError(this.#tooLargeSeen ? 'ERR_VALIDATION_TOO_LARGE' : code, {
      detail,
      extensions: { errors: problems },
    });
  }
}

export function createProblemList(cap: number = MAX_REPORTED_PROBLEMS): ProblemList {
  return new Problems(cap);
}

/** A request that fails on one problem that makes further checking pointless. */
export function singleProblem(pointer: string, detail: string, tooLarge = false): AppError {
  return new AppError(tooLarge ? 'ERR_VALIDATION_TOO_LARGE' : 'ERR_VALIDATION', {
    detail,
    extensions: { errors: [{ pointer, detail }] },
  });
}

/** Line and column (both 1-based, column in UTF-16 units) of an offset, for error details. */
export function describePosition(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf('\n'); k !== -1 && k < offset; k = text.indexOf('\n', k + 1)) {
    line++;
    lineStart = k + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}
