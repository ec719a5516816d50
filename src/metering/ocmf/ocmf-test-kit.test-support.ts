/**
 * Shared by the OCMF tests: the conformance files of test/conformance/ocmf (read from the repository, so that CI on
 * a clean clone finds them), throw-away signing keys for every OCMF curve (road-labs sign-cases.json) and a helper
 * that signs a payload into an OCMF text. Test support only, never imported by the verifier.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CURVES, curveFromNodeName, type OcmfCurve } from './curves.ts';

const CONFORMANCE_ROOT = new URL('../../../test/conformance/ocmf/', import.meta.url);

export function conformanceText(relativePath: string): string {
  return readFileSync(new URL(relativePath, CONFORMANCE_ROOT), 'utf8');
}

export function conformanceJson<T>(relativePath: string): T {
  return JSON.parse(conformanceText(relativePath)) as T;
}

export type RoadLabsVerifyCase = {
  name: string;
  curve: string;
  signature: string;
  data: string;
  spki: string;
  expected: boolean;
};

export type SafeSample = {
  file: string;
  index: number;
  ocmf: string;
  publicKey: string | null;
  publicKeyEncodingAttr: string | null;
  upstreamExpectation: string;
  nodeVerify: { ok: boolean | null; curve?: string; sigEncoding?: string; keyForm?: string };
};

export type TestKey = { readonly curve: OcmfCurve; readonly privateKey: KeyObject; readonly spkiHex: string };

/** One signing key per OCMF curve; the curve is taken from each key's OID, not from its (partly swapped) name. */
export const TEST_KEYS: Readonly<Record<OcmfCurve, TestKey>> = (() => {
  const cases = conformanceJson<{ name: string; pkcs8: string }[]>('road-labs-ocmf-js/sign-cases.json');
  const keys: Partial<Record<OcmfCurve, TestKey>> = {};
  for (const entry of cases) {
    const privateKey = createPrivateKey({ key: Buffer.from(entry.pkcs8, 'hex'), format: 'der', type: 'pkcs8' });
    const curve = curveFromNodeName(privateKey.asymmetricKeyDetails?.namedCurve ?? '');
    if (curve === undefined) throw new Error(`sign case ${entry.name} is not on an OCMF curve`);
    const spkiHex = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).toString('hex');
    keys[curve] = { curve, privateKey, spkiHex };
  }
  return keys as Record<OcmfCurve, TestKey>;
})();

export type SignOptions = {
  /** Raw r||s instead of DER. */
  readonly raw?: boolean;
  /** SD in Base64 with SE "base64". */
  readonly base64?: boolean;
  /** The SA text to write; undefined writes ECDSA-<curve>-SHA256, null writes no SA at all. */
  readonly sa?: string | null;
};

/** Signs `payload` (the exact payload text) with the test key of `curve` and assembles an OCMF text. */
export function signedOcmf(payload: string, curve: OcmfCurve, options: SignOptions = {}): string {
  const signature = sign('sha256', Buffer.from(payload, 'utf8'), {
    key: TEST_KEYS[curve].privateKey,
    dsaEncoding: options.raw === true ? 'ieee-p1363' : 'der',
  });
  const sd = options.base64 === true ? signature.toString('base64') : signature.toString('hex').toUpperCase();
  const sa = options.sa === undefined ? `ECDSA-${curve}-SHA256` : options.sa;
  const section = {
    ...(sa === null ? {} : { SA: sa }),
    ...(options.base64 === true ? { SE: 'base64' } : {}),
    SD: sd,
  };
  return `OCMF|${payload}|${JSON.stringify(section)}`;
}

/** A compact OCMF 1.0 payload; `readings` are JSON texts of RD entries, written as given (exact literals). */
export function payloadWith(fields: Record<string, unknown>, readings: readonly string[]): string {
  const header = {
    FV: '1.0',
    GI: 'VOLTBILL TEST',
    GS: 'GW-1',
    GV: '1.0',
    PG: 'T1',
    MV: 'Meters Inc',
    MM: 'M1',
    MS: 'METER-1',
    MF: '1.0',
    IS: true,
    IL: 'VERIFIED',
    IF: ['RFID_PLAIN'],
    IT: 'ISO14443',
    ID: '04A1B2C3D4E5F6',
    ...fields,
  };
  return `${JSON.stringify(header).slice(0, -1)},"RD":[${readings.join(',')}]}`;
}

export const BEGIN_READING =
  '{"TM":"2025-03-11T17:30:00,000+0100 S","TX":"B","RV":1234.560,"RI":"1-b:1.8.0","RU":"kWh","RT":"AC","EF":"","ST":"G"}';
export const END_READING =
  '{"TM":"2025-03-11T19:45:00,000+0100 S","TX":"E","RV":1256.789,"RI":"1-b:1.8.0","RU":"kWh","RT":"AC","EF":"","ST":"G"}';

/** The uncompressed point (04||X||Y) of a test key, hex. */
export function pointHex(curve: OcmfCurve): string {
  const spki = TEST_KEYS[curve].spkiHex;
  return spki.slice(spki.length - 2 * (2 * CURVES[curve].coordinateBytes + 1));
}
