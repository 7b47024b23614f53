import { AppError } from '../../errors/app-error.ts';
import { firstInvalidUtf8Offset } from '../../json/utf8.ts';

/**
 * The body as text. Invalid UTF-8 (including overlong forms and encoded surrogates) is a 400 naming
 * the first bad byte: replacing it with U+FFFD would silently change what reaches DIS. A leading UTF-8
 * byte order mark is skipped (RFC 8259 §8.1 lets parsers ignore it); anywhere else it is just a
 * character, which JSON rejects outside strings.
 */
export function decodeUtf8Body(body: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch (error) {
    throw new AppError('ERR_HTTP_INVALID_UTF8', {
      detail: `invalid UTF-8 at byte offset ${firstInvalidUtf8Offset(body)}`,
      cause: error,
    });
  }
}
