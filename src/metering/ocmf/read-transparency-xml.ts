/**
 * Reads the XML container of the SAFE Transparenzsoftware, the export format auditors and drivers receive:
 *
 *   <values><value transactionId=".." context=".."><signedData format="OCMF" encoding="plain">OCMF|...</signedData>
 *   <publicKey encoding="hex">3059...</publicKey></value>...</values>
 *
 * Only this flat structure is read (no DTDs, no namespaces), with the five predefined entities, character
 * references and CDATA. Text is kept byte for byte apart from entity decoding: line breaks are not normalised,
 * because a signature covers the exact payload.
 */
import { err, ok, type Result } from '../../shared/result.ts';
import { MAX_INPUT_TEXT_CHARS, MAX_SIGNED_VALUES_PER_INPUT } from './limits.ts';

export type TransparencyXmlElement = { readonly text: string; readonly attributes: Readonly<Record<string, string>> };

export type TransparencyXmlValue = {
  /** Position among the <value> elements, from 0. */
  readonly index: number;
  readonly attributes: Readonly<Record<string, string>>;
  /** <signedData> (or <encodedData>, its older name). */
  readonly signedData: TransparencyXmlElement | undefined;
  readonly publicKey: TransparencyXmlElement | undefined;
};

export type XmlReadErrorCode = 'InputTooLong' | 'XmlMalformed' | 'NoValues' | 'TooManyValues';
export type XmlReadError = { readonly code: XmlReadErrorCode; readonly message: string };

const VALUE_ELEMENT = /<value\b([^>]*?)(?:\/>|>([\s\S]*?)<\/value\s*>)/g;
const ATTRIBUTE = /([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function readTransparencyXml(xml: string): Result<TransparencyXmlValue[], XmlReadError> {
  if (xml.length > MAX_INPUT_TEXT_CHARS) {
    return err({ code: 'InputTooLong', message: `the XML is longer than ${MAX_INPUT_TEXT_CHARS} characters` });
  }
  const body = xml
    .replace(/^\uFEFF/, '')
    .replace(/<\?xml[\s\S]*?\?>/, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .trim();
  if (!body.startsWith('<') || !body.endsWith('>')) {
    return err({ code: 'XmlMalformed', message: 'the XML has no root element (is it cut off?)' });
  }
  const openings = body.match(/<value\b/g)?.length ?? 0;
  if (openings > MAX_SIGNED_VALUES_PER_INPUT) {
    return err({ code: 'TooManyValues', message: `more than ${MAX_SIGNED_VALUES_PER_INPUT} <value> elements` });
  }
  // Counting first keeps the element search linear: an unclosed <value> would make every later search scan to the end.
  const selfClosing = body.match(/<value\b[^>]*\/>/g)?.length ?? 0;
  const closings = body.match(/<\/value\s*>/g)?.length ?? 0;
  if (openings !== selfClosing + closings) {
    return err({ code: 'XmlMalformed', message: 'a <value> element is not closed' });
  }
  const values: TransparencyXmlValue[] = [];
  for (const match of body.matchAll(VALUE_ELEMENT)) {
    const content = match[2] ?? '';
    const signedData = readElement(content, 'signedData') ?? readElement(content, 'encodedData');
    const publicKey = readElement(content, 'publicKey');
    if (signedData instanceof Error) return err({ code: 'XmlMalformed', message: signedData.message });
    if (publicKey instanceof Error) return err({ code: 'XmlMalformed', message: publicKey.message });
    values.push({ index: values.length, attributes: readAttributes(match[1] ?? ''), signedData, publicKey });
  }
  if (values.length !== openings) {
    return err({ code: 'XmlMalformed', message: 'a <value> element is not closed' });
  }
  if (values.length === 0) return err({ code: 'NoValues', message: 'the XML contains no <value> element' });
  return ok(values);
}

function readElement(content: string, name: string): TransparencyXmlElement | Error | undefined {
  const pattern = new RegExp(`<${name}\\b([^>]*?)(?:/>|>([\\s\\S]*?)</${name}\\s*>)`);
  const match = pattern.exec(content);
  if (match === null) {
    return new RegExp(`<${name}\\b`).test(content) ? new Error(`a <${name}> element is not closed`) : undefined;
  }
  const text = decodeText(match[2] ?? '');
  return text instanceof Error ? text : { text, attributes: readAttributes(match[1] ?? '') };
}

function readAttributes(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of text.matchAll(ATTRIBUTE)) {
    const decoded = decodeText(match[2] ?? match[3] ?? '');
    attributes[match[1] ?? ''] = decoded instanceof Error ? '' : decoded;
  }
  return attributes;
}

/** Character data: CDATA kept verbatim, entities and character references decoded, markup rejected. */
function decodeText(text: string): string | Error {
  if ((text.match(/<!\[CDATA\[/g)?.length ?? 0) > (text.match(/\]\]>/g)?.length ?? 0)) {
    return new Error('a CDATA section is not closed');
  }
  let result = '';
  for (const part of text.split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)) {
    if (part.startsWith('<![CDATA[')) {
      result += part.slice(9, -3);
      continue;
    }
    if (part.includes('<')) return new Error('markup inside an element where text is expected');
    let failed: string | undefined;
    result += part.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);|&/g, (whole, entity: string | undefined) => {
      const value = entity === undefined ? undefined : characterOf(entity);
      if (value === undefined) failed = whole;
      return value ?? '';
    });
    if (failed !== undefined) return new Error(`unknown XML entity or bare '&': ${failed}`);
  }
  return result;
}

function characterOf(entity: string): string | undefined {
  if (entity.startsWith('#')) {
    const code = entity.startsWith('#x') ? Number.parseInt(entity.slice(2), 16) : Number.parseInt(entity.slice(1), 10);
    return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
  }
  return ENTITIES[entity];
}
