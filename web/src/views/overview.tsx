/** The network at a glance, live: station states, active sessions with energy, power and running cost. */
import { useEffect, useState } from 'preact/hooks';
import { apiJson, subscribeEvents } from '../api.tsx';
import { formatAmount, formatDateTime, formatDurationS, formatEnergyWh, formatPowerW } from '../lib/format.ts';
import { Badge, DataTable, Notice } from '../ui.tsx';

type Cost = { exclVat: string; inclVat: string; currency: string } | null;
type Snapshot = {
  counts: Record<'offline' | 'available' | 'charging' | 'faulted' | 'unavailable', number>;
  stations: {
    id: string;
    connected: boolean;
    state: string;
    lastSeenAt: string | null;
    evses: { evseId: number; status: string; errorCode: string | null; maxPowerW: number }[];
  }[];
  activeSessions: {
    id: string;
    stationId: string;
    evseId: number;
    idTag: string;
    startedAt: string;
    energyWh: number;
    powerW: number | null;
    runningCost: Cost;
  }[];
  recentSessions: {
    id: string;
    stationId: string;
    evseId: number;
    endedAt: string | null;
    energyWh: number | null;
    billingStatus: string;
    totalCost: Cost;
  }[];
};

const STATE_TONES: Record<string, string> = {
  charging: 'blue',
  available: 'green',
  faulted: 'red',
  offline: 'grey',
  unavailable: 'amber',
};

/** How often the page polls when the event stream is not available. */
const POLL_FALLBACK_MS = 5_000;

export function OverviewView() {
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [link, setLink] = useState<'connecting' | 'open' | 'retrying' | 'polling'>('connecting');
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    let pollTimer: ReturnType<typeof setInterval> | undefined;
    const poll = async () => {
      const result = await apiJson<Snapshot>('/api/v1/live');
      if (result.ok) {
        setSnapshot(result.value);
        setError(null);
      } else setError(result.error.message);
    };
    const stop = subscribeEvents(
      '/api/v1/events',
      (type, data) => {
        if (type === 'snapshot') setSnapshot(JSON.parse(data) as Snapshot);
      },
      (state) => {
        if (state === 'unavailable') {
          setLink('polling');
          void poll();
          pollTimer = setInterval(poll, POLL_FALLBACK_MS);
        } else setLink(state);
      },
    );
    const clock = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      stop();
      clearInterval(clock);
      if (pollTimer) clearInterval(pollTimer);
    };
  }, []);

  const linkText = {
    connecting: 'Connecting…',
    open: 'Live',
    retrying: 'Reconnecting…',
    polling: 'Updating every 5 s',
  }[link];
  return (
    <div class="stack">
      <p class="live-indicator" aria-live="polite">
        <span class={`dot dot-${link}`} aria-hidden="true" /> {linkText}
      </p>
      {error && <Notice kind="error">Could not load the network: {error}</Notice>}
      {!snapshot ? (
        <p class="muted">Loading the network…</p>
      ) : (
        <>
          <section aria-labelledby="stations-heading">
            <h2 id="stations-heading">Stations</h2>
            <ul class="tiles">
              {(['charging', 'available', 'faulted', 'unavailable', 'offline'] as const).map((state) => (
                <li key={state} class={`tile tile-${STATE_TONES[state]}`} data-state={state}>
                  <span class="tile-value">{snapshot.counts[state]}</span>
                  <span class="tile-label">{state}</span>
                </li>
              ))}
            </ul>
            {snapshot.stations.length === 0 ? (
              <p class="empty">No stations yet. A station appears here when it is registered.</p>
            ) : (
              <ul class="station-grid">
                {snapshot.stations.map((station) => (
                  <li key={station.id} class="station" data-station={station.id} data-state={station.state}>
                    <span class="station-id">{station.id}</span>
                    <Badge tone={STATE_TONES[station.state] ?? 'grey'}>{station.state}</Badge>
                    <span class="muted small">
                      {station.evses
                        .map(
                          (e) =>
                            `EVSE ${e.evseId}: ${e.status}${e.errorCode && e.errorCode !== 'NoError' ? ` (${e.errorCode})` : ''}`,
                        )
                        .join(', ')}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="active-heading">
            <h2 id="active-heading">Active sessions</h2>
            <DataTable
              caption="Active sessions"
              csvName="active-sessions"
              empty="No session is charging right now."
              rows={snapshot.activeSessions}
              rowKey={(s) => s.id}
              columns={[
                { header: 'Station', value: (s) => s.stationId },
                { header: 'EVSE', value: (s) => s.evseId, numeric: true },
                { header: 'Token', value: (s) => s.idTag },
                { header: 'Started', value: (s) => s.startedAt, render: (s) => formatDateTime(s.startedAt) },
                {
                  header: 'Duration',
                  value: (s) => Math.round((now - Date.parse(s.startedAt)) / 1000),
                  render: (s) => formatDurationS((now - Date.parse(s.startedAt)) / 1000),
                },
                {
                  header: 'Energy (Wh)',
                  value: (s) => s.energyWh,
                  render: (s) => formatEnergyWh(s.energyWh),
                  numeric: true,
                },
                { header: 'Power (W)', value: (s) => s.powerW, render: (s) => formatPowerW(s.powerW), numeric: true },
                {
                  header: 'Cost so far (est., incl. VAT)',
                  value: (s) => s.runningCost?.inclVat,
                  render: (s) => formatAmount(s.runningCost?.inclVat, s.runningCost?.currency),
                  numeric: true,
                },
              ]}
            />
          </section>
          <section aria-labelledby="recent-heading">
            <h2 id="recent-heading">Just finished</h2>
            <DataTable
              caption="Recently finished sessions"
              csvName="recent-sessions"
              empty="No finished sessions yet."
              rows={snapshot.recentSessions}
              rowKey={(s) => s.id}
              columns={[
                { header: 'Station', value: (s) => s.stationId },
                { header: 'EVSE', value: (s) => s.evseId, numeric: true },
                { header: 'Ended', value: (s) => s.endedAt, render: (s) => formatDateTime(s.endedAt) },
                {
                  header: 'Energy (Wh)',
                  value: (s) => s.energyWh,
                  render: (s) => formatEnergyWh(s.energyWh),
                  numeric: true,
                },
                {
                  header: 'Billing',
                  value: (s) => s.billingStatus,
                  render: (s) => (
                    <Badge
                      tone={s.billingStatus === 'Billed' ? 'green' : s.billingStatus === 'Held' ? 'amber' : 'grey'}
                    >
                      {s.billingStatus}
                    </Badge>
                  ),
                },
                {
                  header: 'Cost (incl. VAT)',
                  value: (s) => s.totalCost?.inclVat,
                  render: (s) => formatAmount(s.totalCost?.inclVat, s.totalCost?.currency),
                  numeric: true,
                },
              ]}
            />
          </section>
        </>
      )}
    </div>
  );
}
