/**
 * Lets the OCPP 1.6 station model speak OCPP 2.0.1: each call the station makes in 1.6 terms is translated into its
 * 2.0.1 counterpart before it is sent, and the answer back into 1.6 terms. The session logic (plan, power curve,
 * retries) stays one and the same for both versions, so both bill identically by construction.
 *
 *   StartTransaction  → TransactionEvent Started (the station's own transaction id, seqNo 0)
 *   MeterValues       → TransactionEvent Updated (MeterValuePeriodic) inside a transaction, else MeterValues
 *   StopTransaction   → TransactionEvent Ended (stoppedReason, final register)
 *   Authorize, BootNotification, Heartbeat, StatusNotification → their 2.0.1 forms
 *
 * Retries of the same message get the same seqNo and transaction id (they are keyed by content), so a CSMS that
 * sees a retry sees a duplicate, never a new event. Messages with no 2.0.1 counterpart are answered locally.
 */
type Params = Record<string, unknown>;

export type Translated =
  | { readonly send: true; readonly method: string; readonly params: Params }
  | { readonly send: false };

interface Transaction {
  readonly id: string;
  readonly localId: number;
  nextSeqNo: number;
  readonly seqNoOf: Map<string, number>;
}

const STATUS_V201: Record<string, string> = {
  Available: 'Available',
  Preparing: 'Occupied',
  Charging: 'Occupied',
  SuspendedEV: 'Occupied',
  SuspendedEVSE: 'Occupied',
  Finishing: 'Occupied',
  Reserved: 'Reserved',
  Unavailable: 'Unavailable',
  Faulted: 'Faulted',
};

const STOPPED_REASON_V201: Record<string, string> = {
  HardReset: 'ImmediateReset',
  SoftReset: 'ImmediateReset',
  UnlockCommand: 'Remote',
};

const TRIGGER_OF_STOP: Record<string, string> = {
  EVDisconnected: 'EVDeparted',
  Local: 'StopAuthorized',
  Remote: 'RemoteStop',
  DeAuthorized: 'Deauthorized',
  HardReset: 'ResetCommand',
  SoftReset: 'ResetCommand',
  Reboot: 'ResetCommand',
  UnlockCommand: 'UnlockCommand',
};

/** OCPP 1.6 idTagInfo statuses; 2.0.1's others (NoCredit, NotAtThisTime, ...) read as Invalid. */
const ID_TAG_STATUSES_V16 = new Set(['Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx']);

export interface V201Translator {
  request(method: string, params: Params): Translated;
  response(method: string, request: Params, answer: Params): Params;
}

