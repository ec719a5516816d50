import { describe, expect, it } from 'vitest';
import { pointHex, TEST_KEYS } from '../metering/ocmf/ocmf-test-kit.test-support.ts';
import { calibrationStatus, checkCalibration, daysUntil, localDate } from './calibration-status.ts';
import { extractV16SignedValues, extractV201SignedValues } from './extract-signed-values.ts';
import { dueWindowEnd } from './meter-json.ts';
import { validateMeterInput } from './validate-meter-input.ts';

describe('calibration', () => {
  it('counts the local calendar day the session ended on', () => {
    // 23:30 Berlin on 31 December is 22:30 UTC: still within a calibration valid until 31 December.
    const lateEvening = new Date('2026-12-31T22:30:00Z');
    expect(localDate(lateEvening, 'Europe/Berlin')).toBe('2026-12-31');
    expect(
      checkCalibration({ serial: 'M1', calibrationValidUntil: '2026-12-31' }, lateEvening, 'Europe/Berlin'),
    ).toEqual([]);
    // 00:30 Berlin on 1 January is 23:30 UTC on 31 December: lapsed in Berlin.
    const afterMidnight = new Date('2026-12-31T23:30:00Z');
    expect(
      checkCalibration({ serial: 'M1', calibrationValidUntil: '2026-12-31' }, afterMidnight, 'Europe/Berlin'),
    ).toEqual([
      {
        code: 'CalibrationLapsed',
        severity: 'hold',
        message: 'meter M1 was calibrated until 2026-12-31; the session ended on 2027-01-01 (Europe/Berlin)',
      },
    ]);
    expect(checkCalibration({ serial: 'M1', calibrationValidUntil: null }, afterMidnight, 'UTC')).toEqual([
      { code: 'CalibrationUnknown', severity: 'warn', message: 'meter M1 has no calibration date in the registry' },
    ]);
  });

  it('classifies a calibration as valid, due, lapsed or unknown', () => {
    expect(daysUntil('2026-11-26', '2026-12-26')).toBe(30);
    expect(daysUntil('2026-03-01', '2026-03-31')).toBe(30);
    expect(calibrationStatus('2026-12-26', '2026-11-26', 30)).toBe('due');
    expect(calibrationStatus('2026-12-27', '2026-11-26', 30)).toBe('valid');
    expect(calibrationStatus('2026-11-26', '2026-11-26', 0)).toBe('due');
    expect(calibrationStatus('2026-11-25', '2026-11-26', 30)).toBe('lapsed');
    expect(calibrationStatus(null, '2026-11-26', 30)).toBe('unknown');
    expect(dueWindowEnd('2026-11-26', 30)).toBe('2026-12-26');
    expect(dueWindowEnd('2028-02-28', 1)).toBe('2028-02-29');
  });
});

describe('validateMeterInput', () => {
  it('accepts real dates and keys in any form the verifier reads, a bare point on some OCMF curve too', () => {
    expect(
      validateMeterInput({ serial: 'M1', lastCalibratedOn: '2024-02-29', calibrationValidUntil: '2032-12-31' }).ok,
    ).toBe(true);
    expect(validateMeterInput({ publicKey: TEST_KEYS.secp256r1.spkiHex }).ok).toBe(true);
    expect(validateMeterInput({ publicKey: pointHex('brainpool256r1') }).ok).toBe(true);
  });

  it('names the field that is wrong', () => {
    const problem = (
      input: Parameters<typeof validateMeterInput>[0],
      current?: Parameters<typeof validateMeterInput>[1],
    ) => {
      const result = validateMeterInput(input, current);
      return result.ok ? undefined : [result.error.path, result.error.message];
    };
    expect(problem({ calibrationValidUntil: '2025-02-29' })).toEqual([
      '$.calibrationValidUntil',
      'calibrationValidUntil must be a calendar date YYYY-MM-DD, got "2025-02-29"',
    ]);
    expect(
      problem({ lastCalibratedOn: '2026-01-02' }, { lastCalibratedOn: null, calibrationValidUntil: '2026-01-01' }),
    ).toEqual(['$.calibrationValidUntil', 'the calibration cannot end (2026-01-01) before it was made (2026-01-02)']);
    expect(problem({ serial: ' ' })?.[0]).toBe('$.serial');
    expect(problem({ publicKey: 'zz' })?.[0]).toBe('$.publicKey');
  });
});

describe('extracting signed values', () => {
  it('keeps OCPP 1.6 SignedData values exactly as sent, with their time and context', () => {
    const raw = ' OCMF|{"FV":"1.0"} |{"SD":"00"}';
    expect(
      extractV16SignedValues([
        {
          timestamp: '2026-11-25T10:00:00Z',
          sampledValue: [{ value: '1234' }, { value: raw, format: 'SignedData', context: 'Transaction.End' }],
        },
        {
          timestamp: 'not a date',
          sampledValue: [
            { value: 'abc', format: 'SignedData' },
            { value: '', format: 'SignedData' },
          ],
        },
      ]),
    ).toEqual([
      { at: new Date('2026-11-25T10:00:00Z'), context: 'Transaction.End', raw },
      { at: null, context: null, raw: 'abc' },
    ]);
    expect(extractV16SignedValues(undefined)).toEqual([]);
  });

  it('keeps OCPP 2.0.1 signedMeterValue objects as JSON text', () => {
    const signed = { signedMeterData: 'T0NNRnw=', signingMethod: '', encodingMethod: 'OCMF', publicKey: '' };
    expect(
      extractV201SignedValues([
        {
          timestamp: '2026-11-25T10:00:00Z',
          sampledValue: [{ value: 1 }, { signedMeterValue: signed, context: 'Sample.Periodic' }],
        },
      ] as never),
    ).toEqual([{ at: new Date('2026-11-25T10:00:00Z'), context: 'Sample.Periodic', raw: JSON.stringify(signed) }]);
  });
});
