/**
 * The driver's minimal account page: sign in, then own sessions, invoices, RFID tokens and saved card. The lists
 * come from the same API as the dashboard's, which shows a driver only their own rows; a list the server does not
 * offer (yet) to drivers says so.
 */
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { type Credential, loadCredential, saveCredential, signOut } from './api.tsx';
import { Notice } from './ui.tsx';
import { RemoteList } from './views/remote-list.tsx';

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
      <RemoteList path="/api/v1/sessions" what="Your sessions" csvName="my-sessions" empty="No sessions yet." />
      <h2>Invoices</h2>
      <RemoteList path="/api/v1/invoices" what="Your invoices" csvName="my-invoices" empty="No invoices yet." />
      <h2>Charging cards (RFID)</h2>
      <RemoteList path="/api/v1/id-tokens" what="Your cards" csvName="my-cards" empty="No charging cards." />
      <h2>Saved card</h2>
      <RemoteList
        path="/api/v1/payment-methods"
        what="Your saved card"
        csvName="my-payment-methods"
        empty="No saved card."
      />
    </main>
  );
}

const root = document.getElementById('root');
if (root) {
  root.textContent = '';
  render(<AccountPage />, root);
}
