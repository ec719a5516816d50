/**
 * The road-labs/ocmf-js test vectors (test/conformance/ocmf/road-labs-ocmf-js): 32 signature cases on all seven
 * curves with DER edge cases, tampered payloads, tampered signatures and wrong keys; 7 SubjectPublicKeyInfo cases;
 * 7 signing keys whose names partly carry the other curve's OID.
 */
import { sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePublicKey } from './decode-public-key.ts';
import { conformanceJson, type RoadLabsVerifyCase, TEST_KEYS } from './ocmf-test-kit.test-support.ts';
import { parseOcmf } from './parse-ocmf.ts';
import { verifyOcmf } from './verify-ocmf.ts';

const CASES = conformanceJson<RoadLabsVerifyCase[]>('road-labs-ocmf-js/verify-cases.json');

/** The data section of the four DER edge cases paginates as "P1", which OCMF does not define (only T and F). */
const PAGINATED_P = /^signature with (different R \+ S lengths|R containing|S containing|R \+ S containing)/;

function verdictFor(testCase: RoadLabsVerifyCase) {
  const text = `OCMF|${testCase.data}|{"SA":"ECDSA-${testCase.curve}-SHA256","SD":"${testCase.signature}"}`;
  const doc = parseOcmf(text);
  if (!doc.ok) throw new Error(doc.error.message);
  return verifyOcmf(doc.value, testCase.spki);
}

describe('road-labs verify cases', () => {
  it('has the 32 cases the README lists', () => {
    expect(CASES.length).toBe(32);
  });

  it.each(CASES)('$name: signature $expected', (testCase) => {
    const verdict = verdictFor(testCase);
    expect(verdict.signature.status).toBe(testCase.expected ? 'valid' : 'invalid');
    expect(verdict.signature.publicKey?.curve).toBe(testCase.curve);
    if (!testCase.expected) {
      expect([verdict.status, verdict.reasons.map((reason) => reason.code)]).toEqual([
        'invalid',
        ['SignatureMismatch'],
      ]);
    } else if (PAGINATED_P.test(testCase.name)) {
      expect([verdict.status, verdict.reasons.map((reason) => reason.code)]).toEqual([
        'invalid',
        ['PaginationMalformed'],
      ]);
    } else {
      expect([verdict.status, verdict.reasons]).toEqual(['valid', []]);
    }
  });

  it('reproduces all 32 expected signature verdicts', () => {
    const matching = CASES.filter(
      (testCase) => (verdictFor(testCase).signature.status === 'valid') === testCase.expected,
    );
    expect(matching.length).toBe(32);
  });
});

describe('road-labs public key and signing cases', () => {
  it.each(conformanceJson<{ name: string; curve: string; spki: string }[]>('road-labs-ocmf-js/public-key-cases.json'))(
    '$name: curve detected from the SubjectPublicKeyInfo',
    ({ curve, spki }) => {
      const key = decodePublicKey(spki);
      expect(key.ok && key.value.curve).toBe(curve);
    },
  );

  it('trusts the OID over the name: the secp192k1/secp192r1 sign cases carry each other’s curve', () => {
    const cases = conformanceJson<{ name: string; pkcs8: string }[]>('road-labs-ocmf-js/sign-cases.json');
    expect(cases.map((entry) => entry.name)).toContain('basic secp192k1');
    expect(Object.keys(TEST_KEYS).sort()).toEqual([
      'brainpool256r1',
      'brainpool384r1',
      'secp192k1',
      'secp192r1',
      'secp256k1',
      'secp256r1',
      'secp384r1',
    ]);
  });

  it.each(Object.values(TEST_KEYS))('a record signed with the $curve sign case verifies with its public key', (key) => {
    const payload =
      '{"FV":"1.0","PG":"T7","MS":"1","RD":[{"TM":"2025-06-14T08:44:54,562+0100 S","TX":"B","RV":0.75727,"RU":"kWh","ST":"G"}]}';
    const sd = sign('sha256', Buffer.from(payload), key.privateKey).toString('hex');
    const doc = parseOcmf(`OCMF|${payload}|{"SA":"ECDSA-${key.curve}-SHA256","SD":"${sd}"}`);
    expect(doc.ok && verifyOcmf(doc.value, key.spkiHex).status).toBe('valid');
  });
});
