// A real OpenID Connect provider (panva/oidc-provider, a certified implementation) for
// core-auth's sign-in tests. Its login and consent screens are replaced by one step
// that signs in the account named by `login_hint` (a standard authorization request
// parameter the test adds), so the tests drive every redirect themselves.
//
// Environment: PORT, REDIRECT_URIS (comma-separated), ACCOUNTS (JSON: id -> claims).
// Prints `ready <issuer>` once it listens.

import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.ACCOUNTS ?? '{}');

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'hatchery',
      client_secret: 'hatchery-test-secret',
      redirect_uris: (process.env.REDIRECT_URIS ?? '').split(',').filter(Boolean),
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['preferred_username', 'name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['hatchery-test-cookie-key'] },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});

const server = http.createServer(async (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    try {
      const details = await provider.interactionDetails(req, res);
      const accountId = details.params.login_hint;
      if (!accounts[accountId]) {
        await provider.interactionFinished(req, res, {
          error: 'access_denied',
          error_description: 'no such account',
        });
        return;
      }
      const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, {
        login: { accountId },
        consent: { grantId },
      }, { mergeWithLastSubmission: false });
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
    return;
  }
  provider.callback()(req, res);
});

server.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
