#!/usr/bin/env node
// A real OAuth 2.0 / OpenID Connect authorization server (oidc-provider 9.13.3) plus a tiny
// resource server, for flowdoc's `verify` tests. Loopback only.
//
//   node tests/node/oidc_server.mjs [--config JSON] [--exit-with-stdin]
//
// When all servers listen it prints exactly one line on stdout:
//   {"issuer": "http://127.0.0.1:PORT", "resource": "http://127.0.0.1:PORT2",
//    "gateway": "http://127.0.0.1:PORT3"}
// and logs only to stderr afterwards.
//
// Configuration: defaults < FLOWDOC_OIDC_CONFIG (JSON) < individual env vars < --config JSON.
//   host            "127.0.0.1"            (never use "localhost": the issuer must be exact)
//   port            0                      provider port (0 = any free port)   env FLOWDOC_OIDC_PORT
//   resourcePort    0                      resource server port                env FLOWDOC_OIDC_RESOURCE_PORT
//   gatewayPort     0                      gateway (BFF) port                  env FLOWDOC_OIDC_GATEWAY_PORT
//   ttl             {AccessToken, RefreshToken, AuthorizationCode, ClientCredentials, IdToken,
//                    Interaction, Session, Grant}  seconds
//   secrets         {"flowdoc-service", "flowdoc-service-post", "flowdoc-web", "flowdoc-gateway",
//                    "flowdoc-reporting", "flowdoc-api"}
//                   env FLOWDOC_OIDC_SERVICE_SECRET, FLOWDOC_OIDC_SERVICE_POST_SECRET,
//                       FLOWDOC_OIDC_WEB_SECRET, FLOWDOC_OIDC_GATEWAY_SECRET,
//                       FLOWDOC_OIDC_REPORTING_SECRET, FLOWDOC_OIDC_API_SECRET
//   users           {alice: {password}, bob: {password, totpSecret}, mallory: {password}}
//                   env FLOWDOC_OIDC_ALICE_PASSWORD, FLOWDOC_OIDC_BOB_PASSWORD,
//                       FLOWDOC_OIDC_BOB_TOTP_SECRET, FLOWDOC_OIDC_MALLORY_PASSWORD
//                   defaults: alice/correct-horse-battery, bob/bob-staple-battery with TOTP secret
//                   JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP (160 bits: pyotp refuses < 128), mallory/
//                   mallory-locked-out (locked); client secrets s3cr3t-service-secret (both
//                   service clients), s3cr3t-web-secret and s3cr3t-gateway-secret
//   redirectUris    ["http://127.0.0.1:8765/callback"]   (compared, never fetched)
//   maxOtpFailures  3
//   requireCsrf     true      login/otp/confirm forms carry a hidden `csrf` field that must be
//                             posted back (400 `csrf_mismatch` otherwise)
//   deviceInterval  5         the `interval` (seconds) the device authorization response gives (RFC 8628)
//   deviceSlowDown  true      each device code's second poll is answered `slow_down` (once); a poll
//                             sooner than the interval (interval + 5 s after a slow_down) is answered
//                             `slow_down` too (an expired code: always expired_token). Every device-code poll is logged to stderr as
//                             `device poll KEY #N ANSWER at EPOCH_MS` (KEY: a hash of the device code)
//   stockErrorPage  false     true: oidc-provider's own error page (`<pre><strong>error</strong>:
//                             invalid_redirect_uri</pre>`) instead of ours (id="error")
//
// Interaction (devInteractions disabled; our own HTML forms):
//   GET  /interaction/:uid          login form (username, password, csrf) -> POST /interaction/:uid/login
//                                   or, for a TOTP user after the password, the OTP form -> POST .../otp
//                                   or the consent form -> POST /interaction/:uid/confirm
//   POST /interaction/:uid/login    401 `invalid_credentials` (form again) | 403 `account_locked`
//                                   | 303 -> /auth/:uid (password-only: acr urn:flowdoc:acr:pwd)
//                                   | 303 -> /interaction/:uid (TOTP user: OTP form next)
//   POST /interaction/:uid/otp      401 `invalid_otp` | 403 `mfa_locked` (after maxOtpFailures
//                                   wrong codes in this interaction; stays locked)
//                                   | 303 -> /auth/:uid (acr urn:flowdoc:acr:mfa, amr pwd+otp)
//   POST /interaction/:uid/confirm  decision=approve (or absent): grants every requested OIDC scope
//                                   and resource scope, 303 -> /auth/:uid; decision=deny: ends the
//                                   interaction with error=access_denied, 303 -> /auth/:uid
//   POST /interaction/:uid/abort    ends the interaction with error=access_denied, 303
//
// Device authorization grant (RFC 8628): client `flowdoc-tv` (public, token_endpoint_auth_method none)
//   POST /device/auth               200 {device_code, user_code, verification_uri, verification_uri_complete,
//                                   expires_in (ttl.DeviceCode), interval (deviceInterval)}
//   GET  /device                    the user-code form (xsrf, user_code) -> POST /device: the confirmation
//                                   form (xsrf, user_code, confirm; `abort` denies: access_denied)
//                                   -> POST /device with confirm: the login (and consent) interaction
//                                   above, then the success page (200)
//   POST /token grant_type=urn:ietf:params:oauth:grant-type:device_code
//                                   400 authorization_pending | slow_down | access_denied | expired_token,
//                                   200 tokens once approved
// Introspection (RFC 7662, POST /token/introspection) and revocation (RFC 7009, POST /token/revocation):
// client `flowdoc-reporting` gets opaque client-credentials tokens (no resource), which the API's own
// client `flowdoc-api` introspects.
//
// Client `flowdoc-web` may also use the implicit grant (response_type "id_token token", no PKCE;
// tokens in the redirect's URL fragment), for the deprecated flows/authorization-code-pkce.v1.yaml.
//
// First-party client `flowdoc-gateway` (the gateway below): no consent screen (a grant is made
// on the fly by loadExistingGrant) and a refresh token without offline_access.
//
// Gateway / backend-for-frontend (client flowdoc-gateway, client_secret_basic, PKCE, state, nonce):
//   GET /login      302 -> {issuer}/auth?... with its own PKCE, state and nonce; sets gw_login
//   GET /callback   checks state (against gw_login) and iss, redeems the code itself, verifies the
//                   ID token (signature, iss, aud, nonce); sets gw_session (httpOnly), 302 -> /
//                   400 invalid_request (no login in progress, state or iss mismatch),
//                   401 {error} when the authorization server answered an error
//   GET /api/me, GET /api/admin
//                   with gw_session: forwards to the resource server with the access token; when
//                   the token has expired (or the resource server answers 401) refreshes it once
//                   (one refresh in flight per session, rotated pair stored) and answers with
//                   header X-Token-Refreshed: true; without a session (or when the refresh fails)
//                   401 {"error":"login_required"}
//   GET /           200 a small page (where the callback sends the browser)
//
// Resource server (validates the JWT access token against the provider's /jwks with jose):
//   GET /api/me     200 {"sub","scope","client_id","acr"} | 401 invalid_token | 403 insufficient_scope (api:read)
//   GET /api/admin  as /api/me, plus acr must be urn:flowdoc:acr:mfa, else 403
//                   `Bearer error="insufficient_user_authentication"` (RFC 9470)

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as querystring from 'node:querystring';
import { parseArgs } from 'node:util';

