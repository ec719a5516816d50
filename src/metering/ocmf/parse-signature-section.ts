/**
 * Reads the signature section (OCMF table 8): SA the algorithm (default ECDSA-secp256r1-SHA256), SE the text
 * encoding of SD (default hex), SM its MIME type (only application/x-der is defined) and SD the signature.
 * Some meters (Isabellenhuette) send the raw r||s pair instead of DER, which is recognised by its exact length.
 */
import { decodeBase64, decodeHex } from './binary-text.ts';
import {
  CURVES,
  DEFAULT_SIGNATURE_ALGORITHM,
  OCMF_CURVES,
  type OcmfSignatureAlgorithm,
  resolveSignatureAlgorithm,
} from './curves.ts';
import { parseDerEcdsaSignature } from './der.ts';
import type { JsonNode } from './exact-json.ts';
import { MAX_SIGNATURE_TEXT_CHARS } from './limits.ts';
import type { OcmfSignature, OcmfSignatureEncoding } from './ocmf-document.ts';
import { describe, FieldReader, OcmfParseFailure } from './ocmf-field-reader.ts';
import type { Warning } from './verdict-reason.ts';

/** U..Z are for vendors, A..F for components that process the record later (OCMF "extension points"). */
const EXTENSION_FIELD = /^[U-ZA-F]/;
const DER_MIME_TYPE = 'application/x-der';

export function parseSignatureSection(node: JsonNode, deviations: Warning[]): OcmfSignature {
  if (node.kind !== 'object') {
    throw new OcmfParseFailure('FieldType', `signature: expected a JSON object, found ${describe(node)}`, 'signature');
  }
  const fields = new FieldReader(node, 'signature', deviations);
  const SA = fields.string('SA');
  const algorithm = readAlgorithm(fields, SA);
  const declaredSE = fields.string('SE');
  if (declaredSE !== undefined && declaredSE !== 'hex' && declaredSE !== 'base64') {
    fields.fail('SignatureEncodingUnsupported', 'SE', `'${declaredSE}' is neither hex nor base64`);
  }
  const SM = fields.string('SM');
  if (SM !== undefined && SM !== DER_MIME_TYPE) {
    fields.fail('SignatureMimeTypeUnsupported', 'SM', `'${SM}' is not ${DER_MIME_TYPE}`);
  }
  const SD = fields.string('SD');
  if (SD === undefined || SD.trim() === '') {
    throw new OcmfParseFailure('SignatureDataMissing', 'signature.SD (the signature) is missing', 'signature.SD');
  }
  if (SD.length > MAX_SIGNATURE_TEXT_CHARS) {
    fields.fail('SignatureUndecodable', 'SD', `longer than ${MAX_SIGNATURE_TEXT_CHARS} characters`);
  }
  const { bytes, SE } = decodeSignatureText(fields, SD.trim(), declaredSE as 'hex' | 'base64' | undefined);
  const encoding = signatureEncoding(fields, bytes, SA === undefined ? undefined : algorithm);
  return { SA, algorithm, SE, SM, SD, bytes, encoding, extensions: fields.extensions(EXTENSION_FIELD) };
}

function readAlgorithm(fields: FieldReader, SA: string | undefined): OcmfSignatureAlgorithm {
  if (SA === undefined) {
    fields.deviate('AlgorithmDefault', `no SA: the default algorithm ${DEFAULT_SIGNATURE_ALGORITHM.id} applies`);
    return DEFAULT_SIGNATURE_ALGORITHM;
  }
  const resolved = resolveSignatureAlgorithm(SA);
  if (resolved === undefined) {
    return fields.fail('SignatureAlgorithmUnsupported', 'SA', `'${SA}' is not an OCMF signature algorithm`);
  }
  if (resolved.alias) {
    fields.deviate('AlgorithmSpelling', `SA '${SA}' is read as ${resolved.algorithm.id}, the OCMF spelling`);
  }
  return resolved.algorithm;
}

function decodeSignatureText(
  fields: FieldReader,
  SD: string,
  SE: 'hex' | 'base64' | undefined,
): { bytes: Buffer; SE: 'hex' | 'base64' } {
  if (SE === 'base64') {
    const bytes = decodeBase64(SD);
    return bytes === undefined
      ? fields.fail('SignatureUndecodable', 'SD', 'SE says base64 but SD is not')
      : { bytes, SE };
  }
  const hex = decodeHex(SD);
  if (hex !== undefined) return { bytes: hex, SE: 'hex' };
  // Hex is the default, but a signature that is not hex and is valid Base64 is unambiguous.
  const base64 = SE === undefined ? decodeBase64(SD) : undefined;
  if (base64 === undefined) return fields.fail('SignatureUndecodable', 'SD', 'not hex (the encoding SE names)');
  fields.deviate('SignatureEncodingUndeclared', 'signature.SD is Base64 although SE does not say so');
  return { bytes: base64, SE: 'base64' };
}

function signatureEncoding(
  fields: FieldReader,
  bytes: Uint8Array,
  declared: OcmfSignatureAlgorithm | undefined,
): OcmfSignatureEncoding {
  const der = parseDerEcdsaSignature(bytes);
  if (der?.canonical === true) return 'der';
  if (der !== undefined) {
    fields.deviate(
      'SignatureDerNonCanonical',
      'signature.SD writes r or s as fixed-width integers, not canonical DER; they are read as unsigned values',
    );
    return 'der-non-canonical';
  }
  // Without SA the curve is only known once the key is, so any OCMF block length is a candidate.
  const curves = declared === undefined ? OCMF_CURVES : [declared.curve];
  if (curves.some((curve) => bytes.length === 2 * CURVES[curve].coordinateBytes)) {
    fields.deviate('RawSignature', `signature.SD is a raw ${bytes.length}-byte r||s pair, not DER`);
    return 'ieee-p1363';
  }
  return fields.fail(
    'SignatureUndecodable',
    'SD',
    `${bytes.length} bytes are neither a DER ECDSA signature nor a raw r||s pair for the curve`,
  );
}
