/**
 * Typed access to the fields of a parsed OCMF JSON object, shared by the payload, reading and signature parsers.
 * Field types follow the specification; the departures real meters make (a number where a string belongs, null
 * for an absent field) are accepted and recorded as deviations, any other type mismatch is a typed error.
 */
import type { JsonNode, PlainJson } from './exact-json.ts';
import { toPlainJson } from './exact-json.ts';
import type { OcmfMalformedCode } from './ocmf-document.ts';
import type { Warning } from './verdict-reason.ts';

/** Thrown inside the parsers and turned into an OcmfMalformed result by parseOcmf. */
export class OcmfParseFailure extends Error {
  constructor(
    readonly code: OcmfMalformedCode,
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

export type JsonObjectNode = Extract<JsonNode, { kind: 'object' }>;

export class FieldReader {
  private readonly used = new Set<string>();

  constructor(
    readonly node: JsonObjectNode,
    readonly path: string,
    private readonly deviations: Warning[],
  ) {}

  fail(code: OcmfMalformedCode, key: string, message: string): never {
    throw new OcmfParseFailure(code, `${this.at(key)}: ${message}`, this.at(key));
  }

  at(key: string): string {
    return `${this.path}.${key}`;
  }

  deviate(code: Warning['code'], message: string): void {
    this.deviations.push({ code, message });
  }

  /** The node under key, marking the key as known; undefined when absent or null (null is reported). */
  take(key: string): JsonNode | undefined {
    this.used.add(key);
    const node = this.node.entries.get(key);
    if (node?.kind === 'null') {
      this.deviate('NullField', `${this.at(key)} is null; read as absent`);
      return undefined;
    }
    return node;
  }

  /** A String field; a JSON number is accepted as its literal text (e.g. "FV": 1.0 reads as "1.0"). */
  string(key: string): string | undefined {
    const node = this.take(key);
    if (node === undefined) return undefined;
    if (node.kind === 'string') return node.value;
    if (node.kind === 'number') {
      this.deviate('NumberAsString', `${this.at(key)} is the number ${node.literal} where OCMF specifies a string`);
      return node.literal;
    }
    return this.fail('FieldType', key, `expected a string, found ${describe(node)}`);
  }

  /** A Number field as literal text; a decimal string is accepted (some meters quote their numbers). */
  numberText(key: string): string | undefined {
    const node = this.take(key);
    if (node === undefined) return undefined;
    if (node.kind === 'number') return node.literal;
    if (node.kind === 'string') {
      this.deviate('NumberAsString', `${this.at(key)} is the string "${node.value}" where OCMF specifies a number`);
      return node.value.trim();
    }
    return this.fail('FieldType', key, `expected a number, found ${describe(node)}`);
  }

  /** Every key not read by a typed accessor: vendor fields (U..Z) and fields the specification does not define. */
  extensions(vendorPrefixes: RegExp): Record<string, PlainJson> {
    const extensions: Record<string, PlainJson> = {};
    for (const [key, value] of this.node.entries) {
      if (this.used.has(key)) continue;
      if (!vendorPrefixes.test(key)) this.deviate('UnknownField', `${this.at(key)} is not an OCMF field; kept as is`);
      extensions[key] = toPlainJson(value);
    }
    return extensions;
  }
}

export function describe(node: JsonNode): string {
  switch (node.kind) {
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'string':
      return `the string ${JSON.stringify(node.value.slice(0, 40))}`;
    case 'number':
      return `the number ${node.literal}`;
    case 'boolean':
      return `${node.value}`;
    case 'null':
      return 'null';
  }
}
