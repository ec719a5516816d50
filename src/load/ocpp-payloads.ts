/**
 * The payloads a lean load station sends, for OCPP 1.6J and OCPP 2.0.1, built as plain objects (no schema library
 * on the hot path). Each builder produces a message valid against the official JSON schema of its version; the
 * unit tests check that with ocpp-rpc's validators.
 */
export const LOAD_VENDOR = 'Voltbill';
export const LOAD_MODEL = 'LoadStation';
export const LOAD_FIRMWARE = 'voltbill-load-1.0';

export type Payload = Record<string, unknown>;

/** OCPP 2.0.1 SignedMeterValueType; OCPP 1.6 carries it as the JSON text of a SignedData value (OCA's note). */
export interface SignedMeterValue {
  readonly signedMeterData: string;
  readonly signingMethod: string;
  readonly encodingMethod: string;
  readonly publicKey: string;
}

/** A 1.6 meterValue holding one signed register reading (format SignedData) of the transaction's begin or end. */
function v16SignedMeterValue(at: Date, signed: SignedMeterValue, context: 'Transaction.Begin' | 'Transaction.End') {
  return {
    timestamp: at.toISOString(),
    sampledValue: [
      {
        value: JSON.stringify(signed),
        context,
        format: 'SignedData',
        measurand: 'Energy.Active.Import.Register',
        unit: 'Wh',
      },
    ],
  };
}

export interface MeterReading {
  readonly at: Date;
  readonly registerWh: number;
  readonly powerW: number;
}

export const v16 = {
  boot: (serial: string): Payload => ({
    chargePointVendor: LOAD_VENDOR,
    chargePointModel: LOAD_MODEL,
    chargePointSerialNumber: serial,
    firmwareVersion: LOAD_FIRMWARE,
  }),
  status: (connectorId: number, status: string, at: Date): Payload => ({
    connectorId,
    errorCode: 'NoError',
    status,
    timestamp: at.toISOString(),
  }),
  authorize: (idTag: string): Payload => ({ idTag }),
  start: (idTag: string, meterStartWh: number, at: Date): Payload => ({
    connectorId: 1,
    idTag,
    meterStart: meterStartWh,
    timestamp: at.toISOString(),
  }),
  meterValues: (transactionId: number, reading: MeterReading): Payload => ({
    connectorId: 1,
    transactionId,
    meterValue: [
      {
        timestamp: reading.at.toISOString(),
        sampledValue: [
          {
            value: String(reading.registerWh),
            context: 'Sample.Periodic',
            measurand: 'Energy.Active.Import.Register',
            unit: 'Wh',
          },
          { value: String(reading.powerW), context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
        ],
      },
    ],
  }),
  /** The signed register at the transaction's begin, in a MeterValues of its own (StartTransaction has no room). */
  signedBegin: (transactionId: number, at: Date, signed: SignedMeterValue): Payload => ({
    connectorId: 1,
    transactionId,
    meterValue: [v16SignedMeterValue(at, signed, 'Transaction.Begin')],
  }),
  /** `signedEnd`: the signed register at the stop, in the StopTransaction's transactionData. */
  stop: (
    transactionId: number,
    idTag: string,
    meterStopWh: number,
    at: Date,
    reason: string,
    signedEnd?: SignedMeterValue,
  ): Payload => ({
    transactionId,
    idTag,
    meterStop: meterStopWh,
    timestamp: at.toISOString(),
    reason,
    ...(signedEnd !== undefined && { transactionData: [v16SignedMeterValue(at, signedEnd, 'Transaction.End')] }),
  }),
};

export const v201 = {
  boot: (serial: string): Payload => ({
    reason: 'PowerUp',
    chargingStation: {
      vendorName: LOAD_VENDOR,
      model: LOAD_MODEL,
      serialNumber: serial,
      firmwareVersion: LOAD_FIRMWARE,
    },
  }),
  status: (evseId: number, status: string, at: Date): Payload => ({
    timestamp: at.toISOString(),
    connectorStatus: status,
    evseId,
    connectorId: evseId === 0 ? 0 : 1,
  }),
  authorize: (idToken: string): Payload => ({ idToken: { idToken, type: 'ISO14443' } }),
  transactionEvent: (event: TransactionEventInput): Payload => {
    const payload: Payload = {
      eventType: event.eventType,
      timestamp: event.reading.at.toISOString(),
      triggerReason: event.triggerReason,
      seqNo: event.seqNo,
      transactionInfo: {
        transactionId: event.transactionId,
        chargingState: event.eventType === 'Ended' ? 'EVConnected' : 'Charging',
        ...(event.stoppedReason !== undefined && { stoppedReason: event.stoppedReason }),
      },
      meterValue: [
        {
          timestamp: event.reading.at.toISOString(),
          sampledValue: [
            {
              value: event.reading.registerWh,
              context: event.context,
              measurand: 'Energy.Active.Import.Register',
              unitOfMeasure: { unit: 'Wh' },
              ...(event.signedMeterValue !== undefined && { signedMeterValue: event.signedMeterValue }),
            },
            ...(event.eventType === 'Updated'
              ? [
                  {
                    value: event.reading.powerW,
                    context: event.context,
                    measurand: 'Power.Active.Import',
                    unitOfMeasure: { unit: 'W' },
                  },
                ]
              : []),
          ],
        },
      ],
    };
    if (event.eventType === 'Started') {
      payload.evse = { id: 1, connectorId: 1 };
      payload.idToken = { idToken: event.idToken, type: 'ISO14443' };
    }
    if (event.offline) payload.offline = true;
    return payload;
  },
};

export interface TransactionEventInput {
  readonly eventType: 'Started' | 'Updated' | 'Ended';
  readonly triggerReason: 'Authorized' | 'MeterValuePeriodic' | 'EVCommunicationLost' | 'StopAuthorized';
  readonly seqNo: number;
  readonly transactionId: string;
  readonly idToken: string;
  readonly reading: MeterReading;
  readonly context: 'Transaction.Begin' | 'Sample.Periodic' | 'Transaction.End';
  readonly stoppedReason?: 'EVDisconnected' | 'Local';
  readonly offline?: boolean;
  /** OCPP 2.0.1 SignedMeterValueType, sent as given (e.g. an OCMF string with its public key). */
  readonly signedMeterValue?: SignedMeterValue;
}
