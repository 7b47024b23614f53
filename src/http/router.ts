import express, { type Router } from 'express';
import { AppError } from '../errors/app-error.ts';

/**
 * Every route matches its path exactly: case-sensitive (a proxy rule written for `/v1/streams/…`
 * must not be bypassed by `/V1/STREAMS/…`) and strict about a trailing slash.
 */
export function createRouter(): Router {
  return express.Router({ caseSensitive: true, strict: true });
}

/** The 405 for any other method on a path that exists, with the methods it allows. */
export function methodNotAllowed(allow: string) {
  return function methodNotAllowed(): never {
    throw new AppError('ERR_HTTP_METHOD_NOT_ALLOWED', { headers: { Allow: allow } });
  };
}
