/** The operator dashboard: sign-in, then one view per hash route (#/overview, #/sessions, ...). */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type Credential, loadCredential, saveCredential, signOut, whenSignedOut } from './api.tsx';
import { AuditView } from './views/audit.tsx';
import { CdrsView } from './views/cdrs.tsx';
import { ChartsView } from './views/charts.tsx';
import { InvoicesView } from './views/invoices.tsx';
import { MetersView } from './views/meters.tsx';
import { OverviewView } from './views/overview.tsx';
import { PaymentsView } from './views/payments.tsx';
import { SessionsView } from './views/sessions.tsx';
import { SignIn } from './views/sign-in.tsx';
import { TariffsView } from './views/tariffs.tsx';

const ROUTES = [
  { path: 'overview', label: 'Overview', view: OverviewView },
  { path: 'charts', label: 'Revenue & energy', view: ChartsView },
  { path: 'sessions', label: 'Sessions', view: SessionsView },
  { path: 'cdrs', label: 'CDRs', view: CdrsView },
  { path: 'invoices', label: 'Invoices', view: InvoicesView },
  { path: 'payments', label: 'Payments', view: PaymentsView },
  { path: 'tariffs', label: 'Tariffs', view: TariffsView },
  { path: 'meters', label: 'Meters & review', view: MetersView },
  { path: 'audit', label: 'Audit log', view: AuditView },
] as const;

function currentRoute(): string {
  const path = location.hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  return ROUTES.some((r) => r.path === path) ? path : 'overview';
}

function App() {
  const [credential, setCredential] = useState<Credential | null>(loadCredential());
  const [route, setRoute] = useState(currentRoute());
  const [menuOpen, setMenuOpen] = useState(false);

  useEffect(() => {
    const onHash = () => {
      setRoute(currentRoute());
      setMenuOpen(false);
    };
    addEventListener('hashchange', onHash);
    whenSignedOut(() => {
      saveCredential(null);
      setCredential(null);
    });
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const active = ROUTES.find((r) => r.path === route) ?? ROUTES[0];
  useEffect(() => {
    document.title = credential ? `${active.label} · Voltbill` : 'Sign in · Voltbill';
  }, [active, credential]);

  if (!credential) {
    return (
      <SignIn
        onSignedIn={(c) => {
          saveCredential(c);
          setCredential(c);
        }}
      />
    );
  }
  const View = active.view;
  const endSession = () => {
    void signOut();
    setCredential(null);
  };
  return (
    <div class="layout">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">⚡ Voltbill</span>
        <button
          type="button"
          class="menu-toggle secondary"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <span class="who muted">{credential.kind === 'user' ? credential.email : 'API key'}</span>
        <button type="button" class="secondary" onClick={endSession}>
          Sign out
        </button>
      </header>
      <nav id="nav" class={menuOpen ? 'nav open' : 'nav'} aria-label="Sections">
        <ul>
          {ROUTES.map((r) => (
            <li key={r.path}>
              <a href={`#/${r.path}`} aria-current={r.path === active.path ? 'page' : undefined}>
                {r.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <h1>{active.label}</h1>
        <View />
      </main>
    </div>
  );
}

const root = document.getElementById('root');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
