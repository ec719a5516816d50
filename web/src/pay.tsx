/**
 * The driver's ad-hoc pay page, opened by an EVSE's QR code (/pay/<evse>?<signed QR parameters>). Phone first, one
 * column, large targets. Order of the page follows AFIR: the price comes before anything else; then the card, in
 * the payment provider's hosted fields (an iframe of the provider: this page and our server never see the number);
 * then the live session with its cost; then the receipt.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { formatAmount, formatEnergyWh } from './lib/format.ts';
import { Notice } from './ui.tsx';

type PayInfo = {
  evse: {
    uid: string;
    stationId: string;
    evseId: number;
    status: string;
    location?: { name?: string; address?: string };
  };
  price: {
    currency: string;
    altText?: { language: string; text: string }[];
    unitPrices: { dimension: string; unit: string; inclVat: string; exclVat: string; vatPercent: string | null }[];
  };
  hold: { amount: string; currency: string };
  provider: { name: string; sandbox: boolean; hostedFieldsUrl: string };
};
type PayStatus = {
  status: 'authorizing' | 'starting' | 'charging' | 'finished' | 'failed';
  energyWh?: number | null;
  runningCost?: { inclVat: string; currency: string } | null;
  failureReason?: string | null;
  receipt?: { number?: string; totalInclVat: string; currency: string; pdfUrl?: string } | null;
};
type CardToken = { token: string; brand?: string; last4?: string };

const ref = decodeURIComponent(location.pathname.replace(/^\/pay\//, '').split('/')[0] ?? '');
const base = `/api/v1/pay/${encodeURIComponent(ref)}`;

async function getJson<T>(
  path: string,
  init?: RequestInit,
): Promise<{ ok: true; value: T } | { ok: false; status: number; message: string }> {
  try {
    const response = await fetch(path, init);
    const body = (await response.json().catch(() => ({}))) as T & { error?: { message?: string } };
    if (!response.ok)
      return { ok: false, status: response.status, message: body.error?.message ?? `HTTP ${response.status}` };
    return { ok: true, value: body };
  } catch {
    return { ok: false, status: 0, message: 'No connection. Check your mobile data and try again.' };
  }
}

/** The payments API's answer (GET /api/v1/pay/:token) in either shape: the one above, or a flat one with the OCPI tariff. */
type FlatPayInfo = {
  stationId: string;
  evseId: number;
  evseUid: string;
  location?: string;
  currency: string;
  hold: { amount: string; currency: string };
  tariff: { code: string; body: OcpiTariff } | null;
  provider: string;
  sandbox: boolean;
  hostedFieldsUrl?: string;
};
type OcpiTariff = {
  tariff_alt_text?: { language: string; text: string }[];
  elements?: {
    price_components?: { type: string; price: number | string; vat?: number | string }[];
    restrictions?: unknown;
  }[];
};

const OCPI_UNITS: Record<string, string> = { ENERGY: 'kWh', TIME: 'hour', PARKING_TIME: 'hour', FLAT: 'session' };

function normalizePayInfo(raw: PayInfo | FlatPayInfo): PayInfo {
  if ('price' in raw && 'evse' in raw) return raw;
  const flat = raw as FlatPayInfo;
  const seen = new Set<string>();
  const unitPrices: PayInfo['price']['unitPrices'] = [];
  // Elements without restrictions first: they are the price most of the time; time-of-day prices are in the text.
  const elements = [...(flat.tariff?.body.elements ?? [])].sort(
    (a, b) => Number(!!a.restrictions) - Number(!!b.restrictions),
  );
  for (const element of elements) {
    for (const c of element.price_components ?? []) {
      // The first element that prices a dimension is shown; the tariff's own text states the rest (time of day).
      if (seen.has(c.type)) continue;
      seen.add(c.type);
      unitPrices.push({
        dimension: c.type,
        unit: OCPI_UNITS[c.type] ?? '',
        exclVat: String(c.price),
        inclVat: '',
        vatPercent: c.vat === undefined ? null : String(c.vat),
      });
    }
  }
  return {
    evse: {
      uid: flat.evseUid,
      stationId: flat.stationId,
      evseId: flat.evseId,
      status: '',
      ...(flat.location && { location: { name: flat.location } }),
    },
    price: { currency: flat.currency, altText: flat.tariff?.body.tariff_alt_text ?? [], unitPrices },
    hold: flat.hold,
    provider: { name: flat.provider, sandbox: flat.sandbox, hostedFieldsUrl: flat.hostedFieldsUrl ?? '' },
  };
}

