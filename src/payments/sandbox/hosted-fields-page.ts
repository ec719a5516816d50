/**
 * The SANDBOX provider's hosted card fields: the page a real provider serves in an iframe (Stripe's Payment Element,
 * Adyen's secured fields), here served by the sandbox under /sandbox/hosted-fields. The driver types the card into
 * this page; its script sends the card to the sandbox's own tokenization endpoint (/sandbox/v1/payment_methods) and
 * hands only the token, the brand and the last four digits to the pay page by postMessage, addressed to the pay
 * page's origin only. Voltbill's pages and API never see the number.
 *
 * Plain HTML, CSS and a small script without a build step: the page is the provider's, not part of web/.
 */

/** The only origin the frame talks to: the pay page is served by the same server as the sandbox. */
export const HOSTED_FIELDS_PATH = '/sandbox/hosted-fields';

/**
 * The frame's own policy: its script and style, calls to the sandbox's tokenization endpoint on this origin, and
 * embedding only by a page of this origin (the pay page). No inline script, no eval, no form posts.
 */
export const HOSTED_FIELDS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export const HOSTED_FIELDS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>SANDBOX card fields</title>
<link rel="stylesheet" href="${HOSTED_FIELDS_PATH}.css">
<script src="${HOSTED_FIELDS_PATH}.js" defer></script>
</head>
<body>
<form id="card-form" novalidate autocomplete="on">
  <p class="sandbox">SANDBOX card fields · test cards only (4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined)</p>
  <label>Card number
    <input name="number" id="number" inputmode="numeric" autocomplete="cc-number" maxlength="23" required
      placeholder="1234 1234 1234 1234">
  </label>
  <div class="row">
    <label>Expiry (MM/YY)
      <input name="expiry" id="expiry" inputmode="numeric" autocomplete="cc-exp" maxlength="7" required placeholder="MM/YY">
    </label>
    <label>CVC
      <input name="cvc" id="cvc" inputmode="numeric" autocomplete="cc-csc" maxlength="4" required placeholder="123">
    </label>
  </div>
  <p id="card-error" class="error" role="alert" hidden></p>
  <button type="submit" id="submit">Use this card</button>
</form>
</body>
</html>
`;

export const HOSTED_FIELDS_CSS = `
:root { color-scheme: light dark; --fg: #14181c; --bg: #ffffff; --line: #8a949e; --accent: #0b6bcb; --error: #b3261e; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8ebee; --bg: #181c21; --line: #6b7580; --accent: #5aa9ff; --error: #ff8a80; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
form { display: grid; gap: 10px; padding: 4px; }
label { display: grid; gap: 4px; font-weight: 600; }
input { font: inherit; padding: 10px 12px; min-height: 44px; border: 1px solid var(--line); border-radius: 6px;
  background: transparent; color: inherit; width: 100%; }
input:focus-visible, button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.row { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.sandbox { margin: 0; padding: 6px 8px; border: 2px dashed #b26a00; border-radius: 6px; font-size: 13px; }
.error { margin: 0; color: var(--error); font-weight: 600; }
button { font: inherit; font-weight: 700; min-height: 48px; border: 0; border-radius: 6px; background: var(--accent);
  color: #fff; cursor: pointer; }
@media (prefers-color-scheme: dark) { button { color: #0f1215; } }
button[disabled] { opacity: .6; cursor: progress; }
`;

/**
 * The frame's script. It keeps the card in this document only, sends it to the sandbox's tokenization endpoint
 * (same origin as this frame), and posts {type:'voltbill:card-token', token, brand, last4} to the parent, with
 * the parent's origin as the target (never '*'), so a page of another origin that framed it gets nothing. The
 * parent may send {type:'voltbill:reset'} (after a decline) to clear the form; messages from anywhere else are
 * ignored.
 */
export const HOSTED_FIELDS_JS = `(() => {
  'use strict';
  const parentOrigin = location.origin;
  const form = document.getElementById('card-form');
  const error = document.getElementById('card-error');
  const submit = document.getElementById('submit');
  const show = (text) => { error.textContent = text; error.hidden = !text; };
  const digits = (v) => v.replace(/[\\s-]/g, '');
  const luhn = (d) => {
    if (!/^\\d{13,19}$/.test(d)) return false;
    let sum = 0;
    for (let i = 0; i < d.length; i++) {
      let n = d.charCodeAt(d.length - 1 - i) - 48;
      if (i % 2 === 1) { n *= 2; if (n > 9) n -= 9; }
      sum += n;
    }
    return sum % 10 === 0;
  };
  form.number.addEventListener('input', () => {
    const d = digits(form.number.value).replace(/\\D/g, '').slice(0, 19);
    form.number.value = d.replace(/(\\d{4})(?=\\d)/g, '$1 ');
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    show('');
    const number = digits(form.number.value);
    if (!luhn(number)) { show('This card number is not valid.'); form.number.focus(); return; }
    const expiry = /^\\s*(\\d{1,2})\\s*\\/\\s*(\\d{2}|\\d{4})\\s*$/.exec(form.expiry.value);
    if (!expiry) { show('Enter the expiry date as MM/YY.'); form.expiry.focus(); return; }
    const expMonth = Number(expiry[1]);
    const expYear = expiry[2].length === 2 ? 2000 + Number(expiry[2]) : Number(expiry[2]);
    if (!/^\\d{3,4}$/.test(form.cvc.value.trim())) { show('Enter the 3 or 4 digit security code.'); form.cvc.focus(); return; }
    submit.disabled = true;
    try {
      const response = await fetch('/sandbox/v1/payment_methods', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ number, exp_month: expMonth, exp_year: expYear, cvc: form.cvc.value.trim() }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        show((body.error && body.error.message ? body.error.message : 'The card could not be checked.').replace(/^SANDBOX: /, ''));
        return;
      }
      form.reset();
      parent.postMessage({ type: 'voltbill:card-token', token: body.id, brand: body.brand, last4: body.last4, sandbox: true }, parentOrigin);
    } catch {
      show('No connection to the card processor. Try again.');
    } finally {
      submit.disabled = false;
    }
  });
  addEventListener('message', (event) => {
    if (event.origin !== parentOrigin || event.source !== parent) return;
    if (event.data && event.data.type === 'voltbill:reset') { form.reset(); show(event.data.message || ''); }
  });
})();
`;
