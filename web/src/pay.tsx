/**
 * The driver's ad-hoc pay page, opened by an EVSE's QR code (/pay/<signed QR token>). Phone first, one column, large
 * targets. The order follows AFIR: the price comes before anything else; then the card, in the payment provider's
 * hosted fields (an iframe of the provider: this page and our server never see the number, only a token); then the
 * live session with its cost; then the receipt.
 *
 * API (docs/dashboard.md, "The ad-hoc pay page"): GET /api/v1/pay/:token (price, hold, provider, charger online),
 * POST /api/v1/pay/:token/sessions {paymentMethodRef, receiptEmail?} (hold + remote start; returns a driver secret),
 * GET /api/v1/pay/sessions/:paymentId with the secret in `x-pay-secret` (live status, then the receipt).
 */
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { formatAmount, formatEnergyWh } from './lib/format.ts';
import { Notice } from './ui.tsx';

type Amount = { amount: string; currency: string; minor?: string };
type OcpiTariff = {
  tariff_alt_text?: { language: string; text: string }[];
  elements?: {
    price_components?: { type: string; price: number | string; vat?: number | string }[];
    restrictions?: unknown;
  }[];
};
/** GET /api/v1/pay/:token. */
type Quote = {
  stationId: string;
  evseId: number;
  evseUid: string;
  location?: string;
  currency: string;
  hold: Amount;
  tariff: { code: string; body: OcpiTariff } | null;
  provider: string;
  sandbox: boolean;
  hostedFieldsUrl?: string | null;
  stripePublishableKey?: string | null;
  stationOnline?: boolean;
};
type PayState = 'waiting_for_hold' | 'hold_placed' | 'starting' | 'charging' | 'finished' | 'failed';
/** GET /api/v1/pay/sessions/:paymentId. */
type PayStatus = {
  paymentId: string;
  state: PayState;
  sandbox: boolean;
  failure: { code: string; message: string } | null;
  hold: Amount;
  session: { energyWh: number | null; startedAt: string; endedAt: string | null; billingStatus: string } | null;
  runningCost: { inclVat: string; exclVat: string; currency: string } | null;
  receipt: {
    invoiceNumber: string;
    currency: string;
    totalExclVat: string;
    totalVat: string;
    totalInclVat: string;
    captured: Amount;
    pdfPath: string;
  } | null;
  pollAfterMs: number | null;
};
type Started = { paymentId: string; driverSecret: string; statusPath: string };
type CardToken = { token: string; brand?: string; last4?: string };
type Problem = { kind: 'unavailable' | 'error'; title: string; message: string };

