/**
 * The readable form of a verification report, for operators, auditors and drivers: per record the meter, the
 * readings, the energy and the signature status, then each session, then one result line with the exit code.
 */
import type { OcmfVerdict, VerdictReading } from './ocmf-verdict.ts';
import type { SignedEnergy } from './signed-energy.ts';
import type { Reason, VerdictStatus, Warning } from './verdict-reason.ts';
import type { AlfenVerdict } from './verify-alfen.ts';
import type { ReportRecord, ReportSession, VerifyReport } from './verify-signed-input.ts';

const RESULT_TEXT: Readonly<Record<VerifyReport['status'], string>> = {
  valid: 'VALID — signatures valid and records consistent',
  invalid: 'INVALID — the data is well-formed but not valid (see the problems above)',
  unverifiable: 'UNVERIFIABLE — no public key to check a signature with; pass --public-key',
  malformed: 'MALFORMED — the input cannot be read as signed meter data (see above)',
};

export function formatReportText(report: VerifyReport): string {
  const lines: string[] = [];
  report.records.forEach((record, index) => {
    lines.push(`Record ${index + 1} of ${report.records.length}: ${record.label}`, ...formatRecord(record), '');
  });
  for (const session of report.sessions) lines.push(...formatSession(session), '');
  if (report.billing !== null) {
    const { billing } = report;
    lines.push(
      `Billing: billed ${billing.billedWh} Wh, signed ${billing.signedWh ?? 'nothing'}${billing.signedWh === null ? '' : ' Wh'}` +
        ` — ${billing.status === 'match' ? 'MATCH' : `MISMATCH: ${billing.problem?.message ?? ''}`}`,
      '',
    );
  }
  lines.push(`Result: ${RESULT_TEXT[report.status]} (exit ${report.exitCode})`);
  return `${lines.join('\n')}\n`;
}

function formatRecord(record: ReportRecord): string[] {
  if ('malformed' in record) return [row('malformed', `${record.malformed.code}: ${record.malformed.message}`)];
  const { verdict } = record;
  return verdict.format === 'OCMF' ? formatOcmf(verdict) : formatAlfen(verdict);
}

function formatOcmf(verdict: OcmfVerdict): string[] {
  const { header, signature } = verdict;
  const lines = [
    row(
      'format',
      `OCMF ${header.FV ?? '(no FV)'}, ${signature.algorithm} (${signature.algorithmSource}), ${signature.encoding} signature`,
    ),
    row(
      'meter',
      describeParts([header.MV, header.MM, header.MS && `serial ${header.MS}`, header.MF && `firmware ${header.MF}`]),
    ),
    row('gateway', describeParts([header.GI, header.GS && `serial ${header.GS}`, header.GV && `version ${header.GV}`])),
    row('pagination', header.PG ?? '(none)'),
  ];
  if (header.ID !== undefined && header.ID !== '')
    lines.push(row('identity', `${header.IT ?? ''} ${header.ID}`.trim()));
  if (header.TT !== undefined) lines.push(row('tariff', header.TT));
  for (const [index, reading] of verdict.readings.entries()) {
    lines.push(row(index === 0 ? 'readings' : '', formatReading(reading)));
  }
  lines.push(row('energy', formatEnergy(verdict.energyWh)));
  lines.push(
    row('signature', formatSignatureStatus(signature.status, signature.publicKey?.curve, signature.publicKey?.spkiHex)),
  );
  lines.push(...formatStatus(verdict.status, verdict.reasons, verdict.warnings));
  return lines;
}

function formatAlfen(verdict: AlfenVerdict): string[] {
  return [
    row(
      'format',
      `Alfen Eichrecht (type ${verdict.type}, blob version ${verdict.record.blobVersion}), ${verdict.signature.algorithm}`,
    ),
    row('meter', `server id ${verdict.meterSerial}, adapter ${verdict.record.adapterIdHex}`),
    row('pagination', `paging ${verdict.record.paging}, session ${verdict.record.sessionId}`),
    row(
      'readings',
      `${verdict.time}  ${verdict.obis}  ${verdict.valueWh ?? '?'} Wh  status ${verdict.record.statusHex}`,
    ),
    row(
      'signature',
      formatSignatureStatus(verdict.signature.status, 'secp192r1', verdict.signature.publicKey?.spkiHex),
    ),
    ...formatStatus(verdict.status, verdict.reasons, verdict.warnings),
  ];
}

function formatSession(session: ReportSession): string[] {
  const { verdict } = session;
  const span = verdict.pagination === null ? '' : `, ${verdict.pagination.first}..${verdict.pagination.last}`;
  return [
    `Session of ${verdict.recordCount} records${span}, meter ${verdict.sourceSerial ?? '(unknown)'}: ${session.records.join('; ')}`,
    row('energy', formatEnergy(verdict.energyWh)),
    ...formatStatus(verdict.status, verdict.reasons, verdict.warnings),
  ];
}

function formatReading(reading: VerdictReading): string {
  const value = reading.RV === undefined ? '(event)' : `${reading.RV} ${reading.RU ?? ''}`.trim();
  const wh = reading.valueWh !== undefined && reading.RU !== 'Wh' ? ` (= ${reading.valueWh} Wh)` : '';
  const flags = [reading.ST && `ST ${reading.ST}`, reading.EF && `EF ${reading.EF}`].filter(Boolean).join(' ');
  return [reading.TX ?? '-', reading.TM?.text ?? '-', reading.RI ?? '-', `${value}${wh}`, flags]
    .filter((part) => part !== '')
    .join('  ');
}

function formatEnergy(energy: SignedEnergy | null): string {
  if (energy === null) return 'no begin and end reading of one register here: no signed energy';
  return `${energy.delta} Wh = ${energy.end} Wh (end) − ${energy.begin} Wh (begin), register ${energy.registerId ?? '(unnamed)'}`;
}

function formatSignatureStatus(status: VerdictStatus, curve: string | undefined, spkiHex: string | undefined): string {
  const key = spkiHex === undefined ? 'no usable public key' : `public key ${curve}, SPKI ${spkiHex}`;
  return `${status.toUpperCase()} (${key})`;
}

function formatStatus(status: VerdictStatus, reasons: readonly Reason[], warnings: readonly Warning[]): string[] {
  return [
    row('verdict', status.toUpperCase()),
    ...reasons.map((reason) => row('problem', `${reason.code}: ${reason.message}`)),
    ...warnings.map((warning) => row('note', `${warning.code}: ${warning.message}`)),
  ];
}

function describeParts(parts: readonly (string | undefined)[]): string {
  const present = parts.filter((part): part is string => part !== undefined && part !== '');
  return present.length === 0 ? '(not stated)' : present.join(', ');
}

function row(label: string, text: string): string {
  return `  ${label.padEnd(11)} ${text}`;
}
