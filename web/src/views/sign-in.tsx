/** Sign-in for operator staff: email and password (accounts API), or an API key (machines, and the demo's key). */
import { useState } from 'preact/hooks';
import { type Credential, saveCredential } from '../api.tsx';
import { Notice } from '../ui.tsx';

type SignInBody = { accessToken: string; refreshToken: string; expiresInS: number };

export function SignIn(props: { onSignedIn: (credential: Credential) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const withPassword = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const email = String(form.get('email') ?? '').trim();
    setBusy(true);
    setError(null);
    try {
      const response = await fetch('/api/v1/auth/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: String(form.get('password') ?? '') }),
      });
      if (response.status === 404) {
        setError('Password sign-in is not available on this server yet. Use an API key below.');
        return;
      }
      if (!response.ok) {
        setError(
          response.status === 429 ? 'Too many attempts. Wait a minute and try again.' : 'Wrong email or password.',
        );
        return;
      }
      const body = (await response.json()) as SignInBody;
      props.onSignedIn({
        kind: 'user',
        email,
        accessToken: body.accessToken,
        refreshToken: body.refreshToken,
        expiresAt: Date.now() + body.expiresInS * 1000,
      });
    } catch {
      setError('The server did not answer. Check the connection and try again.');
    } finally {
      setBusy(false);
    }
  };

  const withKey = async (event: Event) => {
    event.preventDefault();
    const key = String(new FormData(event.currentTarget as HTMLFormElement).get('apiKey') ?? '').trim();
    setBusy(true);
    setError(null);
    try {
      const response = await fetch('/api/v1/stations', { headers: { authorization: `Bearer ${key}` } });
      if (!response.ok) {
        setError(
          response.status === 401
            ? 'This API key is unknown or revoked.'
            : `The server refused the key (${response.status}).`,
        );
        return;
      }
      const credential: Credential = { kind: 'apiKey', key };
      saveCredential(credential);
      props.onSignedIn(credential);
    } catch {
      setError('The server did not answer. Check the connection and try again.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <h1>⚡ Voltbill</h1>
      <p class="muted">Operator dashboard</p>
      {error && <Notice kind="error">{error}</Notice>}
      <form onSubmit={withPassword} class="card stack">
        <h2>Sign in</h2>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <form onSubmit={withKey} class="card stack">
        <h2>Use an API key</h2>
        <p class="muted small">
          For machines and the demo: <code>voltbill serve</code> prints the admin key of the demo data.
        </p>
        <label>
          API key
          <input name="apiKey" type="password" autoComplete="off" spellcheck={false} required />
        </label>
        <button type="submit" class="secondary" disabled={busy}>
          Sign in with key
        </button>
      </form>
    </main>
  );
}
