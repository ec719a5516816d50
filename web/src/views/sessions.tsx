/** All sessions with filters (station, status, time range, search), paging and CSV export. */
import { useEffect, useState } from 'preact/hooks';
import { type ApiFailure, apiJson } from '../api.tsx';
import { formatDateTime, formatEnergyWh } from '../lib/format.ts';
import { Badge, DataTable, FailureNotice } from '../ui.tsx';
import { EMPTY_FILTER, FilterBar, filterQuery, matchesSearch, type RangeFilter } from './list-filters.tsx';

type Session = {
  id: string;
  stationId: string;
  evseId: number;
  idTag: string;
  status: string;
  billingStatus: string;
  startedAt: string;
  endedAt: string | null;
  energyWh: number | null;
  stopReason: string | null;
  findings: { code: string; severity: string }[] | null;
};
type Page = { data: Session[]; nextCursor: string | null };

export function SessionsView() {
  const [filter, setFilter] = useState<RangeFilter & { status: string }>({ ...EMPTY_FILTER, status: '' });
  const [rows, setRows] = useState<Session[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  const [loading, setLoading] = useState(false);

  const load = async (from: string | null) => {
    setLoading(true);
    const extra: Record<string, string> = { limit: '100' };
    if (filter.status) extra.status = filter.status;
    if (from) extra.cursor = from;
    const result = await apiJson<Page>(`/api/v1/sessions${filterQuery(filter, extra)}`);
    setLoading(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setError(null);
    setRows((previous) => (from ? [...previous, ...result.value.data] : result.value.data));
    setCursor(result.value.nextCursor);
  };
  useEffect(() => {
    void load(null);
  }, [filter]);

  const shown = rows.filter((r) => matchesSearch(r, filter.search));
  return (
    <div class="stack">
      <FilterBar filter={filter} onApply={(f) => setFilter({ ...f, status: filter.status })}>
        <label>
          Status
          <select
            value={filter.status}
            onChange={(e) => setFilter({ ...filter, status: (e.currentTarget as HTMLSelectElement).value })}
          >
            <option value="">any</option>
            <option value="Active">Active</option>
            <option value="Completed">Completed</option>
          </select>
        </label>
      </FilterBar>
      {error && <FailureNotice error={error} what="Sessions" />}
      <DataTable
        caption="Sessions"
        csvName="sessions"
        empty={loading ? 'Loading…' : 'No sessions match.'}
        rows={shown}
        rowKey={(s) => s.id}
        columns={[
          { header: 'Started', value: (s) => s.startedAt, render: (s) => formatDateTime(s.startedAt) },
          { header: 'Ended', value: (s) => s.endedAt, render: (s) => formatDateTime(s.endedAt) },
          { header: 'Station', value: (s) => s.stationId },
          { header: 'EVSE', value: (s) => s.evseId, numeric: true },
          { header: 'Token', value: (s) => s.idTag },
          { header: 'Energy (Wh)', value: (s) => s.energyWh, render: (s) => formatEnergyWh(s.energyWh), numeric: true },
          { header: 'Status', value: (s) => s.status },
          {
            header: 'Billing',
            value: (s) => s.billingStatus,
            render: (s) => (
              <Badge tone={s.billingStatus === 'Billed' ? 'green' : s.billingStatus === 'Held' ? 'amber' : 'grey'}>
                {s.billingStatus}
              </Badge>
            ),
          },
          { header: 'Stop reason', value: (s) => s.stopReason },
          { header: 'Findings', value: (s) => (s.findings ?? []).map((f) => `${f.severity}:${f.code}`).join(' ') },
          { header: 'Session id', value: (s) => s.id, render: (s) => <code class="small">{s.id.slice(0, 8)}</code> },
        ]}
      />
      {cursor && (
        <button type="button" class="secondary" disabled={loading} onClick={() => load(cursor)}>
          Load more
        </button>
      )}
    </div>
  );
}
