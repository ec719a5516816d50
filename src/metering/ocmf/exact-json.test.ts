import { describe, expect, it } from 'vitest';
import { parseExactJson, toPlainJson } from './exact-json.ts';

const parse = (text: string) => parseExactJson(text, 8);

describe('parseExactJson', () => {
  it('keeps every number as the literal the sender wrote, so that 2935.600 keeps its precision', () => {
    const result = parse('{"RV":2935.600,"a":[0.00,-1E3,1e-2,0],"b":"x"}');
    expect(result.ok && toPlainJson(result.value)).toEqual({
      RV: '2935.600',
      a: ['0.00', '-1E3', '1e-2', '0'],
      b: 'x',
    });
  });

  it('reads strings with every escape, keeps key order, and allows whitespace between tokens', () => {
    const result = parse(' {\r\n\t"z" : "a\\"b\\\\c\\/\\n\\u00e9" , "a":true,"n":null ,"f":false}\n');
    expect(result.ok && [...(result.value.kind === 'object' ? result.value.entries.keys() : [])]).toEqual([
      'z',
      'a',
      'n',
      'f',
    ]);
    expect(result.ok && toPlainJson(result.value)).toEqual({ z: 'a"b\\c/\né', a: true, n: null, f: false });
  });

  it('rejects duplicate keys, because a record that states a field twice is ambiguous', () => {
    expect(parse('{"RV":1,"RV":2}')).toEqual({
      ok: false,
      error: { code: 'JsonDuplicateKey', message: 'duplicate key "RV" at offset 8', offset: 8 },
    });
  });

  it('bounds the nesting depth', () => {
    expect(parseExactJson('[[[1]]]', 3).ok).toBe(true);
    expect(parseExactJson('[[[[1]]]]', 3)).toEqual({
      ok: false,
      error: { code: 'JsonTooDeep', message: 'nesting deeper than 3 levels at offset 3', offset: 3 },
    });
  });

  it.each([
    ['{"a":1,}', 'expected a key in double quotes at offset 7'],
    ['{"a":01}', 'invalid number at offset 6'],
    ['{"a":1.}', 'invalid number at offset 6'],
    ['{"a":NaN}', 'unexpected character "N" at offset 5'],
    ['{"a":"x\ty"}', 'control character in a string at offset 7'],
    ['{"a":"\\x"}', 'invalid escape in a string at offset 6'],
    ['{"a":"\\u12G4"}', 'invalid \\u escape at offset 6'],
    ['{"a":1} x', 'unexpected text after the JSON value at offset 8'],
    ['{"a":"', 'unterminated string at offset 6'],
    ['', 'unexpected end of text at offset 0'],
    ["{'a':1}", 'expected a key in double quotes at offset 1'],
    ['[1 2]', "expected ',' or ']' in an array at offset 3"],
    ['{"a" 1}', "expected ':' after a key at offset 5"],
    ['{"a":1 "b":2}', "expected ',' or '}' in an object at offset 7"],
    ['tru', 'unexpected character "t" at offset 0'],
  ])('rejects %j: %s', (text, message) => {
    expect(parse(text)).toEqual({ ok: false, error: { code: 'JsonSyntax', message, offset: expect.any(Number) } });
  });
});
