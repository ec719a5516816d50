import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  bootNotificationRequest,
  currentAFor,
  meterValuesRequest,
  startTransactionRequest,
  statusNotificationRequest,
  stopTransactionRequest,
} from './messages.ts';

// ocpp-rpc's own OCPP 1.6 schema validator (the one strict mode uses), to check the builders without a socket.
const require = createRequire(import.meta.url);
const validators = require('ocpp-rpc/lib/standard-validators.js') as {
  subprotocol: string;
  validate(schemaId: string, params: unknown): boolean;
}[];
const ocpp16 = validators.find((validator) => validator.subprotocol === 'ocpp1.6')!;
const atMs = Date.UTC(2024, 4, 1, 8, 30, 0);

describe('message builders', () => {
  it('build a BootNotification that identifies the simulator', () => {
    const request = bootNotificationRequest('VB-SIM-00000007');
    expect(request).toEqual({
      chargePointVendor: 'Voltbill',
      chargePointModel: 'Simulator',
      chargePointSerialNumber: 'VB-SIM-00000007',
      firmwareVersion: 'voltbill-sim-1.0',
      meterType: 'Simulated AC meter',
      meterSerialNumber: 'M-VB-SIM-00000007',
    });
    expect(ocpp16.validate('urn:BootNotification.req', request)).toBe(true);
  });

  it('build StatusNotification and StartTransaction with ISO 8601 UTC timestamps', () => {
    const status = statusNotificationRequest(1, 'Charging', atMs);
    expect(status).toEqual({
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Charging',
      timestamp: '2024-05-01T08:30:00.000Z',
    });
    expect(ocpp16.validate('urn:StatusNotification.req', status)).toBe(true);
    const start = startTransactionRequest('DEMO0001', 1_768_812, atMs);
    expect(start).toEqual({
      connectorId: 1,
      idTag: 'DEMO0001',
      meterStart: 1_768_812,
      timestamp: '2024-05-01T08:30:00.000Z',
    });
    expect(ocpp16.validate('urn:StartTransaction.req', start)).toBe(true);
  });

  it('build MeterValues with energy, power, current and state of charge', () => {
    const request = meterValuesRequest(
      17,
      { atMs, registerWh: 1_770_000, powerW: 11_000, socPercent: 42 },
      'Sample.Periodic',
    );
    const context = 'Sample.Periodic';
    expect(request).toEqual({
      connectorId: 1,
      transactionId: 17,
      meterValue: [
        {
          timestamp: '2024-05-01T08:30:00.000Z',
          sampledValue: [
            { value: '1770000', context, measurand: 'Energy.Active.Import.Register', unit: 'Wh', location: 'Outlet' },
            { value: '11000', context, measurand: 'Power.Active.Import', unit: 'W', location: 'Outlet' },
            { value: '15.9', context, measurand: 'Current.Import', unit: 'A', location: 'Outlet' },
            { value: '42', context, measurand: 'SoC', unit: 'Percent', location: 'EV' },
          ],
        },
      ],
    });
    expect(ocpp16.validate('urn:MeterValues.req', request)).toBe(true);
    const withoutCar = meterValuesRequest(null, { atMs, registerWh: 5, powerW: 0, socPercent: null }, 'Trigger');
    expect(withoutCar).not.toHaveProperty('transactionId');
    expect(withoutCar.meterValue[0]?.sampledValue.map((value) => value.measurand)).toEqual([
      'Energy.Active.Import.Register',
      'Power.Active.Import',
      'Current.Import',
    ]);
    expect(ocpp16.validate('urn:MeterValues.req', withoutCar)).toBe(true);
  });

  it('build StopTransaction with the begin and end readings as transaction data', () => {
    const request = stopTransactionRequest({
      transactionId: 17,
      idTag: 'DEMO0001',
      reason: 'EVDisconnected',
      begin: { atMs, registerWh: 1_768_812, powerW: 0, socPercent: 19 },
      end: { atMs: atMs + 3_600_000, registerWh: 1_779_812, powerW: 0, socPercent: 42 },
    });
    expect(request).toMatchObject({
      transactionId: 17,
      idTag: 'DEMO0001',
      meterStop: 1_779_812,
      timestamp: '2024-05-01T09:30:00.000Z',
      reason: 'EVDisconnected',
    });
    expect(
      request.transactionData.map((value) => [
        value.timestamp,
        value.sampledValue[0]?.value,
        value.sampledValue[0]?.context,
      ]),
    ).toEqual([
      ['2024-05-01T08:30:00.000Z', '1768812', 'Transaction.Begin'],
      ['2024-05-01T09:30:00.000Z', '1779812', 'Transaction.End'],
    ]);
    expect(ocpp16.validate('urn:StopTransaction.req', request)).toBe(true);
  });

  it('report the per-phase current of a three-phase power at 230 V', () => {
    expect(currentAFor(11_000)).toBe('15.9');
    expect(currentAFor(22_080)).toBe('32.0');
    expect(currentAFor(0)).toBe('0.0');
  });
});
