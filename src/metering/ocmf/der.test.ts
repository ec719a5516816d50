import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseDerEcdsaSignature, spkiForUncompressedPoint, toRawSignature } from './der.ts';
import { pointHex, TEST_KEYS } from './ocmf-test-kit.test-support.ts';

const hex = (text: string) => Buffer.from(text.replace(/\s/g, ''), 'hex');

describe('DER ECDSA signatures', () => {
  it('reads r and s and strips the sign byte', () => {
    const values = parseDerEcdsaSignature(hex('3008 0203 00ff01 0201 05'));
    expect(
      values && {
        r: Buffer.from(values.r).toString('hex'),
        s: Buffer.from(values.s).toString('hex'),
        canonical: values.canonical,
      },
    ).toEqual({
      r: 'ff01',
      s: '05',
      canonical: true,
    });
  });

  it('flags fixed-width integers (a redundant zero byte, or a missing sign byte) as not canonical', () => {
    expect(parseDerEcdsaSignature(hex('3007 0202 0001 0201 05'))?.canonical).toBe(false);
    expect(parseDerEcdsaSignature(hex('3006 0201 81 0201 05'))?.canonical).toBe(false);
    expect(Buffer.from(parseDerEcdsaSignature(hex('3006 0201 81 0201 05'))!.r).toString('hex')).toBe('81');
  });

  it.each([
    ['not a sequence', '3106 0201 01 0201 05'],
    ['length beyond the bytes', '3007 0201 01 0201 05'],
    ['trailing bytes', '3006 0201 01 0201 05 00'],
    ['a third integer', '3009 0201 01 0201 05 0201 01'],
    ['an empty integer', '3005 0200 0201 05'],
    ['a long-form length below 128', '308106 0201 01 0201 05'],
    ['an OCTET STRING', '3006 0401 01 0201 05'],
    ['nothing', ''],
  ])('rejects %s', (_, bytes) => {
    expect(parseDerEcdsaSignature(hex(bytes))).toBeUndefined();
  });

  it('pads r and s to the coordinate size for r||s, and refuses values that do not fit', () => {
    const values = parseDerEcdsaSignature(hex('3007 0202 0102 0201 05'))!;
    expect(toRawSignature(values, 3)?.toString('hex')).toBe('000102000005');
    expect(toRawSignature(values, 1)).toBeUndefined();
  });
});

describe('spkiForUncompressedPoint', () => {
  it.each(Object.values(TEST_KEYS).map((key) => [key.curve, key.spkiHex]))(
    'builds the same SubjectPublicKeyInfo OpenSSL exports, on %s',
    (curve, spkiHex) => {
      const spki = spkiForUncompressedPoint(curve as never, hex(pointHex(curve as never)));
      expect(spki.toString('hex')).toBe(spkiHex);
      expect(createPublicKey({ key: spki, format: 'der', type: 'spki' }).asymmetricKeyType).toBe('ec');
    },
  );
});