const token = decodeURIComponent(location.pathname.replace(/^\/pay\//, '').split('/')[0] ?? '');
const base = `/api/v1/pay/${encodeURIComponent(token)}`;
/** The running payment of this tab survives a reload (sessionStorage, per tab; gone when the tab closes). */
const STORAGE_KEY = `voltbill.pay.${token.slice(-32)}`;
const SECRET_HEADER = 'x-pay-secret';

type Fetched<T> = { ok: true; value: T } | { ok: false; status: number; code: string; message: string };

async function getJson<T>(path: string, init?: RequestInit): Promise<Fetched<T>> {
  try {
    const response = await fetch(path, init);
    const body = (await response.json().catch(() => ({}))) as T & { error?: { code?: string; message?: string } };
    if (!response.ok) {
      return {
        ok: false,
        status: response.status,
        code: body.error?.code ?? `HTTP${response.status}`,
        message: body.error?.message ?? `HTTP ${response.status}`,
      };
    }
    return { ok: true, value: body };
  } catch {
    return { ok: false, status: 0, code: 'Network', message: 'No connection. Check your mobile data and try again.' };
  }
}

/** What the driver reads when the QR link itself does not work. */
function linkProblem(result: { status: number; code: string; message: string }): Problem {
  if (result.code === 'QrTokenExpired' || result.status === 410) {
    return {
      kind: 'error',
      title: 'This QR code has expired',
      message: 'Scan the QR code on the charger again to get the current price and payment page.',
    };
  }
  if (result.code === 'QrTokenInvalid' || result.status === 401) {
    return {
      kind: 'error',
      title: 'This payment link is not valid',
      message: 'Scan the QR code on the charger again. If it keeps failing, the sticker may not be genuine.',
    };
  }
  if (result.status === 404) {
    return {
      kind: 'unavailable',
      title: 'Not available',
      message: 'Card payment is not available at this charger. Use a charging card or app, or contact the operator.',
    };
  }
  return { kind: 'error', title: 'Something went wrong', message: result.message };
}

const OCPI_UNITS: Record<string, string> = { ENERGY: 'kWh', TIME: 'hour', PARKING_TIME: 'hour', FLAT: 'session' };
const DIMENSION_NAMES: Record<string, string> = {
  ENERGY: 'Energy',
  TIME: 'Charging time',
  PARKING_TIME: 'Parking (not charging)',
  FLAT: 'Per session',
};

/** A tariff's decimal price as a driver reads it: at least two decimals ("6" → "6.00"), never rounded. */
function priceText(price: number | string): string {
  const text = String(price);
  const [whole, decimals = ''] = text.split('.');
  return `${whole}.${decimals.padEnd(2, '0')}`;
}

/** One line per priced dimension; elements without restrictions first (the tariff's text states time-of-day prices). */
function unitPrices(tariff: OcpiTariff | undefined) {
  const seen = new Set<string>();
  const lines: { dimension: string; unit: string; price: string; vat: string | null }[] = [];
  const elements = [...(tariff?.elements ?? [])].sort((a, b) => Number(!!a.restrictions) - Number(!!b.restrictions));
  for (const element of elements) {
    for (const c of element.price_components ?? []) {
      if (seen.has(c.type)) continue;
      seen.add(c.type);
      lines.push({
        dimension: c.type,
        unit: OCPI_UNITS[c.type] ?? '',
        price: priceText(c.price),
        vat: c.vat === undefined ? null : String(c.vat),
      });
    }
  }
  return lines;
}

function PriceCard(props: { quote: Quote }) {
  const { quote } = props;
  const alt = quote.tariff?.body.tariff_alt_text ?? [];
  const text = alt.find((t) => t.language === navigator.language.slice(0, 2)) ?? alt[0];
  return (
    <section class="card stack price-card" aria-labelledby="price-heading">
      <h1 id="price-heading">Price at this charger</h1>
      <ul class="price-list">
        {unitPrices(quote.tariff?.body).map((p) => (
          <li key={p.dimension}>
            <span>{DIMENSION_NAMES[p.dimension] ?? p.dimension}</span>
            <strong>{`${formatAmount(p.price, quote.currency)} / ${p.unit}${p.vat ? ` + ${p.vat} % VAT` : ''}`}</strong>
          </li>
        ))}
      </ul>
      {text && <p class="small">{text.text}</p>}
      <p class="muted small">
        Charger {quote.evseUid}
        {quote.location ? ` · ${quote.location}` : ''}
      </p>
    </section>
  );
}

/**
 * The SANDBOX provider's hosted fields in an iframe. Only a message from that frame's window and origin is taken,
 * and only its token, brand and last four digits. `resetKey` reloads a fresh frame (after a decline).
 */
function HostedFields(props: { url: string; title: string; onToken: (card: CardToken) => void; resetKey: number }) {
  const frame = useRef<HTMLIFrameElement>(null);
  const frameOrigin = new URL(props.url, location.href).origin;
  const { onToken } = props;
  useEffect(() => {
    const onMessage = (event: MessageEvent) => {
      if (event.origin !== frameOrigin || event.source !== frame.current?.contentWindow) return;
      const data = event.data as { type?: string } & Partial<CardToken>;
      if (data?.type !== 'voltbill:card-token' || typeof data.token !== 'string') return;
      onToken({
        token: data.token,
        ...(typeof data.brand === 'string' && { brand: data.brand }),
        ...(typeof data.last4 === 'string' && /^\d{4}$/.test(data.last4) && { last4: data.last4 }),
      });
    };
    addEventListener('message', onMessage);
    return () => removeEventListener('message', onMessage);
  }, [frameOrigin, onToken]);
  return <iframe key={props.resetKey} ref={frame} class="card-frame" src={props.url} title={props.title} />;
}

type StripeLike = {
  elements(): { create(kind: 'card'): { mount(el: HTMLElement): void } };
  createPaymentMethod(input: { type: 'card'; card: unknown }): Promise<{
    paymentMethod?: { id: string; card?: { brand?: string; last4?: string } };
    error?: { message?: string };
  }>;
};

/**
 * Stripe's card fields (Stripe.js from js.stripe.com, the only way Stripe allows card entry). The pay page's CSP
 * allows js.stripe.com only when the provider is Stripe (src/api/web-static.ts). Not tested here: it needs Stripe.
 */
function StripeFields(props: { publishableKey: string; onToken: (card: CardToken) => void }) {
  const mountRef = useRef<HTMLDivElement>(null);
  const [stripe, setStripe] = useState<{ api: StripeLike; card: unknown } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const script = document.createElement('script');
    script.src = 'https://js.stripe.com/v3/';
    script.onload = () => {
      const factory = (globalThis as unknown as { Stripe?: (key: string) => StripeLike }).Stripe;
      if (!factory || !mountRef.current) return setError('The card form could not be loaded.');
      const api = factory(props.publishableKey);
      const card = api.elements().create('card');
      card.mount(mountRef.current);
      setStripe({ api, card });
    };
    script.onerror = () => setError('The card form could not be loaded. Check your connection.');
    document.head.append(script);
  }, [props.publishableKey]);
  const submit = async () => {
    if (!stripe) return;
    const result = await stripe.api.createPaymentMethod({ type: 'card', card: stripe.card });
    if (result.error || !result.paymentMethod) return setError(result.error?.message ?? 'The card was not accepted.');
    props.onToken({
      token: result.paymentMethod.id,
      ...(result.paymentMethod.card?.brand && { brand: result.paymentMethod.card.brand }),
      ...(result.paymentMethod.card?.last4 && { last4: result.paymentMethod.card.last4 }),
    });
  };
  return (
    <div class="stack">
      <div ref={mountRef} class="stripe-card" />
      {error && <Notice kind="error">{error}</Notice>}
      <button type="button" disabled={!stripe} onClick={submit}>
        Use this card
      </button>
    </div>
  );
}

