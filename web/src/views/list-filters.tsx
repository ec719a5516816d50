/** The filter bar shared by the sessions and CDR lists: station, time range (local dates), free-text search. */
import type { ComponentChildren } from 'preact';

export type RangeFilter = { stationId: string; from: string; to: string; search: string };

export const EMPTY_FILTER: RangeFilter = { stationId: '', from: '', to: '', search: '' };

/** Query string for the API: local dates become the UTC instants of local midnight; `to` is inclusive. */
export function filterQuery(filter: RangeFilter, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams(extra);
  if (filter.stationId.trim()) params.set('stationId', filter.stationId.trim());
  if (filter.from) params.set('from', new Date(`${filter.from}T00:00:00`).toISOString());
  if (filter.to) {
    const end = new Date(`${filter.to}T00:00:00`);
    end.setDate(end.getDate() + 1);
    params.set('to', end.toISOString());
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function FilterBar(props: {
  filter: RangeFilter;
  onApply: (filter: RangeFilter) => void;
  children?: ComponentChildren;
}) {
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    props.onApply({
      stationId: String(form.get('stationId') ?? ''),
      from: String(form.get('from') ?? ''),
      to: String(form.get('to') ?? ''),
      search: String(form.get('search') ?? ''),
    });
  };
  return (
    <form class="filters" onSubmit={submit} aria-label="Filters">
      <label>
        Station
        <input name="stationId" defaultValue={props.filter.stationId} placeholder="e.g. DEMO-0001" />
      </label>
      <label>
        From
        <input name="from" type="date" defaultValue={props.filter.from} />
      </label>
      <label>
        To
        <input name="to" type="date" defaultValue={props.filter.to} />
      </label>
      {props.children}
      <label>
        Search
        <input name="search" type="search" defaultValue={props.filter.search} placeholder="token, id…" />
      </label>
      <button type="submit">Apply</button>
    </form>
  );
}

/** Client-side text search over the loaded rows (any field containing the text, case-insensitive). */
export function matchesSearch(row: unknown, search: string): boolean {
  const needle = search.trim().toLowerCase();
  return needle === '' || JSON.stringify(row).toLowerCase().includes(needle);
}
