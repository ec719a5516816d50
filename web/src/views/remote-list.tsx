/**
 * A list from an API whose row shape this dashboard does not fix (invoices, payments, meters, review queue, audit
 * log): columns come from the rows, paging follows `nextCursor` when the API sends one, and a missing route shows
 * "not available" instead of an error.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { apiJson } from '../api.tsx';
import { type Column, DataTable, FailureNotice, inferColumns, useLoad } from '../ui.tsx';

export type Row = Record<string, unknown>;
type Page = { data?: Row[]; items?: Row[]; nextCursor?: string | null } | Row[];

function rowsOf(page: Page): { rows: Row[]; next: string | null } {
  if (Array.isArray(page)) return { rows: page, next: null };
  return { rows: page.data ?? page.items ?? [], next: page.nextCursor ?? null };
}

export function rowId(row: Row): string {
  return String(row.id ?? row.sessionId ?? row.seq ?? JSON.stringify(row));
}

export function RemoteList(props: {
  path: string;
  what: string;
  csvName: string;
  empty: string;
  /** Columns to show first, in this order; the rest are inferred. */
  columns?: Column<Row>[];
  skip?: string[];
  actions?: (row: Row, reload: () => void) => ComponentChildren;
  reloadKey?: unknown;
}) {
  const [more, setMore] = useState<Row[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const { state, reload } = useLoad(async () => {
    setMore([]);
    const result = await apiJson<Page>(props.path);
    if (result.ok) setNext(rowsOf(result.value).next);
    return result;
  }, [props.path, props.reloadKey]);

  if (state.status === 'loading') return <p class="muted">Loading {props.what.toLowerCase()}…</p>;
  if (state.status === 'failed') return <FailureNotice error={state.error} what={props.what} />;
  const rows = [...rowsOf(state.value).rows, ...more];
  const given = props.columns ?? [];
  const givenHeaders = new Set(given.map((c) => c.header));
  const columns = [...given, ...inferColumns(rows, props.skip).filter((c) => !givenHeaders.has(c.header))];
  const loadMore = async () => {
    if (!next) return;
    const sep = props.path.includes('?') ? '&' : '?';
    const result = await apiJson<Page>(`${props.path}${sep}cursor=${encodeURIComponent(next)}`);
    if (!result.ok) return;
    const page = rowsOf(result.value);
    setMore((m) => [...m, ...page.rows]);
    setNext(page.next);
  };
  return (
    <div class="stack">
      <DataTable
        caption={props.what}
        csvName={props.csvName}
        rows={rows}
        columns={columns}
        rowKey={rowId}
        empty={props.empty}
        {...(props.actions && { actions: (row: Row) => props.actions!(row, reload) })}
      />
      {next && (
        <button type="button" class="secondary" onClick={loadMore}>
          Load more
        </button>
      )}
    </div>
  );
}

/** A small inline form asking for a reason before an action (release, void, refund, credit note). */
export function ReasonAction(props: {
  label: string;
  danger?: boolean;
  onSubmit: (reason: string) => Promise<string | null>;
}) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!open) {
    return (
      <button type="button" class={props.danger ? 'danger' : 'secondary'} onClick={() => setOpen(true)}>
        {props.label}
      </button>
    );
  }
  const submit = async (event: Event) => {
    event.preventDefault();
    const reason = String(new FormData(event.currentTarget as HTMLFormElement).get('reason') ?? '').trim();
    setBusy(true);
    const failure = await props.onSubmit(reason);
    setBusy(false);
    if (failure) setError(failure);
    else setOpen(false);
  };
  return (
    <form class="reason-form" onSubmit={submit}>
      <label>
        Reason for {props.label.toLowerCase()}
        <input name="reason" required minLength={3} maxLength={500} />
      </label>
      <button type="submit" class={props.danger ? 'danger' : undefined} disabled={busy}>
        Confirm {props.label.toLowerCase()}
      </button>
      <button type="button" class="secondary" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error && (
        <span class="error-text" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
