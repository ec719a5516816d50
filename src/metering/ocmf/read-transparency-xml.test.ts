import { describe, expect, it } from 'vitest';
import { readTransparencyXml } from './read-transparency-xml.ts';

describe('readTransparencyXml', () => {
  it('reads values with their attributes, decoding entities and CDATA and keeping line breaks', () => {
    const xml = `\uFEFF<?xml version="1.0" encoding="UTF-8"?>
<!-- an export -->
<values>
  <value transactionId="7" context='Transaction.Begin'>
    <signedData format="OCMF" encoding="plain">OCMF|{&quot;A&quot;:&#x31;,&#10;"B":"&lt;&amp;&gt;&apos;"}|<![CDATA[{"SD":"<00>"}]]></signedData>
    <publicKey encoding="hex">30 59</publicKey>
  </value>
  <value><signedData>x</signedData></value>
  <value/>
</values>`;
    expect(readTransparencyXml(xml)).toEqual({
      ok: true,
      value: [
        {
          index: 0,
          attributes: { transactionId: '7', context: 'Transaction.Begin' },
          signedData: {
            text: 'OCMF|{"A":1,\n"B":"<&>\'"}|{"SD":"<00>"}',
            attributes: { format: 'OCMF', encoding: 'plain' },
          },
          publicKey: { text: '30 59', attributes: { encoding: 'hex' } },
        },
        { index: 1, attributes: {}, signedData: { text: 'x', attributes: {} }, publicKey: undefined },
        { index: 2, attributes: {}, signedData: undefined, publicKey: undefined },
      ],
    });
  });

  it('reads the older <encodedData> element as signed data', () => {
    const result = readTransparencyXml(
      '<values><value><encodedData format="OCMF" encoding="hex">4f</encodedData></value></values>',
    );
    expect(result.ok && result.value[0]?.signedData).toEqual({
      text: '4f',
      attributes: { format: 'OCMF', encoding: 'hex' },
    });
  });

  it.each([
    ['a cut-off document', '<?xml version="1.0"', 'XmlMalformed'],
    ['a document without values', '<ChargingProcess><ServerId>09</ServerId></ChargingProcess>', 'NoValues'],
    ['an unclosed value', '<values><value><signedData>x</signedData></values>', 'XmlMalformed'],
    ['an unclosed signedData', '<values><value><signedData>x</value></values>', 'XmlMalformed'],
    ['an unknown entity', '<values><value><signedData>&nbsp;</signedData></value></values>', 'XmlMalformed'],
    ['a bare ampersand', '<values><value><signedData>a & b</signedData></value></values>', 'XmlMalformed'],
    ['markup inside the data', '<values><value><signedData>a<b/>c</signedData></value></values>', 'XmlMalformed'],
    [
      'an unclosed CDATA section',
      '<values><value><signedData><![CDATA[x</signedData></value></values>',
      'XmlMalformed',
    ],
    [
      'an opening without closing among closed ones',
      `<values><value>${'<value></value>'.repeat(3)}</values>`,
      'XmlMalformed',
    ],
    ['too many values', `<values>${'<value/>'.repeat(10_001)}</values>`, 'TooManyValues'],
  ])('rejects %s', (_, xml, code) => {
    const result = readTransparencyXml(xml);
    expect(result.ok ? 'read' : result.error.code).toBe(code);
  });
});
