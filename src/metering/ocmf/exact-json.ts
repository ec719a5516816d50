/**
 * A strict JSON reader (RFC 8259) that keeps every number as the literal text the sender wrote. OCMF requires
 * this: a reading value of 2935.600 kWh states its precision in its digits, and JSON.parse would turn it into
 * 2935.6. The reader also rejects duplicate keys, because a record that says RV twice is ambiguous, and it bounds
 * nesting depth so that hostile input cannot exhaust the stack.
 */
import { err, ok, type Result } from '../../shared/result.ts';

export type JsonNode =
  | { readonly kind: 'object'; readonly entries: ReadonlyMap<string, JsonNode> }
  | { readonly kind: 'array'; readonly items: readonly JsonNode[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly literal: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'null' };

export type JsonSyntaxCode = 'JsonSyntax' | 'JsonTooDeep' | 'JsonDuplicateKey';
export type JsonSyntaxError = { readonly code: JsonSyntaxCode; readonly message: string; readonly offset: number };

const NUMBER_PATTERN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

class JsonReadError extends Error {
  constructor(
    readonly code: JsonSyntaxCode,
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Parses one JSON value that must span the whole text (whitespace around it allowed). */
export function parseExactJson(text: string, maxDepth: number): Result<JsonNode, JsonSyntaxError> {
  const reader = new Reader(text, maxDepth);
  try {
    reader.skipWhitespace();
    const value = reader.readValue(1);
    reader.skipWhitespace();
    if (reader.offset !== text.length) reader.fail('JsonSyntax', 'unexpected text after the JSON value');
    return ok(value);
  } catch (error) {
    if (error instanceof JsonReadError) return err({ code: error.code, message: error.message, offset: error.offset });
    throw error;
  }
}

class Reader {
  offset = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  fail(code: JsonSyntaxCode, message: string): never {
    throw new JsonReadError(code, `${message} at offset ${this.offset}`, this.offset);
  }

  skipWhitespace(): void {
    while (this.offset < this.text.length) {
      const char = this.text[this.offset];
      if (char !== ' ' && char !== '\t' && char !== '\n' && char !== '\r') return;
      this.offset++;
    }
  }

  readValue(depth: number): JsonNode {
    const char = this.text[this.offset];
    switch (char) {
      case '{':
        return this.readObject(depth);
      case '[':
        return this.readArray(depth);
      case '"':
        return { kind: 'string', value: this.readString() };
      case 't':
        return this.readKeyword('true', { kind: 'boolean', value: true });
      case 'f':
        return this.readKeyword('false', { kind: 'boolean', value: false });
      case 'n':
        return this.readKeyword('null', { kind: 'null' });
      case undefined:
        return this.fail('JsonSyntax', 'unexpected end of text');
      default:
        if (char === '-' || (char >= '0' && char <= '9')) return this.readNumber();
        return this.fail('JsonSyntax', `unexpected character ${JSON.stringify(char)}`);
    }
  }

  private enter(depth: number): void {
    if (depth > this.maxDepth) this.fail('JsonTooDeep', `nesting deeper than ${this.maxDepth} levels`);
  }

  private readObject(depth: number): JsonNode {
    this.enter(depth);
    this.offset++;
    const entries = new Map<string, JsonNode>();
    this.skipWhitespace();
    if (this.text[this.offset] === '}') {
      this.offset++;
      return { kind: 'object', entries };
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.offset] !== '"') this.fail('JsonSyntax', 'expected a key in double quotes');
      const keyOffset = this.offset;
      const key = this.readString();
      if (entries.has(key)) {
        this.offset = keyOffset;
        this.fail('JsonDuplicateKey', `duplicate key ${JSON.stringify(key)}`);
      }
      this.skipWhitespace();
      if (this.text[this.offset] !== ':') this.fail('JsonSyntax', "expected ':' after a key");
      this.offset++;
      this.skipWhitespace();
      entries.set(key, this.readValue(depth + 1));
      this.skipWhitespace();
      const next = this.text[this.offset++];
      if (next === '}') return { kind: 'object', entries };
      if (next !== ',') {
        this.offset--;
        this.fail('JsonSyntax', "expected ',' or '}' in an object");
      }
    }
  }

  private readArray(depth: number): JsonNode {
    this.enter(depth);
    this.offset++;
    const items: JsonNode[] = [];
    this.skipWhitespace();
    if (this.text[this.offset] === ']') {
      this.offset++;
      return { kind: 'array', items };
    }
    for (;;) {
      this.skipWhitespace();
      items.push(this.readValue(depth + 1));
      this.skipWhitespace();
      const next = this.text[this.offset++];
      if (next === ']') return { kind: 'array', items };
      if (next !== ',') {
        this.offset--;
        this.fail('JsonSyntax', "expected ',' or ']' in an array");
      }
    }
  }

  private readString(): string {
    this.offset++;
    let value = '';
    let runStart = this.offset;
    for (;;) {
      const char = this.text[this.offset];
      if (char === undefined) this.fail('JsonSyntax', 'unterminated string');
      if (char === '"') {
        value += this.text.slice(runStart, this.offset);
        this.offset++;
        return value;
      }
      if (char < ' ') this.fail('JsonSyntax', 'control character in a string');
      if (char !== '\\') {
        this.offset++;
        continue;
      }
      value += this.text.slice(runStart, this.offset);
      const escaped = this.text[this.offset + 1];
      if (escaped === 'u') {
        const hex = this.text.slice(this.offset + 2, this.offset + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('JsonSyntax', 'invalid \\u escape');
        value += String.fromCharCode(Number.parseInt(hex, 16));
        this.offset += 6;
      } else {
        const replacement = escaped === undefined ? undefined : ESCAPES[escaped];
        if (replacement === undefined) this.fail('JsonSyntax', 'invalid escape in a string');
        value += replacement;
        this.offset += 2;
      }
      runStart = this.offset;
    }
  }

  private readNumber(): JsonNode {
    NUMBER_PATTERN.lastIndex = this.offset;
    const match = NUMBER_PATTERN.exec(this.text);
    if (match === null) return this.fail('JsonSyntax', 'invalid number');
    this.offset += match[0].length;
    const next = this.text[this.offset];
    if (next !== undefined && /[0-9A-Za-z.+-]/.test(next)) this.fail('JsonSyntax', 'invalid number');
    return { kind: 'number', literal: match[0] };
  }

  private readKeyword(word: string, node: JsonNode): JsonNode {
    if (this.text.startsWith(word, this.offset)) {
      this.offset += word.length;
      return node;
    }
    return this.fail('JsonSyntax', `unexpected character ${JSON.stringify(this.text[this.offset])}`);
  }
}

/** Plain data for display and JSON output: numbers stay literal strings, so nothing is rounded on the way out. */
export type PlainJson = string | boolean | null | readonly PlainJson[] | { readonly [key: string]: PlainJson };

export function toPlainJson(node: JsonNode): PlainJson {
  switch (node.kind) {
    case 'object':
      return Object.fromEntries([...node.entries].map(([key, value]) => [key, toPlainJson(value)]));
    case 'array':
      return node.items.map(toPlainJson);
    case 'string':
      return node.value;
    case 'number':
      return node.literal;
    case 'boolean':
      return node.value;
    case 'null':
      return null;
  }
}