import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

const log = (...args) => process.stderr.write(`[oidc_server] ${args.join(' ')}\n`);
// oidc-provider / koa never write to stdout through console once we redirect it here.
for (const k of ['log', 'info', 'debug', 'warn']) console[k] = (...a) => console.error(...a);

// ---------------------------------------------------------------------------------------------
// configuration
const ACR_PWD = 'urn:flowdoc:acr:pwd';
const ACR_MFA = 'urn:flowdoc:acr:mfa';
const API_SCOPES = ['api:read', 'api:write'];

const DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  resourcePort: 0,
  gatewayPort: 0,
  ttl: {
    AccessToken: 3600,
    ClientCredentials: 600,
    RefreshToken: 14 * 24 * 3600,
    AuthorizationCode: 60,
    DeviceCode: 600,
    IdToken: 3600,
    Interaction: 3600,
    Session: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
  },
  secrets: {
    'flowdoc-service': 's3cr3t-service-secret',
    'flowdoc-service-post': 's3cr3t-service-secret',
    'flowdoc-web': 's3cr3t-web-secret',
    'flowdoc-gateway': 's3cr3t-gateway-secret',
    'flowdoc-reporting': 's3cr3t-reporting-secret',
    'flowdoc-api': 's3cr3t-api-secret',
  },
  users: {
    alice: { password: 'correct-horse-battery' },
    // 160-bit secret: pyotp refuses secrets shorter than 128 bits
    bob: { password: 'bob-staple-battery', totpSecret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' },
    mallory: { password: 'mallory-locked-out' },
  },
  redirectUris: ['http://127.0.0.1:8765/callback'],
  maxOtpFailures: 3,
  requireCsrf: true,
  stockErrorPage: false,
  deviceInterval: 5,
  deviceSlowDown: true,
};

function isObject(v) { return v && typeof v === 'object' && !Array.isArray(v); }
function merge(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) {
    out[k] = isObject(v) && isObject(base?.[k]) ? merge(base[k], v) : v;
  }
  return out;
}

