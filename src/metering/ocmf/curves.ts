/**
 * The elliptic curves and signature algorithms that OCMF allows (OCMF table 22, the same list as the OCA signed
 * meter values application note): ECDSA with SHA-256 on seven curves. Each curve carries its OpenSSL name, its
 * ASN.1 object identifier (to build a SubjectPublicKeyInfo from a bare point) and its coordinate length in bytes
 * (the "block length" of the specification is twice this: the length of a raw r||s signature).
 */

export type OcmfCurve =
  | 'secp192k1'
  | 'secp192r1'
  | 'secp256k1'
  | 'secp256r1'
  | 'brainpool256r1'
  | 'secp384r1'
  | 'brainpool384r1';

export type CurveInfo = {
  readonly curve: OcmfCurve;
  /** The name node:crypto (OpenSSL) uses. */
  readonly nodeName: string;
  /** DER encoding of the curve's object identifier, tag and length included. */
  readonly oidDer: Uint8Array;
  /** Bytes in one coordinate (and in each of r and s). */
  readonly coordinateBytes: number;
};

const oid = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

export const CURVES: Readonly<Record<OcmfCurve, CurveInfo>> = {
  secp192k1: { curve: 'secp192k1', nodeName: 'secp192k1', oidDer: oid('06052b8104001f'), coordinateBytes: 24 },
  secp192r1: { curve: 'secp192r1', nodeName: 'prime192v1', oidDer: oid('06082a8648ce3d030101'), coordinateBytes: 24 },
  secp256k1: { curve: 'secp256k1', nodeName: 'secp256k1', oidDer: oid('06052b8104000a'), coordinateBytes: 32 },
  secp256r1: { curve: 'secp256r1', nodeName: 'prime256v1', oidDer: oid('06082a8648ce3d030107'), coordinateBytes: 32 },
  brainpool256r1: {
    curve: 'brainpool256r1',
    nodeName: 'brainpoolP256r1',
    oidDer: oid('06092b2403030208010107'),
    coordinateBytes: 32,
  },
  secp384r1: { curve: 'secp384r1', nodeName: 'secp384r1', oidDer: oid('06052b81040022'), coordinateBytes: 48 },
  brainpool384r1: {
    curve: 'brainpool384r1',
    nodeName: 'brainpoolP384r1',
    oidDer: oid('06092b240303020801010b'),
    coordinateBytes: 48,
  },
};

export const OCMF_CURVES: readonly OcmfCurve[] = Object.keys(CURVES) as OcmfCurve[];

/** Maps an OpenSSL curve name (KeyObject.asymmetricKeyDetails.namedCurve) back to the OCMF name. */
export function curveFromNodeName(nodeName: string): OcmfCurve | undefined {
  return OCMF_CURVES.find((curve) => CURVES[curve].nodeName === nodeName);
}

export type OcmfSignatureAlgorithmId = `ECDSA-${OcmfCurve}-SHA256`;

export type OcmfSignatureAlgorithm = {
  /** The identifier as the specification spells it, e.g. ECDSA-brainpool256r1-SHA256. */
  readonly id: OcmfSignatureAlgorithmId;
  readonly curve: OcmfCurve;
  /** Every OCMF algorithm hashes with SHA-256, also on the 384-bit curves. */
  readonly hash: 'sha256';
};

export function algorithmForCurve(curve: OcmfCurve): OcmfSignatureAlgorithm {
  return { id: `ECDSA-${curve}-SHA256`, curve, hash: 'sha256' };
}

/** The algorithm that applies when a record has no SA field (OCMF table 22: the default since OCMF 0.4). */
export const DEFAULT_SIGNATURE_ALGORITHM = algorithmForCurve('secp256r1');

/**
 * Spellings seen in the field for the brainpool curves: a real NZR gateway writes ECDSA-brainpoolP256r1-SHA256,
 * the name RFC 5639 and OpenSSL use, where the OCMF table writes brainpool256r1. Both name the same curve.
 */
const ALGORITHM_ALIASES: Readonly<Record<string, OcmfCurve>> = {
  'ECDSA-brainpoolP256r1-SHA256': 'brainpool256r1',
  'ECDSA-brainpoolP384r1-SHA256': 'brainpool384r1',
};

export type ResolvedAlgorithm = { readonly algorithm: OcmfSignatureAlgorithm; readonly alias: boolean };

/** Resolves an SA value (or an OCPP signingMethod) to an algorithm; undefined when OCMF does not define it. */
export function resolveSignatureAlgorithm(name: string): ResolvedAlgorithm | undefined {
  for (const curve of OCMF_CURVES) {
    if (name === `ECDSA-${curve}-SHA256`) return { algorithm: algorithmForCurve(curve), alias: false };
  }
  const aliased = ALGORITHM_ALIASES[name];
  return aliased === undefined ? undefined : { algorithm: algorithmForCurve(aliased), alias: true };
}
