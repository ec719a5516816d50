/**
 * Parses an OCMF text, "OCMF|<payload>|<signature>", as the OCMF specification defines it. The payload section
 * is kept exactly as transmitted — the signature covers those bytes, so nothing is ever re-serialised — and its
 * JSON is read with every number as written. Real-world departures listed in the conformance README (SA absent,
 * brainpoolP spelling, DER or raw r||s, RV as number or string, legacy versions, spaces in the JSON) are accepted
 * and recorded in `deviations`; anything else that is not OCMF is an OcmfMalformed error with a JSON path.
 */
import { err, ok, type Result } from '../../shared/result.ts';
import { parseExactJson } from './exact-json.ts';
import { MAX_JSON_DEPTH, MAX_OCMF_TEXT_CHARS } from './limits.ts';
import type { OcmfDocument, OcmfMalformed } from './ocmf-document.ts';
import { OcmfParseFailure } from './ocmf-field-reader.ts';
import { parsePayload } from './parse-payload.ts';
import { parseSignatureSection } from './parse-signature-section.ts';
import type { Warning } from './verdict-reason.ts';

const HEADER = 'OCMF';

export function parseOcmf(text: string): Result<OcmfDocument, OcmfMalformed> {
  if (text.length > MAX_OCMF_TEXT_CHARS) {
    return err({ code: 'InputTooLong', message: `the OCMF text is longer than ${MAX_OCMF_TEXT_CHARS} characters` });
  }
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  const sections = trimmed.split('|');
  if (sections[0] !== HEADER || sections.length < 2) {
    return err({ code: 'NotOcmf', message: `the text does not begin with '${HEADER}|'` });
  }
  // The specification forbids '|' inside the sections, so exactly two separators delimit them.
  if (sections.length !== 3) {
    return err({
      code: 'SectionCount',
      message: `an OCMF text has three sections separated by '|' (header, payload, signature), found ${sections.length}`,
    });
  }
  const [, payloadText = '', signatureText = ''] = sections;
  const payloadJson = parseExactJson(payloadText, MAX_JSON_DEPTH);
  if (!payloadJson.ok) {
    return err({ code: 'PayloadJson', message: `payload: ${payloadJson.error.message}`, path: 'payload' });
  }
  const signatureJson = parseExactJson(signatureText, MAX_JSON_DEPTH);
  if (!signatureJson.ok) {
    return err({ code: 'SignatureJson', message: `signature: ${signatureJson.error.message}`, path: 'signature' });
  }
  const deviations: Warning[] = [];
  try {
    const { header, readings } = parsePayload(payloadJson.value, deviations);
    const signature = parseSignatureSection(signatureJson.value, deviations);
    return ok({
      text: trimmed,
      payloadText,
      payloadBytes: Buffer.from(payloadText, 'utf8'),
      signatureText,
      header,
      readings,
      signature,
      deviations,
    });
  } catch (error) {
    if (error instanceof OcmfParseFailure) return err({ code: error.code, message: error.message, path: error.path });
    throw error;
  }
}