function loadConfig() {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      'exit-with-stdin': { type: 'boolean', default: false },
    },
    strict: true,
  });
  let cfg = DEFAULTS;
  if (process.env.FLOWDOC_OIDC_CONFIG) cfg = merge(cfg, JSON.parse(process.env.FLOWDOC_OIDC_CONFIG));
  const env = process.env;
  const envOver = { secrets: {}, users: { alice: {}, bob: {}, mallory: {} } };
  if (env.FLOWDOC_OIDC_PORT) envOver.port = Number(env.FLOWDOC_OIDC_PORT);
  if (env.FLOWDOC_OIDC_RESOURCE_PORT) envOver.resourcePort = Number(env.FLOWDOC_OIDC_RESOURCE_PORT);
  if (env.FLOWDOC_OIDC_GATEWAY_PORT) envOver.gatewayPort = Number(env.FLOWDOC_OIDC_GATEWAY_PORT);
  if (env.FLOWDOC_OIDC_SERVICE_SECRET) envOver.secrets['flowdoc-service'] = env.FLOWDOC_OIDC_SERVICE_SECRET;
  if (env.FLOWDOC_OIDC_SERVICE_POST_SECRET) envOver.secrets['flowdoc-service-post'] = env.FLOWDOC_OIDC_SERVICE_POST_SECRET;
  else if (env.FLOWDOC_OIDC_SERVICE_SECRET) envOver.secrets['flowdoc-service-post'] = env.FLOWDOC_OIDC_SERVICE_SECRET;
  if (env.FLOWDOC_OIDC_WEB_SECRET) envOver.secrets['flowdoc-web'] = env.FLOWDOC_OIDC_WEB_SECRET;
  if (env.FLOWDOC_OIDC_GATEWAY_SECRET) envOver.secrets['flowdoc-gateway'] = env.FLOWDOC_OIDC_GATEWAY_SECRET;
  if (env.FLOWDOC_OIDC_REPORTING_SECRET) envOver.secrets['flowdoc-reporting'] = env.FLOWDOC_OIDC_REPORTING_SECRET;
  if (env.FLOWDOC_OIDC_API_SECRET) envOver.secrets['flowdoc-api'] = env.FLOWDOC_OIDC_API_SECRET;
  if (env.FLOWDOC_OIDC_ALICE_PASSWORD) envOver.users.alice.password = env.FLOWDOC_OIDC_ALICE_PASSWORD;
  if (env.FLOWDOC_OIDC_BOB_PASSWORD) envOver.users.bob.password = env.FLOWDOC_OIDC_BOB_PASSWORD;
  if (env.FLOWDOC_OIDC_BOB_TOTP_SECRET) envOver.users.bob.totpSecret = env.FLOWDOC_OIDC_BOB_TOTP_SECRET;
  if (env.FLOWDOC_OIDC_MALLORY_PASSWORD) envOver.users.mallory.password = env.FLOWDOC_OIDC_MALLORY_PASSWORD;
  cfg = merge(cfg, envOver);
  if (values.config) cfg = merge(cfg, JSON.parse(values.config));
  return { cfg, exitWithStdin: values['exit-with-stdin'] };
}

const { cfg: CFG, exitWithStdin } = loadConfig();

// ---------------------------------------------------------------------------------------------
// accounts
const ACCOUNTS = {
  alice: {
    password: CFG.users.alice.password,
    claims: { name: 'Alice Example', preferred_username: 'alice', email: 'alice@example.test', email_verified: true },
  },
  bob: {
    password: CFG.users.bob.password,
    totpSecret: CFG.users.bob.totpSecret,
    claims: { name: 'Bob Example', preferred_username: 'bob', email: 'bob@example.test', email_verified: true },
  },
  mallory: {
    password: CFG.users.mallory.password,
    locked: true,
    claims: { name: 'Mallory Example', preferred_username: 'mallory', email: 'mallory@example.test', email_verified: false },
  },
};

async function findAccount(_ctx, sub) {
  const acct = ACCOUNTS[sub];
  if (!acct) return undefined;
  return {
    accountId: sub,
    async claims() {
      return { sub, ...acct.claims };
    },
  };
}

// RFC 6238 TOTP (HMAC-SHA1, 30 s step, 6 digits, +-1 step window)
function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = String(s).toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0; let value = 0; const out = [];
  for (const ch of clean) {
    const idx = alphabet.indexOf(ch);
    if (idx < 0) throw new Error(`invalid base32 character ${ch}`);
    value = (value << 5) | idx; bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}
function hotp(key, counter) {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(BigInt(counter));
  const mac = crypto.createHmac('sha1', key).update(buf).digest();
  const off = mac[mac.length - 1] & 0xf;
  const code = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(code % 1e6).padStart(6, '0');
}
function verifyTotp(secret, code) {
  if (!/^\d{6}$/.test(String(code ?? '').trim())) return false;
  const key = base32Decode(secret);
  const step = Math.floor(Date.now() / 1000 / 30);
  return [-1, 0, 1].some((d) => crypto.timingSafeEqual(Buffer.from(hotp(key, step + d)), Buffer.from(String(code).trim())));
}

// ---------------------------------------------------------------------------------------------
// servers: listen first (port 0), then build the provider with the real issuer
const providerServer = http.createServer();
const resourceServer = http.createServer();
const gatewayServer = http.createServer();
const listen = (srv, port) => new Promise((resolve, reject) => {
  srv.once('error', reject);
  srv.listen(port, CFG.host, () => resolve(srv.address().port));
});
const providerPort = await listen(providerServer, CFG.port);
const resourcePort = await listen(resourceServer, CFG.resourcePort);
const gatewayPort = await listen(gatewayServer, CFG.gatewayPort);
const ISSUER = `http://${CFG.host}:${providerPort}`;
const RESOURCE_ORIGIN = `http://${CFG.host}:${resourcePort}`;
const RESOURCE = `${RESOURCE_ORIGIN}/api`;
const GATEWAY_ORIGIN = `http://${CFG.host}:${gatewayPort}`;
const GATEWAY_CLIENT = 'flowdoc-gateway';
const GATEWAY_REDIRECT_URI = `${GATEWAY_ORIGIN}/callback`;
const GATEWAY_SCOPE = 'openid profile api:read';
// first-party clients: no consent screen, refresh tokens without offline_access
const FIRST_PARTY = new Set([GATEWAY_CLIENT]);

