// A real OpenID provider (the `oidc-provider` package) for the single sign-on tests.
//
// Started by tests/oidc_provider.py with one JSON argument:
//   {"redirect_uri": "...", "secret": "...", "clients": ["afterword", ...]}
// It listens on 127.0.0.1 at a free port and prints one JSON line, {"issuer": "..."},
// once it is ready. Its development login form accepts any login: the login becomes
// the account's subject (`sub`), and its e-mail claim is `<login>@example.com`.
//
// The client "afterword-wrong-audience" is the one deliberate fault: its ID tokens are
// issued for another audience ("someone-else"), as if the provider had mixed up its
// clients, so the portal's own audience check can be tested against a real token.
import { once } from 'node:events';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const WRONG_AUDIENCE_CLIENT = 'afterword-wrong-audience';
const options = JSON.parse(process.argv[2] ?? '{}');

const server = createServer();
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: options.clients.map((clientId) => ({
    client_id: clientId,
    client_secret: options.secret,
    redirect_uris: [options.redirect_uri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  // Every authorization request must carry a PKCE challenge (S256).
  pkce: { required: () => true },
  cookies: { keys: ['afterword test provider cookie key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // Like Microsoft Entra ID and Google: the scopes' claims in the ID token itself.
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@example.com`, email_verified: true, name: id };
      },
    };
  },
});

const issue = provider.IdToken.prototype.issue;
provider.IdToken.prototype.issue = function issueMaybeForSomeoneElse(...args) {
  if (this.client?.clientId === WRONG_AUDIENCE_CLIENT) {
    const client = this.client;
    this.client = new Proxy(client, {
      get: (target, name) => (name === 'clientId' ? 'someone-else' : Reflect.get(target, name, target)),
    });
  }
  return issue.apply(this, args);
};

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => { server.close(); process.exit(0); });
