import { InvariantError } from '../../errors/coded-error.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * helmet's headers (with HELMET_OPTIONS), computed once. helmet() is a chain of a dozen middlewares that set the same
 * constant headers on every answer (about 3 % of the gateway's CPU at 2,000 req/s in the profile);
 * with its default options none of them depends on the request. So helmet runs once here, against
 * a response that records what it sets, and each request gets those headers in one loop. helmet
 * stays the source of the values: upgrading it changes them here too. (Options with per-request
 * values, such as CSP nonces, could not be captured; none are used.)
 */
/**
 * A JSON API's header set (OWASP REST Security Cheat Sheet), not helmet's defaults for HTML pages:
 * nosniff, HSTS, a CSP that allows nothing and no framing, `X-Frame-Options: DENY` for older
 * agents, no referrer. Browser-page headers (COOP, CORP, Origin-Agent-Cluster, DNS prefetch,
 * download options, cross-domain policies, the XSS auditor switch) say nothing to an API client and
 * cost ~0.5 KiB per answer.
 */
export const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  crossOriginEmbedderPolicy: false,
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  referrerPolicy: { policy: 'no-referrer' },
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: { action: 'deny' },
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

export function securityHeaders() {
  const headers: [string, string][] = [];
  const removed = new Set<string>();
  const recorder = {
    setHeader(name: string, value: number | string | readonly string[]) {
      headers.push([name, Array.isArray(value) ? value.join(', ') : String(value)]);
      return recorder;
    },
    removeHeader(name: string) {
      removed.add(name);
    },
  };
  const finished: { error?: unknown; done: boolean } = { done: false };
  helmet(HELMET_OPTIONS)(
    {} as unknown as IncomingMessage,
    recorder as unknown as ServerResponse,
    (error) => {
      finished.done = true;
      finished.error = error;
    },
  );
  // A helmet that answered later, or failed, could not be captured like this.
  if (!finished.done || finished.error !== undefined) {
    throw new InvariantError('helmet did not set its headers synchronously', {
      cause: finished.error,
    });
  }
  const toRemove = [...removed];

  return function setSecurityHeaders(_req: Request, res: Response, next: NextFunction): void {
    for (const [name, value] of headers) res.setHeader(name, value);
    for (const name of toRemove) res.removeHeader(name);
    next();
  };
}