const DIMENSION_NAMES: Record<string, string> = {
  ENERGY: 'Energy',
  TIME: 'Charging time',
  PARKING_TIME: 'Parking (not charging)',
  FLAT: 'Per session',
};

function PriceCard(props: { info: PayInfo }) {
  const { price, evse } = props.info;
  const text = price.altText?.find((t) => t.language === navigator.language.slice(0, 2)) ?? price.altText?.[0];
  return (
    <section class="card stack price-card" aria-labelledby="price-heading">
      <h1 id="price-heading">Price at this charger</h1>
      <ul class="price-list">
        {price.unitPrices.map((p) => (
          <li key={`${p.dimension}-${p.unit}`}>
            <span>{DIMENSION_NAMES[p.dimension] ?? p.dimension}</span>
            <strong>
              {p.inclVat
                ? `${formatAmount(p.inclVat, price.currency)} / ${p.unit}`
                : `${formatAmount(p.exclVat, price.currency)} / ${p.unit}${p.vatPercent ? ` + ${p.vatPercent} % VAT` : ''}`}
            </strong>
          </li>
        ))}
      </ul>
      {text && <p class="small">{text.text}</p>}
      <p class="muted small">
        Charger {evse.uid}
        {evse.location?.name ? ` · ${evse.location.name}` : ''}
        {evse.location?.address ? `, ${evse.location.address}` : ''}
      </p>
    </section>
  );
}

function CardEntry(props: { info: PayInfo; onToken: (token: CardToken) => void }) {
  const { provider, hold } = props.info;
  const frameOrigin = new URL(provider.hostedFieldsUrl, location.href).origin;
  useEffect(() => {
    const onMessage = (event: MessageEvent) => {
      // Only the provider's frame may hand over a token; anything else on the page is ignored.
      if (event.origin !== frameOrigin) return;
      const data = event.data as { type?: string } & Partial<CardToken>;
      if (data?.type === 'voltbill:card-token' && typeof data.token === 'string') {
        props.onToken({
          token: data.token,
          ...(data.brand && { brand: data.brand }),
          ...(data.last4 && { last4: data.last4 }),
        });
      }
    };
    addEventListener('message', onMessage);
    return () => removeEventListener('message', onMessage);
  }, [frameOrigin, props.onToken]);
  return (
    <section class="card stack" aria-labelledby="card-heading">
      <h2 id="card-heading">Pay by card</h2>
      {provider.sandbox && (
        <p class="sandbox-banner" role="note">
          SANDBOX · test payments only, no real money moves
        </p>
      )}
      <p class="small">
        We reserve {formatAmount(hold.amount, hold.currency)} on your card and charge only what you use when you unplug.
      </p>
      {provider.hostedFieldsUrl ? (
        <iframe
          class="card-frame"
          src={provider.hostedFieldsUrl}
          title={`Card details (${provider.sandbox ? 'SANDBOX, ' : ''}${provider.name})`}
        />
      ) : (
        <Notice kind="unavailable">
          Card entry is not available here yet: the payment provider offers no card form.
        </Notice>
      )}
    </section>
  );
}

