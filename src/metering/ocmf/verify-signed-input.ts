/**
 * Verifies everything in one input (see read-signed-input.ts) and sums it up as a report: one verdict per signed
 * record, one session verdict per group of records that together make a transaction, an optional comparison with
 * the billed energy, and the exit code of the verify-meter command (0 valid and consistent, 1 well-formed but not
 * valid, 2 malformed). Pure: no I/O, no clock.
 */
import { err, ok, type Result } from '../../shared/result.ts';
import { formatDecimal } from './exact-decimal.ts';
import type { OcmfVerdict } from './ocmf-verdict.ts';
import { readSignedInput, type SignedInputError, type SignedInputKind } from './read-signed-input.ts';
import { type BilledEnergy, type BilledEnergyProblem, checkBilledEnergy, type SignedEnergy } from './signed-energy.ts';
import type { UnwrappedSignedData } from './unwrap-signed-data.ts';
import type { VerdictStatus } from './verdict-reason.ts';
import { type AlfenVerdict, sessionRecordOfAlfen } from './verify-alfen.ts';
import { sessionRecordOfOcmf } from './verify-ocmf-session.ts';
import { type SessionRecord, type SessionVerdict, verifySession } from './verify-session.ts';
import { verifySignedData } from './verify-signed-data.ts';

export type ReportRecord =
  | {
      readonly label: string;
      readonly transport: UnwrappedSignedData['transport'];
      readonly verdict: OcmfVerdict | AlfenVerdict;
    }
  | { readonly label: string; readonly malformed: { readonly code: string; readonly message: string } };

export type ReportSession = { readonly records: readonly string[]; readonly verdict: SessionVerdict };

export type BillingCheck = {
  readonly billedWh: string;
  readonly signedWh: string | null;
  readonly status: 'match' | 'mismatch';
  readonly problem: BilledEnergyProblem | null;
};

export type VerifyReport = {
  readonly status: VerdictStatus | 'malformed';
  /** 0: valid and consistent; 1: well-formed but not valid; 2: malformed. */
  readonly exitCode: 0 | 1 | 2;
  readonly input: SignedInputKind;
  readonly records: readonly ReportRecord[];
  readonly sessions: readonly ReportSession[];
  readonly billing: BillingCheck | null;
};

export type VerifySignedInputOptions = {
  /** The meter's public key as the verifier knows it; used instead of any key the input carries. */
  readonly publicKey?: string;
  /** The energy the session was billed with; the input must then hold exactly one transaction. */
  readonly billedEnergy?: BilledEnergy;
};

export type VerifyInputError = SignedInputError | { readonly code: 'BilledEnergyAmbiguous'; readonly message: string };

type Verified = {
  readonly label: string;
  readonly group: string | undefined;
  readonly session: SessionRecord;
  readonly energy: SignedEnergy | null;
};

export function verifySignedInput(
  input: string,
  options: VerifySignedInputOptions = {},
): Result<VerifyReport, VerifyInputError> {
  const read = readSignedInput(input);
  if (!read.ok) return read;
  const records: ReportRecord[] = [];
  const verified: Verified[] = [];
  for (const item of read.value.items) {
    if (!item.data.ok) {
      records.push({ label: item.label, malformed: item.data.error });
      continue;
    }
    const result = verifySignedData(item.data.value, options.publicKey);
    if (!result.ok) {
      records.push({ label: item.label, malformed: result.error });
      continue;
    }
    const verdict = result.value;
    records.push({ label: item.label, transport: item.data.value.transport, verdict });
    const session =
      verdict.format === 'OCMF' ? sessionRecordOfOcmf(verdict, item.label) : sessionRecordOfAlfen(verdict, item.label);
    const energy = verdict.format === 'OCMF' ? verdict.energyWh : null;
    verified.push({ label: item.label, group: item.group, session, energy });
  }
  const transactions = groupTransactions(verified);
  const sessions = transactions
    .filter((transaction) => transaction.length > 1)
    .map((transaction) => ({
      records: transaction.map((entry) => entry.label),
      verdict: verifySession(transaction.map((entry) => entry.session)),
    }));
  let billing: BillingCheck | null = null;
  // A malformed record already decides the outcome (exit 2); its energy cannot be billed or counted.
  if (options.billedEnergy !== undefined && records.every((record) => 'verdict' in record)) {
    if (transactions.length !== 1) {
      return err({
        code: 'BilledEnergyAmbiguous',
        message: `a billed energy needs exactly one transaction in the input, found ${transactions.length}`,
      });
    }
    const [only] = transactions;
    const energy = only!.length > 1 ? (sessions[0]?.verdict.energyWh ?? null) : (only![0]?.energy ?? null);
    billing = billingCheck(energy, options.billedEnergy);
  }
  return ok(summarise(read.value.kind, records, sessions, billing));
}

/**
 * A record holding both begin and end is a transaction of its own. The other records are grouped by what the
 * container says belongs together (an XML transactionId) and by the meter that signed them; each group is one
 * transaction to check as a session.
 */
function groupTransactions(verified: readonly Verified[]): Verified[][] {
  const transactions: Verified[][] = [];
  const groups = new Map<string, Verified[]>();
  for (const entry of verified) {
    if (entry.session.hasBegin && entry.session.hasEnd) {
      transactions.push([entry]);
      continue;
    }
    const key = `${entry.group ?? ''}\u0000${entry.session.sourceSerial ?? ''}`;
    const group = groups.get(key);
    if (group === undefined) {
      const created = [entry];
      groups.set(key, created);
      transactions.push(created);
    } else {
      group.push(entry);
    }
  }
  return transactions;
}

function billingCheck(energy: SignedEnergy | null, billed: BilledEnergy): BillingCheck {
  const billedWh = 'wh' in billed ? billed.wh.trim() : formatDecimal({ units: billed.milliWh, scale: 3 });
  const checked = checkBilledEnergy(energy, billed);
  return {
    billedWh,
    signedWh: energy?.delta ?? null,
    status: checked.ok ? 'match' : 'mismatch',
    problem: checked.ok ? null : checked.error,
  };
}

function summarise(
  input: SignedInputKind,
  records: ReportRecord[],
  sessions: ReportSession[],
  billing: BillingCheck | null,
): VerifyReport {
  const statuses: VerdictStatus[] = [
    ...records.flatMap((record) => ('verdict' in record ? [record.verdict.status] : [])),
    ...sessions.map((session) => session.verdict.status),
    ...(billing?.status === 'mismatch' ? (['invalid'] as const) : []),
  ];
  if (records.some((record) => 'malformed' in record))
    return { status: 'malformed', exitCode: 2, input, records, sessions, billing };
  const status: VerdictStatus = statuses.includes('invalid')
    ? 'invalid'
    : statuses.includes('unverifiable')
      ? 'unverifiable'
      : 'valid';
  return { status, exitCode: status === 'valid' ? 0 : 1, input, records, sessions, billing };
}
