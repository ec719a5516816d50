/**
 * Session verification for OCMF records sent one per reading ("SR": begin and end in separate records, possibly
 * with signed intermediate readings between them), and for a single record holding both ("MR").
 */
import { TRANSACTION_END_TYPES } from './ocmf-document.ts';
import type { OcmfVerdict } from './ocmf-verdict.ts';
import { energyReadingsOf } from './signed-energy.ts';
import { type SessionRecord, type SessionVerdict, type VerifySessionOptions, verifySession } from './verify-session.ts';

/** The session summary of one verified OCMF record; `label` names it in messages. */
export function sessionRecordOfOcmf(verdict: OcmfVerdict, label: string): SessionRecord {
  return {
    label,
    status: verdict.status,
    sourceSerial: verdict.sourceSerial,
    publicKeySpkiHex: verdict.signature.publicKey?.spkiHex ?? null,
    pagination: verdict.pagination,
    identification: verdict.header.ID ?? null,
    sessionId: null,
    hasBegin: verdict.readings.some((reading) => reading.TX === 'B'),
    hasEnd: verdict.readings.some((reading) => reading.TX !== undefined && TRANSACTION_END_TYPES.has(reading.TX)),
    energyReadings: energyReadingsOf(verdict.readings, `${label} `),
  };
}

/** Verifies that the records (in any order) form one session; see verify-session.ts for the checks. */
export function verifyOcmfSession(
  verdicts: readonly OcmfVerdict[],
  options: VerifySessionOptions = {},
): SessionVerdict {
  return verifySession(
    verdicts.map((verdict, index) =>
      sessionRecordOfOcmf(verdict, `record ${index + 1} (${verdict.header.PG ?? 'no PG'})`),
    ),
    options,
  );
}