// signing key generated per run
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const privateJwk = { ...(await jose.exportJWK(privateKey)), kid: `flowdoc-${crypto.randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' };

const KNOWN_SCOPES = new Set(['openid', 'offline_access', 'profile', 'email', ...API_SCOPES]);

const configuration = {
  clients: [
    {
      client_id: 'flowdoc-service',
      client_secret: CFG.secrets['flowdoc-service'],
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: API_SCOPES.join(' '),
    },
    {
      client_id: 'flowdoc-service-post',
      client_secret: CFG.secrets['flowdoc-service-post'],
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
      scope: API_SCOPES.join(' '),
    },
    {
      client_id: 'flowdoc-web',
      client_secret: CFG.secrets['flowdoc-web'],
      // 'id_token token' (implicit grant) for the deprecated flows/authorization-code-pkce.v1.yaml
      grant_types: ['authorization_code', 'refresh_token', 'implicit'],
      response_types: ['code', 'id_token token'],
      redirect_uris: CFG.redirectUris,
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: GATEWAY_CLIENT,
      client_secret: CFG.secrets[GATEWAY_CLIENT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [GATEWAY_REDIRECT_URI],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'flowdoc-tv',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'none',
    },
    {
      client_id: 'flowdoc-reporting',
      client_secret: CFG.secrets['flowdoc-reporting'],
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: API_SCOPES.join(' '),
    },
    {
      client_id: 'flowdoc-api',
      client_secret: CFG.secrets['flowdoc-api'],
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'flowdoc-spa',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: CFG.redirectUris,
      token_endpoint_auth_method: 'none',
    },
  ],
  findAccount,
  jwks: { keys: [privateJwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  acrValues: [ACR_PWD, ACR_MFA],
  scopes: [...KNOWN_SCOPES],
  claims: {
    acr: null,
    amr: null,
    auth_time: null,
    sid: null,
    iss: null,
    // acr/amr/auth_time ride on the openid scope so every ID token carries them (oidc-provider
    // otherwise includes them only when asked for with acr_values or the claims parameter)
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  responseTypes: ['code', 'id_token token'],
  pkce: { required: () => true },
  issueRefreshToken: async (_ctx, client, code) => (
    client.grantTypeAllowed('refresh_token')
    && (code.scopes.has('offline_access') || FIRST_PARTY.has(client.clientId))
  ),
  // as oidc-provider's default, plus: a first-party client gets its grant without a consent screen
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    if (FIRST_PARTY.has(ctx.oidc.client.clientId) && ctx.oidc.account) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.account.accountId,
      });
      grant.addOIDCScope(['openid', 'profile', 'email', ...API_SCOPES].join(' '));
      grant.addResourceScope(RESOURCE, API_SCOPES.join(' '));
      await grant.save();
      return grant;
    }
    return undefined;
  },
  rotateRefreshToken: true,
  ttl: { ...CFG.ttl },
  interactions: {
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  // the acr/amr of the login are copied into JWT access tokens so the resource server can
  // demand step-up (RFC 9470)
  extraTokenClaims: async (ctx, token) => {
    if (!token.accountId) return undefined;
    const src = ctx?.oidc?.entities?.AuthorizationCode ?? ctx?.oidc?.entities?.RefreshToken;
    if (!src?.acr) return undefined;
    return { acr: src.acr, amr: src.amr, auth_time: src.authTime };
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    deviceFlow: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // No `resource` parameter: the API is the default audience (JWT access token), except
      // for a pure OpenID login (scope has openid and no api:* scope) in the authorization
      // code flow, which gets an opaque access token for /me (userinfo) that /token/introspection
      // can introspect. client_credentials always gets the API (JWT).
      defaultResource: async (ctx, _client, oneOf) => {
        if (oneOf) return oneOf;
        // flowdoc-reporting: opaque client-credentials tokens, for introspection and revocation
        if (ctx.oidc?.client?.clientId === 'flowdoc-reporting') return undefined;
        const scopes = String(ctx.oidc?.params?.scope ?? '').split(' ').filter(Boolean);
        const grantType = ctx.oidc?.params?.grant_type;
        if (grantType !== 'client_credentials' && scopes.includes('openid')
          && !scopes.some((s) => API_SCOPES.includes(s))) {
          return undefined;
        }
        return RESOURCE;
      },
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
        if (ctx.oidc?.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials') {
          for (const s of String(ctx.oidc.params.scope ?? '').split(' ').filter(Boolean)) {
            if (!API_SCOPES.includes(s)) throw new errors.InvalidScope('requested scope is not allowed', s);
          }
        }
        return {
          scope: API_SCOPES.join(' '),
          audience: RESOURCE,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  renderError: CFG.stockErrorPage ? undefined : async (ctx, out, error) => {
    ctx.type = 'html';
    ctx.body = page('Error', `<h1>${esc(out.error)}</h1>
<p class="error" id="error">${esc(out.error)}</p>
<p id="error_description">${esc(out.error_description ?? '')}</p>`);
    if (error?.status >= 500) log('server error', error?.stack ?? error);
  },
};

const provider = new Provider(ISSUER, configuration);
// oidc-provider refuses http:// and localhost redirect URIs for web clients that use the implicit
// grant; the test redirect URIs are loopback http (compared, never fetched), so allow them
// (the recipe from oidc-provider's documentation, limited to those two checks).
{
  const { invalidate: orig } = provider.Client.Schema.prototype;
  provider.Client.Schema.prototype.invalidate = function invalidate(message, code) {
    if (code === 'implicit-force-https' || code === 'implicit-forbid-localhost') return;
    orig.call(this, message, code);
  };
}
provider.on('server_error', (_ctx, err) => log('server_error', err?.stack ?? err));

// ---------------------------------------------------------------------------------------------
// device flow: the `interval` of the device authorization response, and slow_down (RFC 8628 §3.5)
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const devicePolls = new Map(); // hash of the device code -> { n, last, interval }
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/token' && ctx.is('application/x-www-form-urlencoded')) {
    const chunks = [];
    let size = 0;
    for await (const c of ctx.req) {
      size += c.length;
      if (size > 56 * 1024) ctx.throw(413);
      chunks.push(c);
    }
    const form = querystring.parse(Buffer.concat(chunks).toString('utf8'));
    ctx.request.body = form; // oidc-provider reads an upstream-parsed body
    if (form.grant_type === DEVICE_GRANT && typeof form.device_code === 'string') {
      const key = crypto.createHash('sha256').update(form.device_code).digest('hex').slice(0, 12);
      const st = devicePolls.get(key) ?? { n: 0, last: 0, interval: CFG.deviceInterval };
      devicePolls.set(key, st);
      const now = Date.now();
      st.n += 1;
      const early = st.last && now - st.last < st.interval * 1000 - 50;
      const gap = st.last ? now - st.last : 0;
      st.last = now;
      // an expired code is answered expired_token whenever it is polled
      const code = await provider.DeviceCode.find(form.device_code, { ignoreExpiration: true }).catch(() => undefined);
      if (!code?.isExpired && (early || (CFG.deviceSlowDown && st.n === 2))) {
        st.interval += 5;
        ctx.status = 400;
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error: 'slow_down', error_description: `poll at most every ${st.interval} s` };
        log(`device poll ${key} #${st.n} slow_down at ${now} gap ${gap}${early ? ' (too early)' : ''}`);
        return;
      }
      await next();
      log(`device poll ${key} #${st.n} ${ctx.body?.error ?? ctx.status} at ${now} gap ${gap}`);
      return;
    }
  }
  await next();
  if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
    ctx.body = { ...ctx.body, interval: CFG.deviceInterval };
  }
});

