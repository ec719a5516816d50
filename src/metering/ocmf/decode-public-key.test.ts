import { ECDH, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CURVES, OCMF_CURVES, type OcmfCurve } from './curves.ts';
import { decodedKeysKept, decodePublicKey } from './decode-public-key.ts';
import { conformanceJson, pointHex, TEST_KEYS } from './ocmf-test-kit.test-support.ts';

const P256_SPKI = TEST_KEYS.secp256r1.spkiHex;
const base64 = (text: string) => Buffer.from(text).toString('base64');
const spaced = (hex: string) =>
  hex
    .toUpperCase()
    .replace(/(.{4})/g, '$1 ')
    .trim();

function decoded(text: string, options?: Parameters<typeof decodePublicKey>[1]) {
  const result = decodePublicKey(text, options);
  if (!result.ok) throw new Error(result.error.message);
  const { curve, form, textEncoding, spkiHex } = result.value;
  return { curve, form, textEncoding, spkiHex };
}

describe('decodePublicKey: SubjectPublicKeyInfo in every text form', () => {
  it.each(conformanceJson<{ name: string; curve: string; spki: string }[]>('road-labs-ocmf-js/public-key-cases.json'))(
    'reads the road-labs $name key and finds its curve',
    ({ curve, spki }) => {
      expect(decoded(spki)).toEqual({ curve, form: 'spki', textEncoding: 'hex', spkiHex: spki.toLowerCase() });
    },
  );

  const der = Buffer.from(P256_SPKI, 'hex');
  it.each([
    ['upper-case hex', P256_SPKI.toUpperCase(), 'hex'],
    ['hex printed in groups of four', spaced(P256_SPKI), 'hex'],
    ['hex in pairs over lines, with 0x', `0x${P256_SPKI.replace(/(..)/g, '$1 ').replace(/(.{48})/g, '$1\n')}`, 'hex'],
    ['Base64', der.toString('base64'), 'base64'],
    [
      'PEM',
      `-----BEGIN PUBLIC KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PUBLIC KEY-----`,
      'pem',
    ],
    ['the OCA envelope', `oca:base16:asn1:${P256_SPKI}`, 'oca-base16'],
    ['the OCA envelope in Base64, as OCPP sends it', base64(`oca:base16:asn1:${spaced(P256_SPKI)}`), 'oca-base16'],
    ['the OCA envelope with a Base64 key', base64(`oca:base64:asn1:${der.toString('base64')}`), 'oca-base64'],
    ["Base64 over plain hex (the application note's own example)", base64(P256_SPKI), 'base64-of-hex'],
  ])('reads %s', (_, text, textEncoding) => {
    expect(decoded(text)).toEqual({ curve: 'secp256r1', form: 'spki', textEncoding, spkiHex: P256_SPKI });
  });
});

describe('decodePublicKey: bare points, on the curve the signature algorithm names', () => {
  it.each(OCMF_CURVES)('reads X||Y, 04||X||Y and the compressed point on %s', (curve: OcmfCurve) => {
    const point = pointHex(curve);
    const compressed = ECDH.convertKey(
      Buffer.from(point, 'hex'),
      CURVES[curve].nodeName,
      undefined,
      'hex',
      'compressed',
    );
    const expected = { curve, textEncoding: 'hex', spkiHex: TEST_KEYS[curve].spkiHex };
    expect(decoded(point.slice(2), { curve })).toEqual({ ...expected, form: 'raw-xy' });
    expect(decoded(point, { curve })).toEqual({ ...expected, form: 'uncompressed-point' });
    expect(decoded(compressed as string, { curve })).toEqual({ ...expected, form: 'compressed-point' });
  });

  it('reads the Isabellenhuette key of the SAFE samples (X||Y without prefix)', () => {
    const isa =
      'B27CDB498504606CA3ACA2BA05A61F30D443B36CADD6F00C881F3469FBB08B8C2F498C314A035BDADCC83EA731A8B65CACD0A39A32C88AE444431E990F9E84ED';
    expect(decoded(isa, { curve: 'secp256r1' })).toEqual({
      curve: 'secp256r1',
      form: 'raw-xy',
      textEncoding: 'hex',
      spkiHex: `3059301306072a8648ce3d020106082a8648ce3d03010703420004${isa.toLowerCase()}`,
    });
  });

  it('keeps a SubjectPublicKeyInfo curve even when another curve is hinted (the verifier reports the mismatch)', () => {
    expect(decoded(P256_SPKI, { curve: 'secp256k1' }).curve).toBe('secp256r1');
  });
});

