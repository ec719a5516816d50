/**
 * The driver's minimal account page: sign in, then own sessions, invoices, RFID tokens and saved card. Sessions and
 * tokens come from the same API as the dashboard's, which shows a driver only their own rows; invoices and saved
 * cards from the driver's own lists (/api/v1/me/...), because the operator-wide ones are for staff.
 */
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { type Credential, downloadFile, loadCredential, saveCredential, signOut } from './api.tsx';
import { formatAmount, formatDateTime, formatEnergyWh } from './lib/format.ts';
import { Notice } from './ui.tsx';
import { RemoteList, type Row } from './views/remote-list.tsx';

const text = (value: unknown) => (value === null || value === undefined ? '' : String(value));

function SignInForm(props: { onSignedIn: (c: Credential) => void }) {
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const email = String(form.get('email') ?? '').trim();
    const response = await fetch('/api/v1/auth/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: String(form.get('password') ?? '') }),
    }).catch(() => null);
    if (!response) return setError('The server did not answer.');
    if (response.status === 404) return setError('Driver accounts are not available on this server yet.');
    if (!response.ok) return setError('Wrong email or password.');
    const body = (await response.json()) as { accessToken: string; refreshToken: string; expiresInS: number };
    props.onSignedIn({
      kind: 'user',
      email,
      accessToken: body.accessToken,
      refreshToken: body.refreshToken,
      expiresAt: Date.now() + body.expiresInS * 1000,
    });
  };
  return (
    <form class="card stack" onSubmit={submit}>
      <h1>My charging account</h1>
      {error && <Notice kind="error">{error}</Notice>}
      <label>
        Email
        <input name="email" type="email" autoComplete="username" required />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <button type="submit">Sign in</button>
    </form>
  );
}

/** Only the columns named below: a driver needs a few plain facts, not every field of the API. */
const ALL = [
  'id',
  'stationId',
  'evseId',
  'transactionId',
  'idTag',
  'authorizationStatus',
  'status',
  'billingStatus',
  'startedAt',
  'endedAt',
  'meterStartWh',
  'meterStopWh',
  'energyWh',
  'stopReason',
  'chargingState',
  'timeZone',
  'currency',
  'tariffVersionId',
  'findings',
  'invoiceNumber',
  'kind',
  'issuedAt',
  'totalExclVat',
  'totalVat',
  'totalInclVat',
  'uid',
  'type',
  'customerId',
  'groupId',
  'contractId',
  'label',
  'expiresAt',
  'createdAt',
  'brand',
  'last4',
  'expires',
  'provider',
  'addedAt',
];
const SESSION_COLUMNS = [
  { header: 'Started', value: (r: Row) => r.startedAt, render: (r: Row) => formatDateTime(text(r.startedAt)) },
  { header: 'Charger', value: (r: Row) => `${text(r.stationId)}/${text(r.evseId)}` },
  { header: 'Card', value: (r: Row) => r.idTag },
  {
    header: 'Energy',
    value: (r: Row) => r.energyWh,
    render: (r: Row) => formatEnergyWh(r.energyWh as number | null),
    numeric: true,
  },
  { header: 'Status', value: (r: Row) => r.status },
];
const INVOICE_COLUMNS = [
  { header: 'Invoice', value: (r: Row) => r.invoiceNumber },
  { header: 'Issued', value: (r: Row) => r.issuedAt, render: (r: Row) => formatDateTime(text(r.issuedAt)) },
  {
    header: 'Total incl. VAT',
    value: (r: Row) => r.totalInclVat,
    render: (r: Row) => formatAmount(text(r.totalInclVat), text(r.currency)),
    numeric: true,
  },
];
const TOKEN_COLUMNS = [
  { header: 'Card number', value: (r: Row) => r.uid },
  { header: 'Type', value: (r: Row) => r.type },
  { header: 'Status', value: (r: Row) => r.status },
];
const CARD_COLUMNS = [
  { header: 'Card', value: (r: Row) => `${text(r.brand)} •••• ${text(r.last4)}` },
  { header: 'Expires', value: (r: Row) => r.expires },
  { header: 'Status', value: (r: Row) => r.status },
];

function AccountPage() {
  const [credential, setCredential] = useState(loadCredential());
  if (!credential) {
    return (
      <main class="pay stack" id="main">
        <SignInForm
          onSignedIn={(c) => {
            saveCredential(c);
            setCredential(c);
          }}
        />
      </main>
    );
  }
  return (
    <main class="pay stack" id="main">
      <h1>My charging account</h1>
      {credential.kind === 'user' && <p class="muted">Signed in as {credential.email}</p>}
      <button
        type="button"
        class="secondary"
        onClick={() => {
          void signOut();
          setCredential(null);
        }}
      >
        Sign out
      </button>
      <h2>Sessions</h2>
      <RemoteList
        path="/api/v1/sessions"
        what="Your sessions"
        csvName="my-sessions"
        empty="No sessions yet."
        columns={SESSION_COLUMNS}
        skip={ALL}
      />
      <h2>Invoices</h2>
      <RemoteList
        path="/api/v1/me/invoices"
        what="Your invoices"
        csvName="my-invoices"
        empty="No invoices yet."
        columns={INVOICE_COLUMNS}
        skip={ALL}
        actions={(row) => (
          <button
            type="button"
            class="secondary"
            onClick={() =>
              void downloadFile(
                `/api/v1/me/invoices/${encodeURIComponent(text(row.id))}/pdf`,
                `${text(row.invoiceNumber)}.pdf`,
              )
            }
          >
            PDF
          </button>
        )}
      />
      <h2>Charging cards (RFID)</h2>
      <RemoteList
        path="/api/v1/id-tokens"
        what="Your charging cards"
        csvName="my-cards"
        empty="No charging cards."
        columns={TOKEN_COLUMNS}
        skip={ALL}
      />
      <h2>Saved card</h2>
      <RemoteList
        path="/api/v1/me/payment-methods"
        what="Your saved card"
        csvName="my-payment-methods"
        empty="No saved card."
        columns={CARD_COLUMNS}
        skip={ALL}
      />
    </main>
  );
}

const root = document.getElementById('root');
if (root) {
  root.textContent = '';
  render(<AccountPage />, root);
}