// ---------------------------------------------------------------------------------------------
// HTML
function esc(s) {
  return String(s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body>
${body}
</body></html>
`;
}
const csrfKey = crypto.randomBytes(32);
const csrfFor = (uid) => crypto.createHmac('sha256', csrfKey).update(uid).digest('base64url');

function loginPage(uid, details, error) {
  return page('Sign in', `<h1>Sign in</h1>
<p>Client: <code>${esc(details.params.client_id)}</code></p>
${error ? `<p class="error" id="error">${esc(error)}</p>` : ''}
<form id="login" method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">
  <input type="hidden" name="csrf" value="${esc(csrfFor(uid))}">
  <label>Username <input type="text" name="username" required></label>
  <label>Password <input type="password" name="password" required></label>
  <button type="submit">Sign in</button>
</form>
<form id="abort" method="post" action="/interaction/${esc(uid)}/abort">
  <input type="hidden" name="csrf" value="${esc(csrfFor(uid))}">
  <button type="submit">Cancel</button>
</form>`);
}
function otpPage(uid, error) {
  return page('Two-factor authentication', `<h1>Enter your one-time code</h1>
${error ? `<p class="error" id="error">${esc(error)}</p>` : ''}
<form id="otp" method="post" action="/interaction/${esc(uid)}/otp" autocomplete="off">
  <input type="hidden" name="csrf" value="${esc(csrfFor(uid))}">
  <label>Code <input type="text" name="otp" inputmode="numeric" pattern="[0-9]{6}" required></label>
  <button type="submit">Verify</button>
</form>`);
}
function consentPage(uid, details) {
  const d = details.prompt.details ?? {};
  const scopes = [...(d.missingOIDCScope ?? [])];
  const resourceScopes = Object.entries(d.missingResourceScopes ?? {});
  return page('Authorize', `<h1>Authorize ${esc(details.params.client_id)}</h1>
<ul id="scopes">${scopes.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>
<ul id="resource-scopes">${resourceScopes.map(([r, ss]) => `<li>${esc(r)}: ${ss.map(esc).join(' ')}</li>`).join('')}</ul>
<form id="consent" method="post" action="/interaction/${esc(uid)}/confirm">
  <input type="hidden" name="csrf" value="${esc(csrfFor(uid))}">
  <button type="submit" name="decision" value="approve">Allow</button>
  <button type="submit" name="decision" value="deny">Deny</button>
</form>
<form id="abort" method="post" action="/interaction/${esc(uid)}/abort">
  <input type="hidden" name="csrf" value="${esc(csrfFor(uid))}">
  <button type="submit">Deny</button>
</form>`);
}
function errorPage(error, description) {
  return page('Error', `<h1>${esc(error)}</h1>
<p class="error" id="error">${esc(error)}</p>
<p id="error_description">${esc(description ?? '')}</p>`);
}

function send(res, status, body, headers = {}) {
  res.statusCode = status;
  const isJson = typeof body !== 'string';
  const payload = isJson ? JSON.stringify(body) : body;
  res.setHeader('Content-Type', isJson ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Content-Length', Buffer.byteLength(payload));
  res.end(payload);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const ctype = String(req.headers['content-type'] ?? '');
  if (ctype.includes('application/json')) return text ? JSON.parse(text) : {};
  return Object.fromEntries(new URLSearchParams(text));
}

// ---------------------------------------------------------------------------------------------
// interactions
// per-interaction state: { stage: 'otp', accountId, failures, locked }
const pending = new Map();

async function handleInteraction(req, res, uid, action) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    // no/expired _interaction cookie, unknown uid
    return send(res, 400, errorPage(err.error ?? 'invalid_request', err.error_description ?? err.message));
  }
  if (details.uid !== uid) {
    return send(res, 400, errorPage('invalid_request', 'interaction uid does not match the interaction cookie'));
  }
  const state = pending.get(uid);
  const promptName = details.prompt.name;

  if (req.method === 'GET' && !action) {
    if (state?.locked) return send(res, 403, errorPage('mfa_locked', 'too many wrong one-time codes'));
    if (promptName === 'login') {
      if (state?.stage === 'otp') return send(res, 200, otpPage(uid));
      return send(res, 200, loginPage(uid, details));
    }
    if (promptName === 'consent') return send(res, 200, consentPage(uid, details));
    return send(res, 400, errorPage('invalid_request', `unsupported prompt ${promptName}`));
  }

  if (req.method !== 'POST' || !action) {
    return send(res, 405, errorPage('invalid_request', 'method not allowed'), { Allow: 'GET, POST' });
  }
  const form = await readForm(req);
  if (CFG.requireCsrf && form.csrf !== csrfFor(uid)) {
    return send(res, 400, errorPage('csrf_mismatch', 'missing or wrong csrf field'));
  }

  if (action === 'abort') {
    pending.delete(uid);
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }

  if (action === 'login') {
    if (promptName !== 'login') return send(res, 400, errorPage('invalid_request', 'login is not expected now'));
    if (state?.locked) return send(res, 403, errorPage('mfa_locked', 'too many wrong one-time codes'));
    const username = String(form.username ?? '');
    const acct = Object.hasOwn(ACCOUNTS, username) ? ACCOUNTS[username] : undefined;
    const ok = acct && crypto.timingSafeEqual(
      crypto.createHash('sha256').update(String(form.password ?? '')).digest(),
      crypto.createHash('sha256').update(acct.password).digest(),
    );
    if (!ok) {
      log(`login failed for ${JSON.stringify(username)}`);
      return send(res, 401, loginPage(uid, details, 'invalid_credentials'));
    }
    if (acct.locked) {
      log(`login refused: ${username} is locked`);
      return send(res, 403, errorPage('account_locked', 'this account is locked'));
    }
    if (acct.totpSecret) {
      pending.set(uid, { stage: 'otp', accountId: username, failures: 0, locked: false });
      setTimeout(() => pending.delete(uid), CFG.ttl.Interaction * 1000).unref();
      res.statusCode = 303;
      res.setHeader('Location', `/interaction/${uid}`);
      res.setHeader('Content-Length', '0');
      return res.end();
    }
    return provider.interactionFinished(req, res, {
      login: { accountId: username, acr: ACR_PWD, amr: ['pwd'] },
    }, { mergeWithLastSubmission: false });
  }

  if (action === 'otp') {
    if (!state || state.stage !== 'otp') return send(res, 400, errorPage('invalid_request', 'no one-time code expected'));
    if (state.locked) return send(res, 403, errorPage('mfa_locked', 'too many wrong one-time codes'));
    const acct = ACCOUNTS[state.accountId];
    if (!verifyTotp(acct.totpSecret, form.otp)) {
      state.failures += 1;
      log(`wrong otp for ${state.accountId} (${state.failures}/${CFG.maxOtpFailures})`);
      if (state.failures >= CFG.maxOtpFailures) {
        state.locked = true;
        return send(res, 403, errorPage('mfa_locked', 'too many wrong one-time codes'));
      }
      return send(res, 401, otpPage(uid, 'invalid_otp'));
    }
    pending.delete(uid);
    return provider.interactionFinished(req, res, {
      login: { accountId: state.accountId, acr: ACR_MFA, amr: ['pwd', 'otp'] },
    }, { mergeWithLastSubmission: false });
  }

  if (action === 'confirm') {
    if (promptName !== 'consent') return send(res, 400, errorPage('invalid_request', 'consent is not expected now'));
    if (form.decision === 'deny') {
      pending.delete(uid);
      return provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'End-User denied the requested scopes',
      }, { mergeWithLastSubmission: false });
    }
    const { prompt: { details: d }, params, session } = details;
    let { grantId } = details;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    grantId = await grant.save();
    const consent = {};
    if (!details.grantId) consent.grantId = grantId;
    return provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
  }

  return send(res, 404, errorPage('invalid_request', 'unknown interaction action'));
}

const providerCallback = provider.callback();
providerServer.on('request', (req, res) => {
  const started = Date.now();
  res.on('finish', () => log(`${req.method} ${req.url.split('?')[0]} -> ${res.statusCode} (${Date.now() - started} ms)`));
  const path = (req.url ?? '/').split('?')[0];
  const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|otp|confirm|abort))?\/?$/.exec(path);
  if (m) {
    handleInteraction(req, res, m[1], m[2]).catch((err) => {
      log('interaction error', err?.stack ?? err);
      if (!res.headersSent) send(res, 500, errorPage('server_error', 'interaction failed'));
      else res.end();
    });
    return;
  }
  providerCallback(req, res);
});

// ---------------------------------------------------------------------------------------------
// resource server
const JWKS = jose.createRemoteJWKSet(new URL(`${ISSUER}/jwks`));

function bearerError(res, status, error, description, extra = {}) {
  const params = [`error="${error}"`, `error_description="${description.replace(/"/g, "'")}"`];
  for (const [k, v] of Object.entries(extra)) params.push(`${k}="${v}"`);
  send(res, status, { error, error_description: description, ...extra }, {
    'WWW-Authenticate': `Bearer ${params.join(', ')}`,
  });
}

