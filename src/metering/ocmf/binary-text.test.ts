import { describe, expect, it } from 'vitest';
import { decodeBase32, decodeBase64, decodeHex, decodeLooseHex, isPrintableAscii } from './binary-text.ts';

describe('binary text encodings', () => {
  it('reads strict hex in either case and rejects odd lengths and other characters', () => {
    expect(decodeHex('0aFF')?.toString('hex')).toBe('0aff');
    expect(decodeHex('0aF')).toBeUndefined();
    expect(decodeHex('0a FF')).toBeUndefined();
  });

  it('reads hex as printed on meters: groups, line breaks, colons and a 0x prefix', () => {
    expect(decodeLooseHex('3059 3013\n0607:2A86')?.toString('hex')).toBe('305930130607' + '2a86');
    expect(decodeLooseHex('0x04AB')?.toString('hex')).toBe('04ab');
    expect(decodeLooseHex('30 4')).toBeUndefined();
    expect(decodeLooseHex('   ')).toBeUndefined();
    expect(decodeLooseHex('MFYw')).toBeUndefined();
  });

  it('reads Base64 with or without padding, in the URL alphabet too, and rejects other text', () => {
    expect(decodeBase64('T0NNRnw=')?.toString()).toBe('OCMF|');
    expect(decodeBase64('T0NNRnw')?.toString()).toBe('OCMF|');
    expect(decodeBase64('T0NN\nRnw=')?.toString()).toBe('OCMF|');
    expect(decodeBase64('_-8')?.toString('hex')).toBe('ffef');
    expect(decodeBase64('OCMF|{}')).toBeUndefined();
    expect(decodeBase64('')).toBeUndefined();
  });

  it('reads RFC 4648 Base32 as Alfen writes it', () => {
    expect(decodeBase32('MZXW6YTBOI======')?.toString()).toBe('foobar');
    expect(decodeBase32('MZXW6YQ=')?.toString()).toBe('foob');
    expect(decodeBase32('mzxw6')).toBeUndefined();
    expect(decodeBase32('A')).toBeUndefined();
  });

  it('tells text from binary', () => {
    expect(isPrintableAscii(Buffer.from('oca:base16:asn1:30\r\n'))).toBe(true);
    expect(isPrintableAscii(Buffer.from([0x30, 0x59, 0x00]))).toBe(false);
    expect(isPrintableAscii(Buffer.alloc(0))).toBe(false);
  });
});
