import assert from 'node:assert/strict';
import { AppError } from '../../src/errors/app-error.ts';
import type { RecordsParseOptions } from '../../src/http/parse/types.ts';

// Shared by the records-body parser tests: default limits, and the AppError a synchronous call throws.

export const PARSE_OPTIONS: RecordsParseOptions = {
  maxRecords: 500,
  maxRecordBytes: 1024 * 1024,
  maxDepth: 64,
};

/** The AppError `act` throws; fails the test when it returns or throws something else. */
export function rejection(act: () => unknown): AppError {
  try {
    act();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  return assert.fail('expected an AppError');
}