function CardEntry(props: {
  quote: Quote;
  onToken: (card: CardToken) => void;
  declined: string | null;
  resetKey: number;
  email: string;
  onEmail: (email: string) => void;
}) {
  const { quote } = props;
  const fields = quote.hostedFieldsUrl ? (
    <HostedFields
      url={quote.hostedFieldsUrl}
      title={`Card details (${quote.sandbox ? 'SANDBOX, ' : ''}${quote.provider})`}
      onToken={props.onToken}
      resetKey={props.resetKey}
    />
  ) : quote.provider === 'stripe' && quote.stripePublishableKey ? (
    <StripeFields publishableKey={quote.stripePublishableKey} onToken={props.onToken} />
  ) : (
    <Notice kind="unavailable">Card entry is not available here yet: the payment provider offers no card form.</Notice>
  );
  return (
    <section class="card stack" aria-labelledby="card-heading">
      <h2 id="card-heading">Pay by card</h2>
      {quote.sandbox && (
        <p class="sandbox-banner" role="note">
          SANDBOX · test payments only, no real money moves
        </p>
      )}
      <p class="small">
        We reserve {formatAmount(quote.hold.amount, quote.hold.currency)} on your card and charge only what you use when
        you unplug.
      </p>
      {props.declined && (
        <Notice kind="error">
          <strong>Card not accepted.</strong> {props.declined}
        </Notice>
      )}
      <label class="stack">
        Email for the receipt (optional)
        <input
          type="email"
          autoComplete="email"
          value={props.email}
          onInput={(e) => props.onEmail((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      {fields}
    </section>
  );
}

const HEADINGS: Record<PayState, string> = {
  waiting_for_hold: 'Checking your card…',
  hold_placed: 'Card accepted',
  starting: 'Starting the charger…',
  charging: 'Charging',
  finished: 'Finished',
  failed: 'Not started',
};

async function downloadReceipt(started: Started, path: string, fileName: string): Promise<string | null> {
  try {
    const response = await fetch(path, { headers: { [SECRET_HEADER]: started.driverSecret } });
    if (!response.ok) return 'The receipt could not be downloaded. Try again in a moment.';
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = fileName;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return null;
  } catch {
    return 'No connection. The receipt could not be downloaded.';
  }
}

function LiveStatus(props: { status: PayStatus; started: Started; card: CardToken | null; onRestart: () => void }) {
  const { status, card } = props;
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const receipt = status.receipt;
  return (
    <section class="card stack" aria-labelledby="status-heading" aria-live="polite" data-state={status.state}>
      <h2 id="status-heading">{HEADINGS[status.state]}</h2>
      {status.state === 'failed' && status.failure && <Notice kind="error">{status.failure.message}</Notice>}
      {status.state === 'failed' && (
        <button type="button" onClick={props.onRestart}>
          Try again
        </button>
      )}
      {(status.state === 'hold_placed' || status.state === 'starting') && (
        <p>
          {formatAmount(status.hold.amount, status.hold.currency)} reserved on{' '}
          {card?.last4 ? `the card ending ${card.last4}` : 'your card'}. Plug in your car if you have not yet: the
          charger starts on its own.
        </p>
      )}
      {status.state === 'waiting_for_hold' && <p>This takes a few seconds.</p>}
      {(status.state === 'charging' || status.state === 'finished') && (
        <dl class="figures">
          <div>
            <dt>Energy</dt>
            <dd data-testid="energy">{formatEnergyWh(status.session?.energyWh ?? 0)}</dd>
          </div>
          <div>
            <dt>{status.state === 'finished' ? 'Total (incl. VAT)' : 'Cost so far (incl. VAT)'}</dt>
            <dd data-testid="cost">
              {status.state === 'finished'
                ? formatAmount(receipt?.totalInclVat, receipt?.currency)
                : formatAmount(status.runningCost?.inclVat, status.runningCost?.currency)}
            </dd>
          </div>
        </dl>
      )}
      {status.state === 'charging' && <p class="small muted">Stop charging at the charger or in your car.</p>}
      {status.state === 'finished' && !receipt && (
        <p class="muted">
          {status.session?.billingStatus === 'Held'
            ? 'The operator is checking the meter data of this session. Your receipt appears here once it is released; nothing is charged before that.'
            : status.session?.billingStatus === 'NotBillable'
              ? 'This session is not billed: nothing is charged and your reservation is released.'
              : 'Preparing your receipt…'}
        </p>
      )}
      {receipt && (
        <div class="stack receipt" data-testid="receipt">
          <h3>Receipt {receipt.invoiceNumber}</h3>
          <table class="receipt-table">
            <tbody>
              <tr>
                <th scope="row">Net</th>
                <td>{formatAmount(receipt.totalExclVat, receipt.currency)}</td>
              </tr>
              <tr>
                <th scope="row">VAT</th>
                <td>{formatAmount(receipt.totalVat, receipt.currency)}</td>
              </tr>
              <tr class="total">
                <th scope="row">Total</th>
                <td data-testid="receipt-total">{formatAmount(receipt.totalInclVat, receipt.currency)}</td>
              </tr>
            </tbody>
          </table>
          <p class="small">
            Charged to {card?.last4 ? `the card ending ${card.last4}` : 'your card'}; the rest of the{' '}
            {formatAmount(status.hold.amount, status.hold.currency)} reservation is released.
            {status.sandbox ? ' SANDBOX: no real money moved.' : ''}
          </p>
          <button
            type="button"
            class="secondary"
            onClick={async () =>
              setDownloadError(await downloadReceipt(props.started, receipt.pdfPath, `${receipt.invoiceNumber}.pdf`))
            }
          >
            Download receipt (PDF)
          </button>
          {downloadError && <Notice kind="error">{downloadError}</Notice>}
        </div>
      )}
    </section>
  );
}

function loadStarted(): { started: Started; card: CardToken | null } | null {
  try {
    const text = sessionStorage.getItem(STORAGE_KEY);
    return text ? (JSON.parse(text) as { started: Started; card: CardToken | null }) : null;
  } catch {
    return null;
  }
}

function PayPage() {
  const [quote, setQuote] = useState<Quote | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [resumed] = useState(loadStarted);
  const [started, setStarted] = useState<Started | null>(resumed?.started ?? null);
  const [card, setCard] = useState<CardToken | null>(resumed?.card ?? null);
  const [busy, setBusy] = useState(false);
  const [declined, setDeclined] = useState<string | null>(null);
  const [resetKey, setResetKey] = useState(0);
  const [status, setStatus] = useState<PayStatus | null>(null);
  const [email, setEmail] = useState('');

  const loadQuote = useCallback(async () => {
    if (!token) {
      setProblem({
        kind: 'unavailable',
        title: 'Not available',
        message: 'This link does not name a charger. Scan the QR code on the charger again.',
      });
      return;
    }
    const result = await getJson<Quote>(`${base}${location.search}`);
    if (result.ok) {
      setQuote(result.value);
      setProblem(null);
    } else setProblem(linkProblem(result));
  }, []);
  useEffect(() => {
    void loadQuote();
  }, [loadQuote]);

  useEffect(() => {
    if (!started) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const result = await getJson<PayStatus>(started.statusPath, {
        headers: { [SECRET_HEADER]: started.driverSecret },
      });
      if (!live) return;
      if (result.ok) {
        setStatus(result.value);
        if (result.value.pollAfterMs === null) return;
      }
      timer = setTimeout(poll, result.ok ? (result.value.pollAfterMs ?? 2_000) : 5_000);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [started]);

  const start = useCallback(
    async (given: CardToken) => {
      setBusy(true);
      setDeclined(null);
      const result = await getJson<Started>(`${base}/sessions${location.search}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ paymentMethodRef: given.token, ...(email.trim() && { receiptEmail: email.trim() }) }),
      });
      setBusy(false);
      if (result.ok) {
        sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ started: result.value, card: given }));
        setCard(given);
        setStarted(result.value);
        return;
      }
      if (result.code === 'PaymentDeclined' || result.code === 'CardBlocked') {
        setDeclined(
          `${result.message.replace(/^the card was not accepted/, 'Your card was declined')}. No money was taken. Try another card.`,
        );
        setResetKey((k) => k + 1);
      } else if (result.code === 'StationNotConnected') {
        setQuote((q) => (q ? { ...q, stationOnline: false } : q));
      } else if (result.code === 'PaymentProviderUnavailable') {
        setDeclined('The card processor is not reachable right now. No money was taken. Try again in a minute.');
        setResetKey((k) => k + 1);
      } else {
        setProblem(linkProblem(result));
      }
    },
    [email],
  );

  const offline = quote?.stationOnline === false;
  return (
    <main class="pay stack" id="main">
      <p class="brand">⚡ Charge here</p>
      {problem && (
        <Notice kind={problem.kind}>
          <strong>{problem.title}</strong>
          <br />
          {problem.message}
        </Notice>
      )}
      {!quote && !problem && <p class="muted">Loading the price…</p>}
      {/* Once the driver has paid, the session's status comes first and the price stays below for reference. */}
      {quote && !started && <PriceCard quote={quote} />}
      {quote && !started && offline && (
        <Notice kind="unavailable">
          <strong>This charger is offline right now</strong>
          <br />
          It cannot start a session, so no card is asked for. Try another charger or come back later.
          <br />
          <button type="button" class="secondary" onClick={() => void loadQuote()}>
            Check again
          </button>
        </Notice>
      )}
      {quote && !started && !offline && !problem && (
        <>
          {busy && (
            <p class="notice notice-info" role="status">
              Checking your card…
            </p>
          )}
          <CardEntry
            quote={quote}
            onToken={start}
            declined={declined}
            resetKey={resetKey}
            email={email}
            onEmail={setEmail}
          />
        </>
      )}
      {started && !status && <p class="muted">Checking your card…</p>}
      {started && status && (
        <LiveStatus
          status={status}
          started={started}
          card={card}
          onRestart={() => {
            sessionStorage.removeItem(STORAGE_KEY);
            setStarted(null);
            setStatus(null);
            setResetKey((k) => k + 1);
            void loadQuote();
          }}
        />
      )}
      {quote && started && <PriceCard quote={quote} />}
    </main>
  );
}

const root = document.getElementById('root');
if (root) {
  root.textContent = '';
  render(<PayPage />, root);
}
