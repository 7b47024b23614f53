import { createPublicKey, type KeyObject } from 'node:crypto';
import { checkOneOf, optional, type BuildContext } from './build-context.ts';
import type { FileConfig } from './file-schema.ts';
import type { JwtAlgorithm, JwtPublicKey } from './types.ts';

// PEM public keys for RS*/PS*/ES*: read, split (one file may hold several keys), parsed once here so
// a bad key fails at startup, and matched against the algorithm allow-list.

type PublicKeyEntries = NonNullable<FileConfig['auth']['jwt']['public_keys']>;

export interface LoadedKey {
  readonly key: JwtPublicKey;
  readonly object: KeyObject;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function splitPem(
  text: string,
  where: string,
  kid: string | undefined,
  context: BuildContext,
): LoadedKey[] {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) {
    context.problems.push(`${where}: holds no PEM block`);
    return [];
  }
  if (kid !== undefined && blocks.length > 1) {
    context.problems.push(
      `${where}: has a kid but holds ${blocks.length} keys; give one key per kid`,
    );
    return [];
  }
  const keys: LoadedKey[] = [];
  blocks.forEach((block, index) => {
    const label = blocks.length > 1 ? `${where} (key ${index + 1})` : where;
    if (block[1]?.includes('PRIVATE KEY') === true) {
      context.problems.push(`${label}: is a private key; the gateway needs only the public key`);
      return;
    }
    try {
      const object = createPublicKey(block[0]);
      keys.push({ key: { ...optional('kid', kid), pem: block[0] }, object });
    } catch {
      context.problems.push(`${label}: is not a valid PEM public key or certificate`);
    }
  });
  return keys;
}

export function loadPublicKeys(
  entries: PublicKeyEntries | undefined,
  context: BuildContext,
): LoadedKey[] {
  const fromEnv = context.env.JWT_PUBLIC_KEY_FILE?.trim();
  const keys: LoadedKey[] = [];
  (entries ?? []).forEach((entry, index) => {
    const where =
      fromEnv !== undefined && fromEnv !== ''
        ? 'JWT_PUBLIC_KEY_FILE'
        : `auth.jwt.public_keys[${index}]`;
    checkOneOf(context, where, { pem: entry.pem, file: entry.file });
    if (entry.pem === undefined && entry.file === undefined) {
      context.problems.push(`${where}: give pem (the key itself) or file (its path)`);
      return;
    }
    let text = entry.pem;
    if (text === undefined && entry.file !== undefined) {
      const label = where === 'JWT_PUBLIC_KEY_FILE' ? where : `${where}.file`;
      const read = context.secrets.fromFile(entry.file, label);
      if (read.kind !== 'value') return;
      text = read.value;
    }
    if (text !== undefined) keys.push(...splitPem(text, where, entry.kid, context));
  });
  const kids = keys.flatMap(({ key }) => (key.kid === undefined ? [] : [key.kid]));
  const duplicates = kids.filter((kid, index) => kids.indexOf(kid) !== index);
  if (duplicates.length > 0)
    context.problems.push(
      `auth.jwt.public_keys: kid ${[...new Set(duplicates)].join(', ')} is given twice`,
    );
  return keys;
}

const CURVE_OF: Readonly<Record<string, string>> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};

/** Whether a public key can verify tokens signed with the algorithm. */
export function keyFits(object: KeyObject, algorithm: JwtAlgorithm): boolean {
  const type = object.asymmetricKeyType;
  if (algorithm.startsWith('RS') || algorithm.startsWith('PS'))
    return type === 'rsa' || type === 'rsa-pss';
  if (algorithm.startsWith('ES'))
    return type === 'ec' && object.asymmetricKeyDetails?.namedCurve === CURVE_OF[algorithm];
  return false;
}

/** The algorithm a key is most likely used with, for dev defaults. */
export function defaultAlgorithmFor(object: KeyObject): JwtAlgorithm | undefined {
  if (object.asymmetricKeyType === 'rsa' || object.asymmetricKeyType === 'rsa-pss') return 'RS256';
  const curve = object.asymmetricKeyDetails?.namedCurve;
  if (curve === 'prime256v1') return 'ES256';
  if (curve === 'secp384r1') return 'ES384';
  if (curve === 'secp521r1') return 'ES512';
  return undefined;
}
