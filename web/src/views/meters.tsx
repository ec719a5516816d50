/** Meters with their calibration dates, and the review queue of held sessions (release or void, with a reason). */
import { useState } from 'preact/hooks';
import { postJson } from '../api.tsx';
import { formatDateTime, formatEnergyWh } from '../lib/format.ts';
import { ReasonAction, RemoteList, type Row } from './remote-list.tsx';

function sessionIdOf(row: Row): string {
  return String(row.sessionId ?? row.id);
}

/** The calibration window the "due" filter uses, in days. */
const DUE_DAYS = 30;

export function MetersView() {
  const [reloadKey, setReloadKey] = useState(0);
  const [dueOnly, setDueOnly] = useState(false);
  const decide = (row: Row, decision: 'release' | 'void') => async (reason: string) => {
    const result = await postJson(`/api/v1/sessions/${encodeURIComponent(sessionIdOf(row))}/${decision}`, { reason });
    if (!result.ok)
      return result.error.kind === 'unavailable'
        ? 'Review decisions are not available on this server yet.'
        : result.error.message;
    setReloadKey((k) => k + 1);
    return null;
  };
  return (
    <div class="stack">
      <section aria-labelledby="review-heading">
        <h2 id="review-heading">Review queue</h2>
        <p class="muted small">
          Held sessions are not billed until someone releases (bill it) or voids (never bill it) them.
        </p>
        <RemoteList
          path="/api/v1/review-queue"
          what="Review queue"
          csvName="review-queue"
          empty="Nothing to review."
          reloadKey={reloadKey}
          skip={[
            'sessionId',
            'stationId',
            'evseId',
            'transactionId',
            'idTag',
            'startedAt',
            'endedAt',
            'meterStartWh',
            'meterStopWh',
            'energyWh',
          ]}
          columns={[
            { header: 'Station', value: (row) => row.stationId },
            { header: 'EVSE', value: (row) => row.evseId, numeric: true },
            { header: 'Token', value: (row) => row.idTag },
            {
              header: 'Ended',
              value: (row) => row.endedAt,
              render: (row) => formatDateTime(row.endedAt as string | null),
            },
            {
              header: 'Energy (Wh)',
              value: (row) => row.energyWh,
              render: (row) => formatEnergyWh(row.energyWh as number | null),
              numeric: true,
            },
            {
              header: 'Why held',
              value: (row) =>
                Array.isArray(row.findings)
                  ? (row.findings as { code?: string; severity?: string }[])
                      .filter((f) => f.severity === 'hold')
                      .map((f) => f.code)
                      .join(', ')
                  : '',
            },
          ]}
          actions={(row) => (
            <>
              <ReasonAction label="Release" onSubmit={decide(row, 'release')} />
              <ReasonAction label="Void" danger onSubmit={decide(row, 'void')} />
            </>
          )}
        />
      </section>
      <section aria-labelledby="meters-heading">
        <h2 id="meters-heading">Meters</h2>
        <label class="inline-check">
          <input
            type="checkbox"
            checked={dueOnly}
            onChange={(e) => setDueOnly((e.currentTarget as HTMLInputElement).checked)}
          />
          Only meters whose calibration ends within {DUE_DAYS} days (or has ended)
        </label>
        <RemoteList
          path={dueOnly ? `/api/v1/meters/due?days=${DUE_DAYS}` : '/api/v1/meters'}
          what="Meters"
          csvName={dueOnly ? 'meters-due' : 'meters'}
          empty={dueOnly ? 'No meter is due for calibration.' : 'No meters registered yet.'}
          skip={['publicKey']}
        />
      </section>
    </div>
  );
}
