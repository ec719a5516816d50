/** Tariffs and their versions, with a price preview: what a planned charge costs under a tariff (the quote API). */
import { useState } from 'preact/hooks';
import { type ApiFailure, apiJson, postJson } from '../api.tsx';
import { formatAmount, formatDateTime } from '../lib/format.ts';
import { Badge, DataTable, FailureNotice, Notice, useLoad } from '../ui.tsx';

type TariffSummary = {
  code: string;
  type: string;
  latestVersion: number;
  latestValidFrom: string;
  retiredAt: string | null;
};
type TariffDetail = {
  code: string;
  versions: {
    id: string;
    version: number;
    validFrom: string;
    currency: string;
    tariff: { tariff_alt_text?: { language: string; text: string }[] };
  }[];
};
type Quote = {
  currency: string;
  totalCost: { exclVat: string; inclVat: string };
  lines: {
    dimension: string;
    volume: string;
    volumeUnit: string;
    unitPriceExclVat: string;
    priceUnit: string;
    vatPercent: string | null;
    exclVat: string;
    inclVat: string;
  }[];
  tariff: { code: string; version: number };
};

function localNowInput(): string {
  const now = new Date();
  now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
  return now.toISOString().slice(0, 16);
}

function PricePreview(props: { code: string }) {
  const [quote, setQuote] = useState<Quote | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const startLocal = String(form.get('startAt') ?? '');
    const result = await postJson<Quote>(`/api/v1/tariffs/${encodeURIComponent(props.code)}/quote`, {
      energyKwh: Number(form.get('energyKwh')),
      durationMinutes: Number(form.get('durationMinutes')),
      timeZone: String(form.get('timeZone') ?? 'UTC'),
      ...(startLocal && { startAt: new Date(startLocal).toISOString() }),
    });
    if (result.ok) {
      setQuote(result.value);
      setError(null);
    } else {
      setQuote(null);
      setError(result.error);
    }
  };
  return (
    <section class="card stack" aria-labelledby="preview-heading">
      <h3 id="preview-heading">Price preview</h3>
      <form class="filters" onSubmit={submit}>
        <label>
          Energy (kWh)
          <input name="energyKwh" type="number" min="0" max="1000" step="0.001" defaultValue="20" required />
        </label>
        <label>
          Duration (minutes)
          <input name="durationMinutes" type="number" min="1" max="10080" step="1" defaultValue="60" required />
        </label>
        <label>
          Start (your local time)
          <input name="startAt" type="datetime-local" defaultValue={localNowInput()} />
        </label>
        <label>
          Time zone of the charger
          <input name="timeZone" defaultValue="Europe/Berlin" required />
        </label>
        <button type="submit">Preview price</button>
      </form>
      {error && <FailureNotice error={error} what="Price preview" />}
      {quote && (
        <div class="stack" data-testid="quote">
          <p class="total">
            Total <strong>{formatAmount(quote.totalCost.inclVat, quote.currency)}</strong> incl. VAT (
            {formatAmount(quote.totalCost.exclVat, quote.currency)} excl. VAT)
          </p>
          <DataTable
            caption="Price lines"
            csvName={`quote-${props.code}`}
            rows={quote.lines}
            rowKey={(l) => `${l.dimension}-${l.unitPriceExclVat}-${l.volume}`}
            columns={[
              { header: 'Dimension', value: (l) => l.dimension },
              { header: 'Volume', value: (l) => `${l.volume} ${l.volumeUnit}` },
              { header: 'Unit price excl. VAT', value: (l) => `${l.unitPriceExclVat} / ${l.priceUnit}` },
              { header: 'VAT %', value: (l) => l.vatPercent, numeric: true },
              { header: 'Excl. VAT', value: (l) => l.exclVat, numeric: true },
              { header: 'Incl. VAT', value: (l) => l.inclVat, numeric: true },
            ]}
          />
        </div>
      )}
    </section>
  );
}

function TariffDetailView(props: { code: string }) {
  const { state } = useLoad(
    () => apiJson<TariffDetail>(`/api/v1/tariffs/${encodeURIComponent(props.code)}`),
    [props.code],
  );
  if (state.status === 'loading') return <p class="muted">Loading tariff…</p>;
  if (state.status === 'failed') return <FailureNotice error={state.error} what="Tariff" />;
  const latest = state.value.versions[0];
  return (
    <div class="stack">
      <h2>{state.value.code}</h2>
      {latest?.tariff.tariff_alt_text?.map((t) => (
        <p key={t.language} lang={t.language}>
          {t.text}
        </p>
      ))}
      <DataTable
        caption="Versions"
        csvName={`tariff-${props.code}-versions`}
        rows={state.value.versions}
        rowKey={(v) => v.id}
        columns={[
          { header: 'Version', value: (v) => v.version, numeric: true },
          { header: 'Valid from', value: (v) => v.validFrom, render: (v) => formatDateTime(v.validFrom) },
          { header: 'Currency', value: (v) => v.currency },
        ]}
      />
      <PricePreview code={props.code} />
    </div>
  );
}

export function TariffsView() {
  const [selected, setSelected] = useState<string | null>(null);
  const { state } = useLoad(() => apiJson<{ data: TariffSummary[] }>('/api/v1/tariffs'), []);
  if (state.status === 'loading') return <p class="muted">Loading tariffs…</p>;
  if (state.status === 'failed') return <FailureNotice error={state.error} what="Tariffs" />;
  const rows = state.value.data;
  const current = selected ?? rows.find((r) => !r.retiredAt)?.code ?? null;
  return (
    <div class="stack">
      <DataTable
        caption="Tariffs"
        csvName="tariffs"
        rows={rows}
        rowKey={(t) => t.code}
        empty="No tariffs yet: create one with POST /api/v1/tariffs."
        columns={[
          { header: 'Code', value: (t) => t.code },
          { header: 'Type', value: (t) => t.type },
          { header: 'Latest version', value: (t) => t.latestVersion, numeric: true },
          { header: 'Valid from', value: (t) => t.latestValidFrom, render: (t) => formatDateTime(t.latestValidFrom) },
          {
            header: 'State',
            value: (t) => (t.retiredAt ? 'retired' : 'in use'),
            render: (t) => <Badge tone={t.retiredAt ? 'grey' : 'green'}>{t.retiredAt ? 'retired' : 'in use'}</Badge>,
          },
        ]}
        actions={(t) => (
          <button type="button" class="secondary" aria-pressed={t.code === current} onClick={() => setSelected(t.code)}>
            Show
          </button>
        )}
      />
      {current ? (
        <TariffDetailView code={current} />
      ) : (
        <Notice kind="info">Select a tariff to see its versions and preview a price.</Notice>
      )}
    </div>
  );
}
