import { describe, expect, it } from 'vitest';
import { createV201Translator } from './v201-translator.ts';

const start = { connectorId: 1, idTag: 'DEMO0001', meterStart: 1000, timestamp: '2026-01-05T10:00:00.000Z' };
const sample = (timestamp: string, wh: string) => ({
  connectorId: 1,
  transactionId: 1,
  meterValue: [
    {
      timestamp,
      sampledValue: [
        { value: wh, context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
        { value: '55', context: 'Sample.Periodic', measurand: 'SoC', unit: 'Percent', location: 'EV' },
      ],
    },
  ],
});

describe('createV201Translator', () => {
  it('turns a 1.6 transaction into TransactionEvents whose retries keep their seqNo', () => {
    const translator = createV201Translator();
    const started = translator.request('StartTransaction', start);
    const transactionId = `${Date.parse(start.timestamp).toString(36)}-1`;
    expect(started).toEqual({
      send: true,
      method: 'TransactionEvent',
      params: {
        eventType: 'Started',
        timestamp: start.timestamp,
        triggerReason: 'Authorized',
        seqNo: 0,
        transactionInfo: { transactionId, chargingState: 'Charging' },
        idToken: { idToken: 'DEMO0001', type: 'ISO14443' },
        evse: { id: 1, connectorId: 1 },
        meterValue: [
          {
            timestamp: start.timestamp,
            sampledValue: [
              {
                value: 1000,
                context: 'Transaction.Begin',
                measurand: 'Energy.Active.Import.Register',
                unitOfMeasure: { unit: 'Wh' },
              },
            ],
          },
        ],
      },
    });
    expect(translator.response('StartTransaction', start, { idTokenInfo: { status: 'NoCredit' } })).toEqual({
      transactionId: 1,
      idTagInfo: { status: 'Invalid' },
    });
    const first = translator.request('MeterValues', sample('2026-01-05T10:01:00.000Z', '1200'));
    const second = translator.request('MeterValues', sample('2026-01-05T10:02:00.000Z', '1400'));
    const retryOfFirst = translator.request('MeterValues', sample('2026-01-05T10:01:00.000Z', '1200'));
    expect(first.send && first.params.seqNo).toBe(1);
    expect(second.send && second.params.seqNo).toBe(2);
    expect(retryOfFirst).toEqual(first);
    expect(first.send && first.params.meterValue).toEqual([
      {
        timestamp: '2026-01-05T10:01:00.000Z',
        sampledValue: [
          {
            value: 1200,
            context: 'Sample.Periodic',
            measurand: 'Energy.Active.Import.Register',
            unitOfMeasure: { unit: 'Wh' },
          },
          {
            value: 55,
            context: 'Sample.Periodic',
            measurand: 'SoC',
            location: 'EV',
            unitOfMeasure: { unit: 'Percent' },
          },
        ],
      },
    ]);
    const stop = {
      transactionId: 1,
      idTag: 'DEMO0001',
      meterStop: 1400,
      timestamp: '2026-01-05T10:03:00.000Z',
      reason: 'SoftReset',
    };
    const ended = translator.request('StopTransaction', stop);
    expect(ended.send && ended.params).toMatchObject({
      eventType: 'Ended',
      triggerReason: 'ResetCommand',
      seqNo: 3,
      transactionInfo: { transactionId, chargingState: 'EVConnected', stoppedReason: 'ImmediateReset' },
      idToken: { idToken: 'DEMO0001', type: 'ISO14443' },
    });
    expect(translator.request('StopTransaction', stop)).toEqual(ended);
    expect(translator.response('StopTransaction', stop, {})).toEqual({ idTagInfo: { status: 'Accepted' } });
  });

  it('answers what 2.0.1 has no counterpart for locally, and maps connector statuses', () => {
    const translator = createV201Translator();
    expect(
      translator.request('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available' }),
    ).toEqual({
      send: false,
    });
    expect(translator.request('DataTransfer', { vendorId: 'x' })).toEqual({ send: false });
    const status = translator.request('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'SuspendedEV',
      timestamp: '2026-01-05T10:00:00.000Z',
    });
    expect(status).toEqual({
      send: true,
      method: 'StatusNotification',
      params: { timestamp: '2026-01-05T10:00:00.000Z', connectorStatus: 'Occupied', evseId: 1, connectorId: 1 },
    });
  });
});
