/**
 * The driver's page behind a dunning pay link (`/pay-invoice/<token>`): shows the amount due (from
 * GET /api/v1/pay-invoice/:token) and takes a card in the provider's hosted fields (the SANDBOX's frame here; the
 * card number goes to the provider, the page gets only a token by postMessage) or retries the saved card, then
 * pays with POST /api/v1/pay-invoice/:token. Plain HTML and one script without inline code, under a strict policy.
 * A richer page in web/ can replace it; the link and the API stay the same.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { PaymentsRuntime } from '../../payments/payments-runtime.ts';
import { HOSTED_FIELDS_PATH } from '../../payments/sandbox/hosted-fields-page.ts';

const POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "frame-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HTML = (sandbox: boolean) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Pay an open charging bill</title>
<script src="/pay-invoice.js" defer></script>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}
.amount{font-size:2rem;font-weight:600}iframe{width:100%;height:16rem;border:0}.sandbox{color:#a15c00}</style>
</head>
<body>
<h1>Open charging bill</h1>
<p id="state">Loading…</p>
<p class="amount" id="amount"></p>
${sandbox ? '<p class="sandbox">SANDBOX: no real money moves.</p>' : ''}
<section id="pay" hidden>
  <h2>Pay with a card</h2>
  ${sandbox ? `<iframe id="card-frame" src="${HOSTED_FIELDS_PATH}" title="Card fields"></iframe>` : '<p>Enter your card in the app, or retry your saved card.</p>'}
  <p><button id="saved" type="button">Retry my saved card</button></p>
</section>
<p id="result" role="status"></p>
</body>
</html>
`;

const SCRIPT = `'use strict';
(() => {
  const token = location.pathname.split('/').pop();
  const api = '/api/v1/pay-invoice/' + encodeURIComponent(token);
  const $ = (id) => document.getElementById(id);
  const say = (id, text) => { $(id).textContent = text; };
  async function load() {
    const response = await fetch(api);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) { say('state', (body.error && body.error.message) || 'This link is not valid.'); return; }
    if (body.status === 'paid') { say('state', 'This bill is paid. Thank you.'); return; }
    say('state', 'Amount due:');
    say('amount', body.amountDue.amount + ' ' + body.amountDue.currency);
    $('pay').hidden = false;
  }
  async function pay(body) {
    say('result', 'Paying…');
    const response = await fetch(api, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      $('pay').hidden = true;
      say('result', answer.status === 'captured' ? 'Paid. Thank you: your charging cards work again.' : 'Payment is being processed.');
    } else {
      say('result', (answer.error && answer.error.message) || 'The payment did not go through.');
    }
  }
  addEventListener('message', (event) => {
    const frame = $('card-frame');
    if (!frame || event.origin !== location.origin || event.source !== frame.contentWindow) return;
    if (event.data && event.data.type === 'voltbill:card-token' && typeof event.data.token === 'string') {
      void pay({ paymentMethodRef: event.data.token });
    }
  });
  $('saved').addEventListener('click', () => void pay({ useSavedCard: true }));
  void load();
})();
`;

export function payInvoicePageRoutes(payments: PaymentsRuntime): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { token: string } }>('/pay-invoice/:token', async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', POLICY)
        .header('cache-control', 'no-store')
        .send(HTML(payments.provider.isSandbox)),
    );
    app.get('/pay-invoice.js', async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(SCRIPT),
    );
  };
}