describe('decodePublicKey: errors', () => {
  const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).publicKey.export({ format: 'der', type: 'spki' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'der', type: 'spki' });
  const offCurve = `04${'00'.repeat(31)}01${'00'.repeat(31)}01`;
  it.each([
    ['an empty text', '  ', undefined, 'PublicKeyEmpty'],
    ['an overlong text', 'A'.repeat(5000), undefined, 'PublicKeyTooLong'],
    ['text that is no encoding', 'not a key!', undefined, 'PublicKeyEncoding'],
    ['a key declared hex that is Base64', Buffer.from(P256_SPKI, 'hex').toString('base64'), 'hex', 'PublicKeyEncoding'],
    ['an OCA envelope of three parts', 'oca:base16:3059', undefined, 'PublicKeyOcaEnvelope'],
    ['an OCA envelope with another content type', 'oca:base16:pem:3059', undefined, 'PublicKeyOcaEnvelope'],
    ['an OCA envelope with another encoding', 'oca:base32:asn1:GA', undefined, 'PublicKeyOcaEnvelope'],
    ['a bare point without a curve', pointHex('secp256r1'), undefined, 'PublicKeyCurveUnknown'],
    ['a P-521 key, no OCMF curve', p521.toString('hex'), undefined, 'PublicKeyCurveUnsupported'],
    ['an RSA key', rsa.toString('hex'), undefined, 'PublicKeyNotEc'],
    ['a point off the curve', offCurve, 'secp256r1', 'PublicKeyPointInvalid'],
    ['a compressed point off the curve', `02${'ff'.repeat(32)}`, 'secp256r1', 'PublicKeyPointInvalid'],
    ['48 bytes for a 256-bit curve', '11'.repeat(48), 'secp256r1', 'PublicKeyStructure'],
    ['a broken SubjectPublicKeyInfo', `${P256_SPKI.slice(0, 40)}`, undefined, 'PublicKeyStructure'],
  ] as const)('reports %s', (_, text, hint, code) => {
    const options = hint === 'hex' ? { encoding: 'hex' as const } : hint === undefined ? {} : { curve: hint };
    const result = decodePublicKey(text, options);
    expect(result.ok ? 'decoded' : result.error.code).toBe(code);
  });
});

describe('decodePublicKey: decoded keys are kept', () => {
  it('returns the kept key for the same text and options, decodes again for other options, keeps no failure', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const point = publicKey.export({ format: 'jwk' });
    const uncompressed = Buffer.concat([
      Buffer.from([0x04]),
      Buffer.from(point.x as string, 'base64url'),
      Buffer.from(point.y as string, 'base64url'),
    ]).toString('hex');
    const before = decodedKeysKept();
    const first = decodePublicKey(uncompressed, { curve: 'secp256r1' });
    const again = decodePublicKey(uncompressed, { curve: 'secp256r1' });
    expect(first.ok && again.ok && again.value === first.value).toBe(true);
    expect(Object.isFrozen(first.ok && first.value)).toBe(true);
    expect(decodedKeysKept()).toBe(before + 1);
    // The same text with another curve is another question: a 65-byte point is no secp384r1 key.
    expect(decodePublicKey(uncompressed, { curve: 'secp384r1' })).toMatchObject({
      ok: false,
      error: { code: 'PublicKeyStructure' },
    });
    expect(decodePublicKey('not a key at all!')).toMatchObject({ ok: false, error: { code: 'PublicKeyEncoding' } });
    expect(decodedKeysKept()).toBe(before + 1);
    // A padded text longer than any real key decodes, but is not kept (the memory bound).
    const padded = `${' '.repeat(1_100)}${uncompressed}`;
    expect(decodePublicKey(padded, { curve: 'secp256r1' }).ok).toBe(true);
    expect(decodedKeysKept()).toBe(before + 1);
    // The kept key verifies as the decoded one did: its SPKI is the key's own.
    expect(first.ok && first.value.spkiHex).toBe(publicKey.export({ format: 'der', type: 'spki' }).toString('hex'));
  });
});
