/**
 * Serves the SANDBOX hosted card fields (hosted-fields-page.ts) at /sandbox/hosted-fields with their own Content
 * Security Policy. Only registered when the provider is the sandbox: with Stripe, the pay page embeds Stripe's own
 * fields from js.stripe.com instead.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import {
  HOSTED_FIELDS_CSP,
  HOSTED_FIELDS_CSS,
  HOSTED_FIELDS_HTML,
  HOSTED_FIELDS_JS,
  HOSTED_FIELDS_PATH,
} from './hosted-fields-page.ts';

function send(reply: FastifyReply, type: string, body: string) {
  return (
    reply
      .header('content-security-policy', HOSTED_FIELDS_CSP)
      // The card form must never be cached or framed by another site (frame-ancestors above; this for old browsers).
      .header('cache-control', 'no-store')
      .header('x-frame-options', 'SAMEORIGIN')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-sandbox', 'true')
      .type(type)
      .send(body)
  );
}

export function sandboxHostedFieldsPage(): FastifyPluginAsync {
  return async (app) => {
    const hidden = { schema: { hide: true } };
    app.get(HOSTED_FIELDS_PATH, hidden, async (_request, reply) =>
      send(reply, 'text/html; charset=utf-8', HOSTED_FIELDS_HTML),
    );
    app.get(`${HOSTED_FIELDS_PATH}.js`, hidden, async (_request, reply) =>
      send(reply, 'text/javascript; charset=utf-8', HOSTED_FIELDS_JS),
    );
    app.get(`${HOSTED_FIELDS_PATH}.css`, hidden, async (_request, reply) =>
      send(reply, 'text/css; charset=utf-8', HOSTED_FIELDS_CSS),
    );
  };
}
