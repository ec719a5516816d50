/**
 * Property tests over mutated real records: whatever bytes arrive, parsing and verification return a typed
 * result and never throw; and no change to a signed payload, down to one character, keeps its signature valid.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePublicKey } from './decode-public-key.ts';
import {
  BEGIN_READING,
  conformanceJson,
  conformanceText,
  END_READING,
  payloadWith,
  type SafeSample,
  signedOcmf,
  TEST_KEYS,
} from './ocmf-test-kit.test-support.ts';
import { parseAlfen } from './parse-alfen.ts';
import { parseOcmf } from './parse-ocmf.ts';
import { readTransparencyXml } from './read-transparency-xml.ts';
import { unwrapSignedValueText } from './unwrap-signed-data.ts';
import { verifyOcmf } from './verify-ocmf.ts';
import { verifySignedInput } from './verify-signed-input.ts';

const SAMPLES = conformanceJson<SafeSample[]>('safe-ev-transparenzsoftware/ocmf-samples.json');
/** One sample per file keeps the corpus varied and the run short. */
const CORPUS = [...new Map(SAMPLES.map((sample) => [sample.file, sample])).values()];
const STATUSES = new Set(['valid', 'invalid', 'unverifiable']);
const TOKENS = [
  '|',
  '{',
  '}',
  '[',
  ']',
  '"',
  ':',
  ',',
  '.',
  ' ',
  '\\',
  '\n',
  '0',
  '9',
  'e',
  '-',
  'A',
  'Z',
  'é',
  '\u0000',
  '\uD800',
  'OCMF|',
  '"RV":',
  '"RD":[',
  'null',
  'true',
];

type Mutation = { at: number; remove: number; insert: string };

const mutation = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  remove: fc.integer({ min: 0, max: 8 }),
  insert: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 6 }), fc.constant('')),
});

function mutate(text: string, mutations: readonly Mutation[]): string {
  let result = text;
  for (const { at, remove, insert } of mutations) {
    const position = Math.floor(at * result.length);
    result = result.slice(0, position) + insert + result.slice(position + remove);
  }
  return result;
}

describe('parseOcmf and verifyOcmf under mutation', () => {
  it('return errors, never crash, for mutated real records', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CORPUS),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (sample, mutations) => {
          const text = mutate(sample.ocmf, mutations);
          const parsed = parseOcmf(text);
          if (!parsed.ok) {
            expect(typeof parsed.error.code).toBe('string');
            return;
          }
          const verdict = verifyOcmf(parsed.value, sample.publicKey ?? undefined);
          expect(STATUSES.has(verdict.status)).toBe(true);
          expect(() => JSON.stringify(verdict)).not.toThrow();
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('return errors, never crash, for arbitrary text after the OCMF header', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (tail) => {
        const parsed = parseOcmf(`OCMF|${tail}`);
        if (parsed.ok) expect(STATUSES.has(verifyOcmf(parsed.value, undefined).status)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('never keep a signature valid when one character of the payload changes', () => {
    const text = signedOcmf(payloadWith({}, [BEGIN_READING, END_READING]), 'secp256r1');
    const payloadEnd = text.lastIndexOf('|');
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: payloadEnd - 1 }),
        fc.constantFrom(...TOKENS.filter((token) => token.length === 1)),
        (at, char) => {
          fc.pre(text[at] !== char);
          const changed = text.slice(0, at) + char + text.slice(at + 1);
          const parsed = parseOcmf(changed);
          if (parsed.ok) expect(verifyOcmf(parsed.value, TEST_KEYS.secp256r1.spkiHex).signature.status).toBe('invalid');
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('the other readers under mutation', () => {
  const keys = CORPUS.flatMap((sample) => (sample.publicKey === null ? [] : [sample.publicKey]));
  it('decodePublicKey returns a typed result for mutated keys', () => {
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.array(mutation, { minLength: 1, maxLength: 3 }), (key, mutations) => {
        const result = decodePublicKey(mutate(key, mutations), { curve: 'secp256r1' });
        expect(result.ok || typeof result.error.code === 'string').toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('unwrapSignedValueText, parseAlfen and readTransparencyXml return typed results for mutated input', () => {
    const xml = conformanceText('safe-ev-transparenzsoftware/src/test/resources/xml/brainpoolP256r1.xml');
    const alfen = conformanceJson<{ cases: { alfenString: string }[] }>(
      'safe-ev-transparenzsoftware/alfen-samples.json',
    ).cases[0]!.alfenString;
    const encoded = Buffer.from(CORPUS[0]!.ocmf).toString('base64');
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        expect(typeof unwrapSignedValueText(mutate(encoded, mutations)).ok).toBe('boolean');
        expect(typeof parseAlfen(mutate(alfen, mutations)).ok).toBe('boolean');
        expect(typeof readTransparencyXml(mutate(xml, mutations)).ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('verifySignedInput reports an exit code for mutated XML exports and OCPP JSON', () => {
    const xml = conformanceText('safe-ev-transparenzsoftware/src/test/resources/xml/test_ocmf_ebee_01.xml');
    const ocpp = JSON.stringify([
      2,
      '1',
      'MeterValues',
      { meterValue: [{ sampledValue: [{ format: 'SignedData', value: CORPUS[1]!.ocmf }] }] },
    ]);
    fc.assert(
      fc.property(
        fc.constantFrom(xml, ocpp),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (input, mutations) => {
          const report = verifySignedInput(mutate(input, mutations));
          expect(report.ok ? [0, 1, 2].includes(report.value.exitCode) : typeof report.error.code === 'string').toBe(
            true,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