resourceServer.on('request', async (req, res) => {
  const started = Date.now();
  res.on('finish', () => log(`RS ${req.method} ${req.url} -> ${res.statusCode} (${Date.now() - started} ms)`));
  try {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/api/me' && path !== '/api/admin') return send(res, 404, { error: 'not_found' });
    if (req.method !== 'GET') return send(res, 405, { error: 'method_not_allowed' }, { Allow: 'GET' });
    const auth = String(req.headers.authorization ?? '');
    const mm = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(auth);
    if (!mm) return bearerError(res, 401, 'invalid_token', 'missing bearer access token');
    let payload;
    try {
      ({ payload } = await jose.jwtVerify(mm[1], JWKS, {
        issuer: ISSUER,
        audience: RESOURCE,
        typ: 'at+jwt',
        algorithms: ['RS256'],
      }));
    } catch (err) {
      const description = err?.code === 'ERR_JWT_EXPIRED' ? 'access token expired' : `access token invalid (${err?.code ?? err?.message})`;
      return bearerError(res, 401, 'invalid_token', description);
    }
    const scopes = new Set(String(payload.scope ?? '').split(' ').filter(Boolean));
    if (!scopes.has('api:read')) {
      return bearerError(res, 403, 'insufficient_scope', 'api:read is required', { scope: 'api:read' });
    }
    if (path === '/api/admin' && payload.acr !== ACR_MFA) {
      return bearerError(res, 403, 'insufficient_user_authentication',
        'a multi-factor login is required', { acr_values: ACR_MFA });
    }
    return send(res, 200, {
      sub: payload.sub,
      scope: payload.scope ?? '',
      client_id: payload.client_id,
      acr: payload.acr ?? null,
      ...(path === '/api/admin' ? { admin: true } : {}),
    });
  } catch (err) {
    log('resource server error', err?.stack ?? err);
    if (!res.headersSent) send(res, 500, { error: 'server_error' });
  }
});