export function createV201Translator(): V201Translator {
  const byLocalId = new Map<number, Transaction>();
  const byStartKey = new Map<string, Transaction>();
  let nextLocalId = 1;

  const idToken = (idTag: unknown) => ({ idToken: String(idTag), type: 'ISO14443' });
  const seqNoFor = (transaction: Transaction, eventKey: string): number => {
    let seqNo = transaction.seqNoOf.get(eventKey);
    if (seqNo === undefined) {
      seqNo = transaction.nextSeqNo++;
      transaction.seqNoOf.set(eventKey, seqNo);
    }
    return seqNo;
  };
  const startKey = (params: Params) => `${params.connectorId}|${params.timestamp}|${params.meterStart}`;
  const transactionOfStart = (params: Params): Transaction => {
    const key = startKey(params);
    let transaction = byStartKey.get(key);
    if (transaction === undefined) {
      // The start time in base 36 keeps the id unique per station across runs, within the 36 characters allowed.
      const startedMs = Date.parse(String(params.timestamp));
      transaction = {
        id: `${startedMs.toString(36)}-${params.connectorId}`,
        localId: nextLocalId++,
        nextSeqNo: 0,
        seqNoOf: new Map(),
      };
      byStartKey.set(key, transaction);
      byLocalId.set(transaction.localId, transaction);
    }
    return transaction;
  };

  return {
    request(method, params) {
      switch (method) {
        case 'BootNotification':
          return {
            send: true,
            method,
            params: {
              reason: 'PowerUp',
              chargingStation: {
                vendorName: params.chargePointVendor,
                model: params.chargePointModel,
                ...(params.chargePointSerialNumber !== undefined && { serialNumber: params.chargePointSerialNumber }),
                ...(params.firmwareVersion !== undefined && { firmwareVersion: params.firmwareVersion }),
              },
            },
          };
        case 'Heartbeat':
          return { send: true, method, params: {} };
        case 'Authorize':
          return { send: true, method, params: { idToken: idToken(params.idTag) } };
        case 'StatusNotification': {
          // 2.0.1 reports connectors only; the station as a whole (connector 0) has no status message.
          const connectorId = Number(params.connectorId);
          if (connectorId === 0) return { send: false };
          return {
            send: true,
            method,
            params: {
              timestamp: params.timestamp ?? new Date().toISOString(),
              connectorStatus: STATUS_V201[String(params.status)] ?? 'Unavailable',
              evseId: connectorId,
              connectorId: 1,
            },
          };
        }
        case 'StartTransaction': {
          const transaction = transactionOfStart(params);
          return {
            send: true,
            method: 'TransactionEvent',
            params: {
              eventType: 'Started',
              timestamp: params.timestamp,
              triggerReason: 'Authorized',
              seqNo: seqNoFor(transaction, 'Started'),
              transactionInfo: { transactionId: transaction.id, chargingState: 'Charging' },
              idToken: idToken(params.idTag),
              evse: { id: params.connectorId, connectorId: 1 },
              meterValue: [
                {
                  timestamp: params.timestamp,
                  sampledValue: [energySample(Number(params.meterStart), 'Transaction.Begin')],
                },
              ],
              ...(params.reservationId !== undefined && { reservationId: params.reservationId }),
            },
          };
        }
        case 'MeterValues': {
          const meterValue = convertMeterValues(params.meterValue);
          const transaction =
            params.transactionId === undefined ? undefined : byLocalId.get(Number(params.transactionId));
          if (transaction === undefined) {
            return { send: true, method, params: { evseId: params.connectorId, meterValue } };
          }
          const at = String((params.meterValue as Params[])[0]?.timestamp);
          return {
            send: true,
            method: 'TransactionEvent',
            params: {
              eventType: 'Updated',
              timestamp: at,
              triggerReason: 'MeterValuePeriodic',
              seqNo: seqNoFor(transaction, `Updated|${at}`),
              transactionInfo: { transactionId: transaction.id, chargingState: 'Charging' },
              meterValue,
            },
          };
        }
        case 'StopTransaction': {
          const transaction = byLocalId.get(Number(params.transactionId));
          if (transaction === undefined) return { send: false };
          const reason = String(params.reason ?? 'Local');
          return {
            send: true,
            method: 'TransactionEvent',
            params: {
              eventType: 'Ended',
              timestamp: params.timestamp,
              triggerReason: TRIGGER_OF_STOP[reason] ?? 'AbnormalCondition',
              seqNo: seqNoFor(transaction, 'Ended'),
              transactionInfo: {
                transactionId: transaction.id,
                chargingState: 'EVConnected',
                stoppedReason: STOPPED_REASON_V201[reason] ?? reason,
              },
              ...(params.idTag !== undefined && { idToken: idToken(params.idTag) }),
              meterValue: [
                {
                  timestamp: params.timestamp,
                  sampledValue: [energySample(Number(params.meterStop), 'Transaction.End')],
                },
              ],
            },
          };
        }
        default:
          // DataTransfer, diagnostics and firmware notifications: no 2.0.1 counterpart in this simulator.
          return { send: false };
      }
    },

    response(method, request, answer) {
      switch (method) {
        case 'Authorize':
          return { idTagInfo: idTagInfoOf(answer.idTokenInfo) };
        case 'StartTransaction': {
          const transaction = transactionOfStart(request);
          return { transactionId: transaction.localId, idTagInfo: idTagInfoOf(answer.idTokenInfo) };
        }
        case 'StopTransaction':
          return request.idTag === undefined ? {} : { idTagInfo: idTagInfoOf(answer.idTokenInfo) };
        case 'MeterValues':
          return {};
        default:
          return answer;
      }
    },
  };
}

/** The 2.0.1 idTokenInfo as a 1.6 idTagInfo; absent means accepted (a CSMS may omit it for a known token). */
function idTagInfoOf(info: unknown): { status: string } {
  const status = (info as { status?: unknown } | undefined)?.status;
  if (status === undefined) return { status: 'Accepted' };
  return { status: ID_TAG_STATUSES_V16.has(String(status)) ? String(status) : 'Invalid' };
}

function energySample(registerWh: number, context: string): Params {
  return { value: registerWh, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } };
}

/** 1.6 meter values (values as strings) in 2.0.1 form (numbers, unitOfMeasure). */
function convertMeterValues(meterValue: unknown): Params[] {
  return (meterValue as Params[]).map((entry) => ({
    timestamp: entry.timestamp,
    sampledValue: (entry.sampledValue as Params[]).map((sample) => ({
      value: Number(sample.value),
      ...(sample.context !== undefined && { context: sample.context }),
      ...(sample.measurand !== undefined && { measurand: sample.measurand }),
      ...(sample.phase !== undefined && { phase: sample.phase }),
      ...(sample.location !== undefined && { location: sample.location }),
      ...(sample.unit !== undefined && { unitOfMeasure: { unit: sample.unit } }),
    })),
  }));
}
