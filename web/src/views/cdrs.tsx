/** Charge detail records (priced, immutable) with filters, paging and CSV export. */
import { useEffect, useState } from 'preact/hooks';
import { type ApiFailure, apiJson } from '../api.tsx';
import { formatAmount, formatDateTime, formatEnergyWh } from '../lib/format.ts';
import { DataTable, FailureNotice } from '../ui.tsx';
import { EMPTY_FILTER, FilterBar, filterQuery, matchesSearch, type RangeFilter } from './list-filters.tsx';

export type Cdr = {
  id: string;
  sessionId: string;
  currency: string;
  energyWh: number;
  totalCost: { exclVat: string; inclVat: string };
  createdAt: string;
  ocpi: {
    cdr_location?: { id?: string; name?: string; evse_uid?: string };
    auth_id?: string;
    cdr_token?: { uid?: string };
  } | null;
};
type Page = { data: Cdr[]; nextCursor: string | null };

export function CdrsView() {
  const [filter, setFilter] = useState<RangeFilter>(EMPTY_FILTER);
  const [rows, setRows] = useState<Cdr[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  const [loading, setLoading] = useState(false);

  const load = async (from: string | null) => {
    setLoading(true);
    const result = await apiJson<Page>(
      `/api/v1/cdrs${filterQuery(filter, { limit: '100', ...(from && { cursor: from }) })}`,
    );
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
      <FilterBar filter={filter} onApply={setFilter} />
      {error && <FailureNotice error={error} what="CDRs" />}
      <DataTable
        caption="Charge detail records"
        csvName="cdrs"
        empty={loading ? 'Loading…' : 'No CDRs match.'}
        rows={shown}
        rowKey={(c) => c.id}
        columns={[
          { header: 'Created', value: (c) => c.createdAt, render: (c) => formatDateTime(c.createdAt) },
          { header: 'Location', value: (c) => c.ocpi?.cdr_location?.name },
          { header: 'EVSE', value: (c) => c.ocpi?.cdr_location?.evse_uid },
          { header: 'Energy (Wh)', value: (c) => c.energyWh, render: (c) => formatEnergyWh(c.energyWh), numeric: true },
          { header: 'Currency', value: (c) => c.currency },
          {
            header: 'Excl. VAT',
            value: (c) => c.totalCost.exclVat,
            render: (c) => formatAmount(c.totalCost.exclVat, c.currency),
            numeric: true,
          },
          {
            header: 'Incl. VAT',
            value: (c) => c.totalCost.inclVat,
            render: (c) => formatAmount(c.totalCost.inclVat, c.currency),
            numeric: true,
          },
          {
            header: 'Session id',
            value: (c) => c.sessionId,
            render: (c) => <code class="small">{c.sessionId.slice(0, 8)}</code>,
          },
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