function LiveStatus(props: { status: PayStatus }) {
  const { status } = props;
  const label = {
    authorizing: 'Checking your card…',
    starting: 'Starting the charger… plug in your car if you have not yet.',
    charging: 'Charging',
    finished: 'Finished',
    failed: 'Payment failed',
  }[status.status];
  return (
    <section class="card stack" aria-labelledby="status-heading" aria-live="polite">
      <h2 id="status-heading">{label}</h2>
      {status.status === 'failed' && (
        <Notice kind="error">{status.failureReason ?? 'The card was declined. No money was taken.'}</Notice>
      )}
      {(status.status === 'charging' || status.status === 'finished') && (
        <dl class="figures">
          <div>
            <dt>Energy</dt>
            <dd data-testid="energy">{formatEnergyWh(status.energyWh ?? 0)}</dd>
          </div>
          <div>
            <dt>{status.status === 'finished' ? 'Total' : 'Cost so far'}</dt>
            <dd data-testid="cost">
              {formatAmount(
                status.receipt?.totalInclVat ?? status.runningCost?.inclVat,
                status.receipt?.currency ?? status.runningCost?.currency,
              )}
            </dd>
          </div>
        </dl>
      )}
      {status.receipt && (
        <div class="stack receipt" data-testid="receipt">
          <h3>Receipt{status.receipt.number ? ` ${status.receipt.number}` : ''}</h3>
          <p>
            Paid {formatAmount(status.receipt.totalInclVat, status.receipt.currency)} incl. VAT. The rest of the
            reservation is released.
          </p>
          {status.receipt.pdfUrl && (
            <a class="button" href={status.receipt.pdfUrl} download>
              Download receipt (PDF)
            </a>
          )}
        </div>
      )}
    </section>
  );
}

/** How often the page asks for the session's status while it runs. */
const STATUS_POLL_MS = 2_000;

function PayPage() {
  const [info, setInfo] = useState<PayInfo | null>(null);
  const [problem, setProblem] = useState<{ unavailable: boolean; message: string } | null>(null);
  const [paymentId, setPaymentId] = useState<string | null>(null);
  const [status, setStatus] = useState<PayStatus | null>(null);
  const [email, setEmail] = useState('');

  useEffect(() => {
    if (!ref) {
      setProblem({
        unavailable: true,
        message: 'This link does not name a charger. Scan the QR code on the charger again.',
      });
      return;
    }
    void getJson<PayInfo | FlatPayInfo>(`${base}${location.search}`).then((result) => {
      if (result.ok) setInfo(normalizePayInfo(result.value));
      else
        setProblem(
          result.status === 404
            ? {
                unavailable: true,
                message:
                  'Card payment is not available at this charger. Use a charging card or app, or contact the operator.',
              }
            : result.status >= 400 && result.status < 500
              ? {
                  unavailable: false,
                  message: 'This payment link is not valid or has expired. Scan the QR code on the charger again.',
                }
              : { unavailable: false, message: result.message },
        );
    });
  }, []);

  useEffect(() => {
    if (!paymentId) return;
    let live = true;
    const poll = async () => {
      const result = await getJson<PayStatus>(`/api/v1/pay/payments/${encodeURIComponent(paymentId)}`);
      if (!live) return;
      if (result.ok) {
        setStatus(result.value);
        if (result.value.status === 'finished' || result.value.status === 'failed') return;
      }
      setTimeout(poll, STATUS_POLL_MS);
    };
    void poll();
    return () => {
      live = false;
    };
  }, [paymentId]);

  const start = async (card: CardToken) => {
    setStatus({ status: 'authorizing' });
    const result = await getJson<{ paymentId: string }>(`${base}/start${location.search}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ paymentMethodToken: card.token, ...(email && { email }) }),
    });
    if (result.ok) setPaymentId(result.value.paymentId);
    else setStatus({ status: 'failed', failureReason: result.message });
  };

  return (
    <main class="pay stack" id="main">
      <p class="brand">⚡ Charge here</p>
      {problem && (
        <Notice kind={problem.unavailable ? 'unavailable' : 'error'}>
          <strong>{problem.unavailable ? 'Not available' : 'Something went wrong'}</strong>
          <br />
          {problem.message}
        </Notice>
      )}
      {!info && !problem && <p class="muted">Loading the price…</p>}
      {info && <PriceCard info={info} />}
      {info && !status && (
        <>
          <label class="card stack">
            Email for the receipt (optional)
            <input
              type="email"
              autoComplete="email"
              value={email}
              onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <CardEntry info={info} onToken={start} />
        </>
      )}
      {status && <LiveStatus status={status} />}
    </main>
  );
}

const root = document.getElementById('root');
if (root) {
  root.textContent = '';
  render(<PayPage />, root);
}
