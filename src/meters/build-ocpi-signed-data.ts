/**
 * The OCPI 2.2.1 SignedData object of a CDR (mod_cdrs §SignedData): the encoding method, the meter's public key and
 * one SignedValue per signed record, in session order. signed_data is the Base64 of the record's exact text (as
 * OCPI asks), so an eMSP or a driver decodes it back to the very OCMF string the meter signed and can check it with
 * any OCMF verifier (e.g. the S.A.F.E. Transparenzsoftware); plain_data is a short readable summary of the readings.
 */
import { TRANSACTION_END_TYPES } from '../metering/ocmf/ocmf-document.ts';
import type { VerifiedRecord } from './assess-signed-values.ts';

export type OcpiSignedValue = {
  readonly nature: 'Start' | 'End' | 'Intermediate';
  readonly plain_data: string;
  readonly signed_data: string;
};

export type OcpiSignedData = {
  readonly encoding_method: string;
  readonly public_key?: string;
  readonly signed_values: readonly OcpiSignedValue[];
};

/** OCPI field limits: plain_data string(512), signed_data string(5000), public_key string(512). */
const MAX_PLAIN_CHARS = 512;
const MAX_SIGNED_CHARS = 5000;
const MAX_KEY_CHARS = 512;

export function buildOcpiSignedData(records: readonly VerifiedRecord[]): OcpiSignedData | null {
  const values: OcpiSignedValue[] = [];
  for (const { data, verdict } of records) {
    const signed = Buffer.from(data.text, 'utf8').toString('base64');
    // A record longer than OCPI allows cannot travel in a CDR; it stays stored with the session.
    if (signed.length > MAX_SIGNED_CHARS) continue;
    values.push({
      nature: natureOf(verdict),
      plain_data: plainDataOf(verdict).slice(0, MAX_PLAIN_CHARS),
      signed_data: signed,
    });
  }
  if (values.length === 0) return null;
  const first = records[0]!;
  const key = records.find((record) => record.verdict.signature.publicKey !== null)?.verdict.signature.publicKey;
  return {
    encoding_method: first.data.format === 'OCMF' ? 'OCMF' : 'Alfen Eichrecht',
    ...(key && key.spkiHex.length <= MAX_KEY_CHARS && { public_key: key.spkiHex }),
    signed_values: values,
  };
}

function natureOf(verdict: VerifiedRecord['verdict']): OcpiSignedValue['nature'] {
  if (verdict.format === 'ALFEN') return 'Intermediate';
  if (verdict.readings.some((reading) => reading.TX !== undefined && TRANSACTION_END_TYPES.has(reading.TX)))
    return 'End';
  if (verdict.readings.some((reading) => reading.TX === 'B')) return 'Start';
  return 'Intermediate';
}

function plainDataOf(verdict: VerifiedRecord['verdict']): string {
  if (verdict.format === 'ALFEN') {
    return `meter ${verdict.meterSerial} ${verdict.time} ${verdict.obis} ${verdict.valueWh ?? '?'} Wh`;
  }
  const readings = verdict.readings.map((reading) =>
    `${reading.TX ?? '-'} ${reading.TM?.text ?? ''} ${reading.RV ?? ''} ${reading.RU ?? ''}${reading.RI ? ` (${reading.RI})` : ''}`.replace(
      /\s+/g,
      ' ',
    ),
  );
  return `meter ${verdict.sourceSerial ?? '(no serial)'}; ${readings.join('; ')}`;
}
