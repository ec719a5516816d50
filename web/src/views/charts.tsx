/**
 * Revenue and energy over time, per day, week or month, for the whole network or one location. Computed in the
 * browser from the CDRs of the range (at most MAX_CDRS; the page says when a range holds more).
 */
import { useState } from 'preact/hooks';
import { fetchAllPages } from '../api.tsx';
import { type BillableRecord, bucketize, type Granularity } from '../lib/buckets.ts';
import { formatAmount, formatEnergyWh } from '../lib/format.ts';
import { BarChart, DataTable, FailureNotice, Notice, useLoad } from '../ui.tsx';
import type { Cdr } from './cdrs.tsx';

const MAX_CDRS = 5_000;
const RANGE_DAYS: Record<Granularity, number> = { day: 30, week: 7 * 26, month: 365 };

export function ChartsView() {
  const [granularity, setGranularity] = useState<Granularity>('day');
  const [location, setLocation] = useState('');
  const days = RANGE_DAYS[granularity];
  const { state } = useLoad(() => {
    const from = new Date(Date.now() - days * 86_400_000).toISOString();
    return fetchAllPages<Cdr>(`/api/v1/cdrs?from=${encodeURIComponent(from)}`, MAX_CDRS);
  }, [days]);

  if (state.status === 'loading') return <p class="muted">Loading CDRs…</p>;
  if (state.status === 'failed') return <FailureNotice error={state.error} what="CDRs" />;

  const records: BillableRecord[] = state.value.rows.map((c) => ({
    at: c.createdAt,
    energyWh: c.energyWh,
    amount: c.totalCost.inclVat,
    currency: c.currency,
    group: c.ocpi?.cdr_location?.id ?? '',
  }));
  const locations = new Map(
    state.value.rows.map((c) => [c.ocpi?.cdr_location?.id ?? '', c.ocpi?.cdr_location?.name ?? 'unknown']),
  );
  const buckets = bucketize(records, granularity, location || undefined);
  const currencies = [...new Set(records.map((r) => r.currency))].sort();
  const currency = currencies[0] ?? '';

  return (
    <div class="stack">
      <form class="filters" aria-label="Chart options" onSubmit={(e) => e.preventDefault()}>
        <fieldset class="segmented">
          <legend>Per</legend>
          {(['day', 'week', 'month'] as const).map((g) => (
            <label key={g}>
              <input
                type="radio"
                name="granularity"
                value={g}
                checked={granularity === g}
                onChange={() => setGranularity(g)}
              />{' '}
              {g}
            </label>
          ))}
        </fieldset>
        <label>
          Location
          <select value={location} onChange={(e) => setLocation((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">all locations</option>
            {[...locations].map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </form>
      <p class="muted small">
        Last {days} days by UTC {granularity}, from {state.value.rows.length} CDRs; revenue incl. VAT.
      </p>
      {state.value.truncated && (
        <Notice kind="info">
          More than {MAX_CDRS} CDRs in this range: the charts show the newest {MAX_CDRS}.
        </Notice>
      )}
      {currencies.length > 1 && (
        <Notice kind="info">Several currencies: the revenue chart shows {currency}; the table lists all.</Notice>
      )}
      <div class="charts">
        <BarChart
          title={`Revenue (${currency || '–'})`}
          unit={currency}
          bars={buckets.map((b) => ({
            label: b.key,
            value: Number(b.revenue[currency] ?? 0),
            text: formatAmount(b.revenue[currency] ?? '0', currency),
          }))}
        />
        <BarChart
          title="Energy (kWh)"
          unit="kWh"
          bars={buckets.map((b) => ({ label: b.key, value: b.energyWh, text: formatEnergyWh(b.energyWh) }))}
        />
      </div>
      <DataTable
        caption="Revenue and energy per period"
        csvName={`revenue-per-${granularity}`}
        rows={buckets}
        rowKey={(b) => b.key}
        empty="No billed sessions in this range."
        columns={[
          { header: granularity, value: (b) => b.key },
          { header: 'Sessions', value: (b) => b.count, numeric: true },
          { header: 'Energy (Wh)', value: (b) => b.energyWh, render: (b) => formatEnergyWh(b.energyWh), numeric: true },
          {
            header: 'Revenue incl. VAT',
            value: (b) =>
              Object.entries(b.revenue)
                .map(([c, a]) => `${c} ${a}`)
                .join('; '),
            numeric: true,
          },
        ]}
      />
    </div>
  );
}
