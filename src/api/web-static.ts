/**
 * Serves the operator dashboard (/app/) and the driver pages (/pay/:evse, /account) from web/dist on the API's own
 * HTTP server, so that the pages call the API on the same origin (no CORS). Hashed assets are cached for a year;
 * HTML shells are revalidated on every load so that a new build reaches browsers at once.
 *
 * When the bundle is missing or older than its sources, it is built on start (esbuild, a development dependency,
 * takes well under a second). Without esbuild (a production install) an existing bundle is served as it is; with
 * no bundle at all the pages answer 503 with the command that builds them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
const DIST_DIR = join(WEB_DIR, 'dist');

/**
 * The pages' Content Security Policy: scripts, styles and API calls from this origin only; frames only from this
 * origin, which is where the SANDBOX payment provider serves its hosted card fields (/sandbox/hosted-fields).
 */
const CONTENT_SECURITY_POLICY = cspWith({});

/**
 * The pay page's policy when the provider is Stripe: exactly what Stripe.js and its card fields need (Stripe's
 * documented CSP): the script from js.stripe.com, its field iframes from js.stripe.com and 3-D Secure pages from
 * hooks.stripe.com, and its calls to api.stripe.com. Every other page keeps the same-origin policy.
 */
const STRIPE_PAY_POLICY = cspWith({
  script: ['https://js.stripe.com'],
  frame: ['https://js.stripe.com', 'https://hooks.stripe.com'],
  connect: ['https://api.stripe.com'],
});

function cspWith(extra: { script?: string[]; frame?: string[]; connect?: string[] }): string {
  const add = (list: string[] | undefined) => (list?.length ? ` ${list.join(' ')}` : '');
  return [
    "default-src 'self'",
    `script-src 'self'${add(extra.script)}`,
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${add(extra.connect)}`,
    `frame-src 'self'${add(extra.frame)}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}

type BuildModule = {
  webBundleIsStale(outDir?: string): Promise<boolean>;
  buildWeb(options?: { outDir?: string }): Promise<unknown>;
};

/** Builds the bundle when it is stale and esbuild is installed; returns why it could not, or null. */
async function ensureBundle(log: FastifyInstance['log']): Promise<string | null> {
  let builder: BuildModule | undefined;
  try {
    // A computed path keeps web/ out of the compiled server's module graph; it needs the tsx loader (bin/voltbill.js).
    builder = (await import(pathToFileURL(join(WEB_DIR, 'build.ts')).href)) as BuildModule;
  } catch {
    builder = undefined;
  }
  if (builder) {
    try {
      if (await builder.webBundleIsStale(DIST_DIR)) {
        await builder.buildWeb({ outDir: DIST_DIR });
        log.info('web bundle built');
      }
    } catch (error) {
      log.warn({ err: error }, 'web bundle could not be built');
    }
  }
  return existsSync(join(DIST_DIR, 'app.html'))
    ? null
    : 'the web pages are not built: run `npm run build:web` (needs the development dependencies)';
}

function sendPage(reply: FastifyReply, file: string, policy = CONTENT_SECURITY_POLICY) {
  return reply
    .header('cache-control', 'no-cache')
    .header('content-security-policy', policy)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .sendFile(file, DIST_DIR, { cacheControl: false });
}

export async function registerWebStatic(
  app: FastifyInstance,
  options: { paymentProvider?: string | undefined } = {},
): Promise<void> {
  const missing = await ensureBundle(app.log);
  await app.register(fastifyStatic, {
    root: join(DIST_DIR, 'assets'),
    prefix: '/assets/',
    immutable: true,
    maxAge: '365d',
    index: false,
    wildcard: true,
  });

  const page = (file: string, policy?: string) => async (_request: unknown, reply: FastifyReply) => {
    if (missing) return reply.status(503).type('text/plain; charset=utf-8').send(`${missing}\n`);
    return sendPage(reply, file, policy);
  };
  app.get('/', async (_request, reply) => reply.redirect('/app/'));
  app.get('/app', async (_request, reply) => reply.redirect('/app/'));
  app.get('/app/', page('app.html'));
  app.get('/account', page('account.html'));
  app.get<{ Params: { evse: string } }>(
    '/pay/:evse',
    page('pay.html', options.paymentProvider === 'stripe' ? STRIPE_PAY_POLICY : CONTENT_SECURITY_POLICY),
  );
}
