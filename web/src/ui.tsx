/** Building blocks shared by the pages: tables with CSV export, charts, states (loading, empty, error, unavailable). */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type ApiFailure, type ApiResult, saveBlob } from './api.tsx';
import { type CsvColumn, toCsv } from './lib/csv.ts';

export type Column<Row> = CsvColumn<Row> & {
  /** What the cell shows; defaults to the CSV value as text. */
  readonly render?: (row: Row) => ComponentChildren;
  readonly numeric?: boolean;
};

export function Notice(props: { kind: 'info' | 'error' | 'unavailable'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

export function FailureNotice(props: { error: ApiFailure; what: string }) {
  const { error, what } = props;
  if (error.kind === 'unavailable') {
    return (
      <Notice kind="unavailable">
        <strong>{what} not available.</strong> This server does not offer this part of the API yet.
      </Notice>
    );
  }
  if (error.kind === 'forbidden') {
    return (
      <Notice kind="error">
        Your role may not see {what.toLowerCase()}: {error.message}
      </Notice>
    );
  }
  return (
    <Notice kind="error">
      Could not load {what.toLowerCase()}: {error.message} ({error.code})
    </Notice>
  );
}

/** Loads once per change of `key`; returns the state for the three-way render (loading, failed, loaded). */
export function useLoad<T>(load: () => Promise<ApiResult<T>>, key: unknown[]) {
  const [state, setState] = useState<
    { status: 'loading' } | { status: 'failed'; error: ApiFailure } | { status: 'ok'; value: T }
  >({
    status: 'loading',
  });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let live = true;
    setState({ status: 'loading' });
    load().then((result) => {
      if (!live) return;
      setState(result.ok ? { status: 'ok', value: result.value } : { status: 'failed', error: result.error });
    });
    return () => {
      live = false;
    };
  }, [...key, generation]);
  return { state, reload: () => setGeneration((g) => g + 1) };
}

export function DataTable<Row>(props: {
  caption: string;
  rows: readonly Row[];
  columns: readonly Column<Row>[];
  csvName: string;
  empty?: string;
  rowKey: (row: Row) => string;
  actions?: (row: Row) => ComponentChildren;
}) {
  const { rows, columns } = props;
  const exportCsv = () => {
    saveBlob(new Blob([toCsv(rows, columns)], { type: 'text/csv;charset=utf-8' }), `${props.csvName}.csv`);
  };
  return (
    <div class="table-block">
      <div class="table-tools">
        <span class="muted">
          {rows.length} {rows.length === 1 ? 'row' : 'rows'}
        </span>
        <button type="button" class="secondary" onClick={exportCsv} disabled={rows.length === 0}>
          Export CSV
        </button>
      </div>
      {rows.length === 0 ? (
        <p class="empty">{props.empty ?? 'Nothing here yet.'}</p>
      ) : (
        <div class="table-scroll">
          <table>
            <caption class="visually-hidden">{props.caption}</caption>
            <thead>
              <tr>
                {columns.map((c) => (
                  <th scope="col" key={c.header} class={c.numeric ? 'num' : undefined}>
                    {c.header}
                  </th>
                ))}
                {props.actions && (
                  <th scope="col" class="actions">
                    Actions
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={props.rowKey(row)} data-row={props.rowKey(row)}>
                  {columns.map((c) => (
                    <td key={c.header} class={c.numeric ? 'num' : undefined} data-label={c.header}>
                      {c.render ? c.render(row) : cellText(c.value(row))}
                    </td>
                  ))}
                  {props.actions && (
                    <td class="actions">
                      <div class="actions-inner">{props.actions(row)}</div>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '–';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Columns for rows whose shape this page does not know in advance (APIs that arrive later): every scalar field,
 * nested objects flattened one level ("total.inclVat"), in the order of the first row.
 */
export function inferColumns(
  rows: readonly Record<string, unknown>[],
  skip: readonly string[] = [],
): Column<Record<string, unknown>>[] {
  const first = rows[0];
  if (!first) return [];
  const columns: Column<Record<string, unknown>>[] = [];
  for (const [key, value] of Object.entries(first)) {
    if (skip.includes(key)) continue;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value)) {
        if (innerValue !== null && typeof innerValue === 'object') continue;
        columns.push({
          header: `${key}.${inner}`,
          value: (row) => (row[key] as Record<string, unknown> | null)?.[inner],
        });
      }
    } else if (!Array.isArray(value)) {
      columns.push({ header: key, value: (row) => row[key] });
    }
  }
  return columns;
}

export function Badge(props: { tone: string; children: ComponentChildren }) {
  return <span class={`badge badge-${props.tone}`}>{props.children}</span>;
}

/** A bar chart as inline SVG with a text alternative (the same figures as a list for screen readers). */
export function BarChart(props: {
  title: string;
  bars: readonly { label: string; value: number; text: string }[];
  unit: string;
}) {
  const { bars } = props;
  const width = 640;
  const height = 200;
  const pad = { top: 12, right: 8, bottom: 36, left: 8 };
  const max = Math.max(1, ...bars.map((b) => b.value));
  const slot = bars.length > 0 ? (width - pad.left - pad.right) / bars.length : 0;
  const barWidth = Math.max(2, Math.min(48, slot * 0.7));
  const labelEvery = Math.max(1, Math.ceil(bars.length / 8));
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      {bars.length === 0 ? (
        <p class="empty">No billed sessions in this range.</p>
      ) : (
        <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${props.title} (${props.unit})`}>
          <line x1={pad.left} x2={width - pad.right} y1={height - pad.bottom} y2={height - pad.bottom} class="axis" />
          {bars.map((bar, i) => {
            const h = ((height - pad.top - pad.bottom) * bar.value) / max;
            const x = pad.left + i * slot + (slot - barWidth) / 2;
            return (
              <g key={bar.label}>
                <rect x={x} y={height - pad.bottom - h} width={barWidth} height={h} class="bar">
                  <title>
                    {bar.label}: {bar.text}
                  </title>
                </rect>
                {i % labelEvery === 0 && (
                  <text x={x + barWidth / 2} y={height - pad.bottom + 16} text-anchor="middle" class="tick">
                    {bar.label}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      )}
      <ul class="visually-hidden">
        {bars.map((bar) => (
          <li key={bar.label}>
            {bar.label}: {bar.text}
          </li>
        ))}
      </ul>
    </figure>
  );
}
