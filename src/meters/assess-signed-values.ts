/**
 * Decides what a session's signed meter values prove, against the meter registry: every record verifies with the
 * meter's key, the records form one transaction (pagination, begin/end, one serial), the serial is the registered
 * one, and the signed energy (end − begin) equals the billed energy to the last digit. Anything else is a `hold`
 * finding: a session whose signed data does not prove its bill is not billed automatically.
 *
 * Pure. When the registry has no key, the key the data carries is used and returned to be pinned (trust on first
 * use, flagged) — but only when the data verifies with it.
 */
import type { OcmfVerdict, VerdictReading } from '../metering/ocmf/ocmf-verdict.ts';
import { type UnwrappedSignedData, unwrapSignedValueText } from '../metering/ocmf/unwrap-signed-data.ts';
import { type AlfenVerdict, sessionRecordOfAlfen } from '../metering/ocmf/verify-alfen.ts';
import { sessionRecordOfOcmf } from '../metering/ocmf/verify-ocmf-session.ts';
import { type SessionVerdict, verifySession } from '../metering/ocmf/verify-session.ts';
import { verifySignedData } from '../metering/ocmf/verify-signed-data.ts';
import type { Finding } from '../sessions/finding.ts';

export type RegisteredMeter = {
  readonly serial: string;
  readonly publicKey: string | null;
  readonly signedDataRequired: boolean;
};

export type SignedAssessmentInput = {
  /** Raw values as stored, in arrival order. */
  readonly values: readonly string[];
  readonly meter: RegisteredMeter | null;
  /** meterStop − meterStart in Wh; null when it is not known (then only the signatures are checked). */
  readonly billedEnergyWh: bigint | null;
};

export type VerifiedRecord = {
  readonly data: UnwrappedSignedData;
  readonly verdict: OcmfVerdict | AlfenVerdict;
};

export type SignedAssessment = {
  readonly status: 'none' | 'verified' | 'failed';
  readonly findings: Finding[];
  readonly records: readonly VerifiedRecord[];
  readonly session: SessionVerdict | null;
  /** The key to pin on the meter (as the data carried it) and the serial the data names; null: nothing to pin. */
  readonly pin: { readonly publicKey: string; readonly serial: string | null } | null;
};

const hold = (code: Finding['code'], message: string): Finding => ({ code, severity: 'hold', message });

export function assessSignedValues(input: SignedAssessmentInput): SignedAssessment {
  const none = (findings: Finding[]): SignedAssessment => ({
    status: findings.length === 0 ? 'none' : 'failed',
    findings,
    records: [],
    session: null,
    pin: null,
  });
  if (input.values.length === 0) {
    return none(
      input.meter?.signedDataRequired
        ? [
            hold(
              'SignedDataMissing',
              `meter ${input.meter.serial} must sign its readings, but the session has no signed data`,
            ),
          ]
        : [],
    );
  }
  const unwrapped: UnwrappedSignedData[] = [];
  const seen = new Set<string>();
  for (const [index, raw] of input.values.entries()) {
    const data = unwrapSignedValueText(raw);
    if (!data.ok)
      return none([
        hold('SignedDataMalformed', `signed value ${index + 1}: ${data.error.code}: ${data.error.message}`),
      ]);
    // The same record sent twice (with a MeterValues and again in the StopTransaction) counts once.
    if (seen.has(data.value.text)) continue;
    seen.add(data.value.text);
    unwrapped.push(data.value);
  }
  const registeredKey = input.meter?.publicKey ?? undefined;
  const carriedKey = unwrapped.find((data) => data.publicKey !== undefined)?.publicKey;
  const key = registeredKey ?? carriedKey;
  const records: VerifiedRecord[] = [];
  for (const [index, data] of unwrapped.entries()) {
    const verdict = verifySignedData(data, key);
    if (!verdict.ok)
      return none([
        hold('SignedDataMalformed', `signed value ${index + 1}: ${verdict.error.code}: ${verdict.error.message}`),
      ]);
    records.push({ data, verdict: verdict.value });
  }
  const session = verifySession(
    records.map(({ verdict }, index) =>
      verdict.format === 'OCMF'
        ? sessionRecordOfOcmf(verdict, `record ${index + 1}`)
        : sessionRecordOfAlfen(verdict, `record ${index + 1}`),
    ),
    input.billedEnergyWh === null || input.billedEnergyWh < 0n
      ? {}
      : { billedEnergy: { milliWh: input.billedEnergyWh * 1000n } },
  );
  const findings: Finding[] = [];
  if (
    registeredKey !== undefined &&
    records.some(({ verdict }) => verdict.warnings.some((w) => w.code === 'PublicKeyOverridden'))
  ) {
    findings.push(
      hold('MeterKeyMismatch', 'the signed data carries another public key than the one registered for the meter'),
    );
  }
  if (input.meter !== null && session.sourceSerial !== null && session.sourceSerial !== input.meter.serial) {
    findings.push(
      hold(
        'MeterSerialMismatch',
        `the signed data comes from meter ${session.sourceSerial}, the EVSE's registered meter is ${input.meter.serial}`,
      ),
    );
  }
  const energyReasons = session.reasons.filter(
    (r) => r.code === 'BilledEnergyMismatch' || r.code === 'SignedEnergyMissing',
  );
  const otherReasons = session.reasons.filter((r) => !energyReasons.includes(r));
  if (key === undefined) {
    findings.push(
      hold('SignedDataUnverifiable', 'no public key: the meter has none registered and the data carries none'),
    );
  } else if (otherReasons.length > 0) {
    const code = session.status === 'unverifiable' ? 'SignedDataUnverifiable' : 'SignedDataInvalid';
    findings.push(hold(code, `signed data does not verify: ${describe(otherReasons, records)}`));
  }
  for (const reason of energyReasons) findings.push(hold('SignedEnergyMismatch', reason.message));
  const verified = findings.length === 0;
  const pin =
    registeredKey === undefined && carriedKey !== undefined && session.status === 'valid'
      ? { publicKey: carriedKey, serial: session.sourceSerial }
      : null;
  if (verified) {
    const energy =
      session.energyWh === null ? '' : `; signed energy ${session.energyWh.delta} Wh equals the billed energy`;
    findings.push({
      code: 'SignedDataVerified',
      severity: 'info',
      message: `${records.length} signed record(s) from meter ${session.sourceSerial ?? '(no serial)'} verified${energy}`,
    });
  }
  if (pin !== null) {
    findings.push({
      code: 'MeterKeyPinned',
      severity: 'warn',
      message: `the meter had no registered public key; the key in the signed data was pinned (trust on first use): confirm it against the meter's display or certificate`,
    });
  }
  return { status: verified ? 'verified' : 'failed', findings, records, session, pin };
}

function describe(reasons: SessionVerdict['reasons'], records: readonly VerifiedRecord[]): string {
  const details = records.flatMap(({ verdict }, index) =>
    verdict.reasons.map((reason) => `record ${index + 1}: ${reason.code}`),
  );
  return [...reasons.map((reason) => `${reason.code} (${reason.message})`), ...details].slice(0, 6).join('; ');
}

/** Readings of a verified OCMF record, for the CDR's plain text. */
export function readingsOf(verdict: OcmfVerdict | AlfenVerdict): readonly VerdictReading[] {
  return verdict.format === 'OCMF' ? verdict.readings : [];
}
