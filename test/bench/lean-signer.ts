import { createHash, createHmac } from 'node:crypto';
import { formatSdkDate } from '../../src/dis/canonical.ts';

// What a well-written forwarder pays to sign a PutRecords (issue #14's yardstick): the method,
// path, host, project and content type never change, so the canonical request is a precomputed
// prefix, the date, a precomputed middle and the body's hash; then one SHA-256 and one HMAC. Same
// output as src/dis/signer.ts (test/unit/bench-lean-signer.test.ts holds them to it).

export interface LeanSigner {
  /** The headers to send with this body, signed at `date`. */
  sign(body: string, date: Date): Record<string, string>;
}

export function createLeanSigner(options: {
  readonly url: URL;
  readonly projectId: string;
  readonly ak: string;
  readonly sk: string;
}): LeanSigner {
  const { url, projectId, ak, sk } = options;
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const signedHeaders = 'content-type;host;x-project-id;x-sdk-date';
  const prefix = `POST\n${path}\n\ncontent-type:application/json\nhost:${url.host}\nx-project-id:${projectId}\nx-sdk-date:`;
  const middle = `\n\n${signedHeaders}\n`;
  const authPrefix = `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=${signedHeaders}, Signature=`;
  return {
    sign(body, date) {
      const sdkDate = formatSdkDate(date);
      const bodyHash = createHash('sha256').update(body).digest('hex');
      const canonical = createHash('sha256')
        .update(`${prefix}${sdkDate}${middle}${bodyHash}`)
        .digest('hex');
      const signature = createHmac('sha256', sk)
        .update(`SDK-HMAC-SHA256\n${sdkDate}\n${canonical}`)
        .digest('hex');
      return {
        'Content-Type': 'application/json',
        'X-Project-Id': projectId,
        'X-Sdk-Date': sdkDate,
        Authorization: `${authPrefix}${signature}`,
      };
    },
  };
}
