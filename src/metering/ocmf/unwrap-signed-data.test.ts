import { describe, expect, it } from 'vitest';
import { BEGIN_READING, payloadWith, signedOcmf, TEST_KEYS } from './ocmf-test-kit.test-support.ts';
import {
  unwrapOcpp16SampledValue,
  unwrapOcpp201SampledValue,
  unwrapOcpp201SignedMeterValue,
  unwrapSignedValueText,
} from './unwrap-signed-data.ts';

const OCMF = signedOcmf(payloadWith({}, [BEGIN_READING]), 'secp256r1');
const ALFEN =
  'AP;0;3;AMVBBEIORR2RGJLJ6YRZUGACQAXSDFCL66EIP3N7;BJKGK43UIRSXMAAROYYDCMZNUYFACRC2I4ADGAABIAAAAAAAQ6ACMAD5CH4FWAIAAEEAB7Y6ACJD2AAAAAAAAABRAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAASAAAAAEIAAAAA====;IGRCBV3TL45XIGPJU7QGD3H4V6ICQ75GLPWEFNEKZX3RTTKJI2FBXHPCWUIWL5OENEHE3SQRVACHG===;';
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
/** The publicKey field as the OCA application note composes it: Base64 over "oca:base16:asn1:<hex>". */
const OCA_KEY = base64(`oca:base16:asn1:${TEST_KEYS.secp256r1.spkiHex}`);

const data = (format: string, text: string, transport: string, publicKey?: string, signingMethod?: string) => ({
  ok: true,
  value: { format, text, publicKey, signingMethod, transport },
});

describe('unwrapOcpp16SampledValue', () => {
  it.each([
    ['the OCMF text itself', OCMF, 'plain'],
    ['the OCMF text hex-encoded (OCPP 1.5/1.6 "SignedData")', Buffer.from(OCMF).toString('hex').toUpperCase(), 'hex'],
    ['the OCMF text in Base64', base64(OCMF), 'base64'],
  ])('reads %s', (_, value, transport) => {
    expect(unwrapOcpp16SampledValue({ value, format: 'SignedData', context: 'Transaction.Begin' })).toEqual(
      data('OCMF', OCMF, transport),
    );
  });

  it('reads the SignedMeterValueType JSON the OCA application note puts into the value', () => {
    const value = JSON.stringify({
      signedMeterData: base64(OCMF),
      signingMethod: '',
      encodingMethod: 'OCMF',
      publicKey: OCA_KEY,
    });
    expect(unwrapOcpp16SampledValue({ value, format: 'SignedData' })).toEqual(
      data('OCMF', OCMF, 'signed-meter-value', OCA_KEY),
    );
  });

  it('reads the variant with the key "signedMeterValue" (has.to.be) and an Alfen record', () => {
    const value = JSON.stringify({ signedMeterValue: base64(ALFEN), encodingMethod: 'Alfen Eichrecht', publicKey: '' });
    expect(unwrapOcpp16SampledValue({ value, format: 'SignedData' })).toEqual(
      data('ALFEN', ALFEN, 'signed-meter-value'),
    );
    expect(unwrapSignedValueText(ALFEN)).toEqual(data('ALFEN', ALFEN, 'plain'));
  });

  it.each([
    ['a raw value', { value: '1234', format: 'Raw' }, 'NotSignedData'],
    ['a value without format (Raw by default)', { value: OCMF }, 'NotSignedData'],
    ['no value', { format: 'SignedData' }, 'SignedDataMissing'],
    ['a number', 17, 'SignedDataMissing'],
    ['data in no known encoding', { value: 'EDL40 1b1b1b1b', format: 'SignedData' }, 'EncodingUnrecognized'],
    ['hex of something else', { value: '1b1b1b1b01010101', format: 'SignedData' }, 'EncodingUnrecognized'],
    ['broken JSON', { value: '{"signedMeterData":', format: 'SignedData' }, 'SignedMeterValueMalformed'],
    [
      'an EDL SignedMeterValueType',
      { value: JSON.stringify({ signedMeterData: 'AAAA', encodingMethod: 'EDL' }), format: 'SignedData' },
      'EncodingMethodUnsupported',
    ],
  ])('rejects %s', (_, sampledValue, code) => {
    const result = unwrapOcpp16SampledValue(sampledValue);
    expect(result.ok ? 'unwrapped' : result.error.code).toBe(code);
  });
});

describe('unwrapOcpp201SignedMeterValue', () => {
  it('reads signedMeterData in Base64 with the signing method and the OCA public key', () => {
    const signedMeterValue = {
      signedMeterData: base64(OCMF),
      signingMethod: 'ECDSA-secp256r1-SHA256',
      encodingMethod: 'OCMF',
      publicKey: OCA_KEY,
    };
    expect(unwrapOcpp201SignedMeterValue(signedMeterValue)).toEqual(
      data('OCMF', OCMF, 'signed-meter-value', OCA_KEY, 'ECDSA-secp256r1-SHA256'),
    );
    expect(unwrapOcpp201SampledValue({ value: 0, signedMeterValue })).toEqual(
      data('OCMF', OCMF, 'signed-meter-value', OCA_KEY, 'ECDSA-secp256r1-SHA256'),
    );
  });

  it('also reads signedMeterData sent as the plain OCMF text', () => {
    expect(
      unwrapOcpp201SignedMeterValue({
        signedMeterData: OCMF,
        signingMethod: '',
        encodingMethod: 'ocmf',
        publicKey: '',
      }),
    ).toEqual(data('OCMF', OCMF, 'signed-meter-value'));
  });

  it.each([
    ['not an object', 'OCMF', 'SignedMeterValueMalformed'],
    ['no signedMeterData', { encodingMethod: 'OCMF' }, 'SignedMeterValueMalformed'],
    [
      'an encodingMethod that is not a string',
      { signedMeterData: base64(OCMF), encodingMethod: 1 },
      'SignedMeterValueMalformed',
    ],
    ['EDL', { signedMeterData: base64(OCMF), encodingMethod: 'EDL' }, 'EncodingMethodUnsupported'],
    [
      'Alfen data said to be OCMF',
      { signedMeterData: base64(ALFEN), encodingMethod: 'OCMF' },
      'EncodingMethodUnsupported',
    ],
    [
      'a nested SignedMeterValueType',
      { signedMeterData: base64(JSON.stringify({ signedMeterData: base64(OCMF) })) },
      'SignedMeterValueMalformed',
    ],
    ['oversized data', { signedMeterData: 'A'.repeat(140_000) }, 'InputTooLong'],
  ])('rejects %s', (_, signedMeterValue, code) => {
    const result = unwrapOcpp201SignedMeterValue(signedMeterValue);
    expect(result.ok ? 'unwrapped' : result.error.code).toBe(code);
  });

  it('rejects a sampled value without signedMeterValue', () => {
    const result = unwrapOcpp201SampledValue({ value: 12 });
    expect(result.ok ? 'unwrapped' : result.error.code).toBe('SignedDataMissing');
  });
});
