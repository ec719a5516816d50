/**
 * The Eichrecht meter of a load station (`voltbill load --signed`): it signs the register at the begin and at the
 * end of every transaction as an OCMF 1.0 record (ECDSA over P-256 with SHA-256, one of the curves OCMF names for
 * meters) and sends its public key with the data, as OCPP's SignedMeterValueType carries it, so that Voltbill pins
 * the key on first use and verifies every later session against it (src/meters/assess-signed-values.ts). What the
 * CSMS does with such data — store it raw with the session, verify each signature and the signed energy against
 * the bill at the stop — is then part of the measured work.
 *
 * One key pair per meter, made when the meter is first needed: about a millisecond of CPU, once per station.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { SignedMeterValue } from './ocpp-payloads.ts';

export type TransactionEdge = 'B' | 'E';

export class LoadMeter {
  readonly serial: string;
  readonly #privateKey: KeyObject;
  /** The public key as OCPP transports it: Base64 of the OCA envelope "oca:base16:asn1:<DER SPKI hex>". */
  readonly publicKey: string;
  /** OCMF pagination (PG "T<n>"): one counter per meter, never repeated, consecutive within a transaction. */
  #pagination = 0;

  constructor(
    serial: string,
    private readonly gatewaySerial: string,
  ) {
    this.serial = serial;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    this.#privateKey = privateKey;
    const spkiHex = publicKey.export({ format: 'der', type: 'spki' }).toString('hex');
    this.publicKey = Buffer.from(`oca:base16:asn1:${spkiHex}`, 'utf8').toString('base64');
  }

  /** The signed reading of the register (whole Wh) at `at`, the begin (B) or end (E) of the driver's transaction. */
  sign(edge: TransactionEdge, at: Date, registerWh: number, idTag: string): SignedMeterValue {
    this.#pagination += 1;
    const header = {
      FV: '1.0',
      GI: 'VOLTBILL LOAD',
      GS: this.gatewaySerial,
      GV: '1.0',
      PG: `T${this.#pagination}`,
      MV: 'Voltbill',
      MM: 'LoadMeter',
      MS: this.serial,
      MF: '1.0',
      IS: true,
      IL: 'VERIFIED',
      IF: ['RFID_PLAIN'],
      IT: 'ISO14443',
      ID: idTag,
    };
    // The reading is written by hand: RV is the register in kWh with exactly three decimals (no float formatting).
    const reading = `{"TM":"${ocmfTime(at)}","TX":"${edge}","RV":${kiloWattHours(registerWh)},"RI":"1-b:1.8.0","RU":"kWh","RT":"AC","EF":"","ST":"G"}`;
    const payload = `${JSON.stringify(header).slice(0, -1)},"RD":[${reading}]}`;
    const signature = sign('sha256', Buffer.from(payload, 'utf8'), { key: this.#privateKey, dsaEncoding: 'der' });
    const text = `OCMF|${payload}|${JSON.stringify({ SA: 'ECDSA-secp256r1-SHA256', SD: signature.toString('hex').toUpperCase() })}`;
    return {
      signedMeterData: Buffer.from(text, 'utf8').toString('base64'),
      signingMethod: '',
      encodingMethod: 'OCMF',
      publicKey: this.publicKey,
    };
  }
}

/** Whole Wh as kWh with three decimals, from the integer (12345 → "12.345"). */
export function kiloWattHours(registerWh: number): string {
  if (!Number.isSafeInteger(registerWh) || registerWh < 0) {
    throw new RangeError(`a register reading is a whole number of Wh, not ${registerWh}`);
  }
  return `${Math.floor(registerWh / 1000)}.${String(registerWh % 1000).padStart(3, '0')}`;
}

/** OCMF's time: local time with milliseconds after a comma, the UTC offset, and "S" (synchronized clock). */
function ocmfTime(at: Date): string {
  const iso = at.toISOString(); // 2026-11-28T03:30:00.123Z
  return `${iso.slice(0, 19)},${iso.slice(20, 23)}+0000 S`;
}