// ---------------------------------------------------------------------------------------------
// gateway (backend-for-frontend): signs the browser in with its own client, keeps the tokens
const gwLogins = new Map(); // gw_login cookie -> { state, nonce, verifier }
const gwSessions = new Map(); // gw_session cookie -> { accessToken, refreshToken, expiresAt, refreshing }
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const randomId = (n = 32) => b64url(crypto.randomBytes(n));

function parseCookies(req) {
  const out = {};
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}
function redirectTo(res, status, location, headers = {}) {
  res.statusCode = status;
  res.setHeader('Location', location);
  res.setHeader('Cache-Control', 'no-store');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Content-Length', '0');
  res.end();
}
async function gatewayTokenRequest(params) {
  const basic = Buffer.from(`${encodeURIComponent(GATEWAY_CLIENT)}:${encodeURIComponent(CFG.secrets[GATEWAY_CLIENT])}`).toString('base64');
  const r = await fetch(`${ISSUER}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}
function storeTokens(session, body) {
  session.accessToken = body.access_token;
  if (body.refresh_token) session.refreshToken = body.refresh_token;
  session.expiresAt = Date.now() + Number(body.expires_in ?? 0) * 1000;
}
// one refresh in flight per session: concurrent callers wait for the same result
function refreshSession(session) {
  if (!session.refreshing) {
    session.refreshing = (async () => {
      const r = await gatewayTokenRequest({ grant_type: 'refresh_token', refresh_token: session.refreshToken });
      if (r.status !== 200) throw new Error(`refresh failed: ${r.status} ${r.body.error}`);
      storeTokens(session, r.body);
    })().finally(() => { session.refreshing = null; });
  }
  return session.refreshing;
}
async function forwardToApi(path, accessToken) {
  const r = await fetch(`${RESOURCE_ORIGIN}${path}`, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: r.status, body: await r.json().catch(() => ({ error: 'bad_gateway' })) };
}

gatewayServer.on('request', async (req, res) => {
  const started = Date.now();
  res.on('finish', () => log(`GW ${req.method} ${req.url.split('?')[0]} -> ${res.statusCode} (${Date.now() - started} ms)`));
  try {
    const url = new URL(req.url ?? '/', GATEWAY_ORIGIN);
    if (req.method !== 'GET') return send(res, 405, { error: 'method_not_allowed' }, { Allow: 'GET' });
    const cookies = parseCookies(req);

    if (url.pathname === '/login') {
      const loginId = randomId();
      const login = { state: randomId(16), nonce: randomId(16), verifier: randomId(48) };
      gwLogins.set(loginId, login);
      setTimeout(() => gwLogins.delete(loginId), CFG.ttl.Interaction * 1000).unref();
      const challenge = b64url(crypto.createHash('sha256').update(login.verifier).digest());
      const q = new URLSearchParams({
        response_type: 'code',
        client_id: GATEWAY_CLIENT,
        redirect_uri: GATEWAY_REDIRECT_URI,
        scope: GATEWAY_SCOPE,
        state: login.state,
        nonce: login.nonce,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      return redirectTo(res, 302, `${ISSUER}/auth?${q}`, {
        'Set-Cookie': `gw_login=${loginId}; Path=/; HttpOnly; SameSite=Lax`,
      });
    }

    if (url.pathname === '/callback') {
      const login = gwLogins.get(cookies.gw_login ?? '');
      const p = url.searchParams;
      if (!login) return send(res, 400, { error: 'invalid_request', error_description: 'no sign-in in progress' });
      if (p.get('state') !== login.state) {
        return send(res, 400, { error: 'invalid_request', error_description: 'state does not match' });
      }
      gwLogins.delete(cookies.gw_login);
      if (p.get('iss') !== ISSUER) return send(res, 400, { error: 'invalid_request', error_description: 'iss does not match' });
      if (p.get('error')) {
        return send(res, 401, { error: p.get('error'), error_description: p.get('error_description') ?? '' });
      }
      const tok = await gatewayTokenRequest({
        grant_type: 'authorization_code',
        code: p.get('code') ?? '',
        redirect_uri: GATEWAY_REDIRECT_URI,
        code_verifier: login.verifier,
      });
      if (tok.status !== 200) {
        return send(res, 401, { error: 'login_required', error_description: `code exchange failed (${tok.body.error})` });
      }
      const { payload } = await jose.jwtVerify(tok.body.id_token, JWKS, { issuer: ISSUER, audience: GATEWAY_CLIENT });
      if (payload.nonce !== login.nonce) return send(res, 401, { error: 'login_required', error_description: 'nonce mismatch' });
      const sid = randomId();
      const session = { sub: payload.sub, refreshing: null };
      storeTokens(session, tok.body);
      gwSessions.set(sid, session);
      return redirectTo(res, 302, '/', {
        'Set-Cookie': [
          `gw_session=${sid}; Path=/; HttpOnly; SameSite=Lax`,
          'gw_login=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax',
        ],
      });
    }

    if (url.pathname === '/api/me' || url.pathname === '/api/admin') {
      const sid = cookies.gw_session ?? '';
      const session = gwSessions.get(sid);
      if (!session) return send(res, 401, { error: 'login_required', error_description: 'no gateway session' });
      let refreshed = false;
      try {
        if (Date.now() >= session.expiresAt) {
          await refreshSession(session);
          refreshed = true;
        }
        let r = await forwardToApi(url.pathname, session.accessToken);
        if (r.status === 401 && !refreshed) {
          await refreshSession(session);
          refreshed = true;
          r = await forwardToApi(url.pathname, session.accessToken);
        }
        return send(res, r.status, r.body, refreshed ? { 'X-Token-Refreshed': 'true' } : {});
      } catch (err) {
        log('gateway refresh failed', err?.message ?? err);
        gwSessions.delete(sid);
        return send(res, 401, { error: 'login_required', error_description: 'the session has ended' });
      }
    }

    if (url.pathname === '/') {
      const session = gwSessions.get(cookies.gw_session ?? '');
      return send(res, 200, page('App', session ? '<h1>Signed in</h1>' : '<h1>Signed out</h1><p><a href="/login">Sign in</a></p>'));
    }
    return send(res, 404, { error: 'not_found' });
  } catch (err) {
    log('gateway error', err?.stack ?? err);
    if (!res.headersSent) send(res, 500, { error: 'server_error' });
  }
});

// ---------------------------------------------------------------------------------------------
let stopping = false;
function shutdown(reason) {
  if (stopping) return;
  stopping = true;
  log(`shutting down (${reason})`);
  providerServer.closeAllConnections?.();
  resourceServer.closeAllConnections?.();
  gatewayServer.closeAllConnections?.();
  providerServer.close();
  resourceServer.close();
  gatewayServer.close();
  setTimeout(() => process.exit(0), 200).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (exitWithStdin) {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}

log(`provider ${ISSUER} resource ${RESOURCE} gateway ${GATEWAY_ORIGIN} ttl ${JSON.stringify(CFG.ttl)}`);
// one JSON line, formatted like Python's json.dumps: {"issuer": "...", "resource": "...", "gateway": "..."}
process.stdout.write(`{"issuer": ${JSON.stringify(ISSUER)}, "resource": ${JSON.stringify(RESOURCE_ORIGIN)}, "gateway": ${JSON.stringify(GATEWAY_ORIGIN)}}\n`);
