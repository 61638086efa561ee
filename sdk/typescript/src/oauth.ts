// OAuth 2.0 client credentials over REST: POST <httpUrl>/oauth/token with the
// client's id and secret in HTTP Basic auth (RFC 6749 section 4.4). Uses the
// global fetch of Node.js 20+.

/** An access token as the token endpoint answers it. */
export interface AccessToken {
  accessToken: string;
  tokenType: string;
  /** Seconds the token is valid for, counted from `obtainedAt`. */
  expiresIn: number;
  scope: string;
  /** When the answer arrived (milliseconds since the epoch). */
  obtainedAt: number;
}

export interface ClientCredentials {
  /** Envoy's HTTP listener, e.g. `http://127.0.0.1:8080` (no trailing path). */
  httpUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes; empty asks for all the client's scopes. */
  scope?: string;
  /** Abort the request after this many milliseconds (default 30,000). */
  timeoutMs?: number;
}

/** The endpoint refused: the RFC 6749 error (`invalid_client`, ...) and the HTTP status. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`token endpoint answered ${status} ${error}${description ? `: ${description}` : ""}`);
    this.name = "OAuthError";
  }
}

/** Fetches an access token with the client credentials grant. */
export async function fetchToken(credentials: ClientCredentials): Promise<AccessToken> {
  const form = new URLSearchParams({ grant_type: "client_credentials" });
  if (credentials.scope) {
    form.set("scope", credentials.scope);
  }
  const basic = Buffer.from(
    `${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`,
  ).toString("base64");
  const response = await fetch(`${credentials.httpUrl.replace(/\/+$/, "")}/oauth/token`, {
    method: "POST",
    headers: {
      authorization: `Basic ${basic}`,
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    },
    body: form.toString(),
    signal: AbortSignal.timeout(credentials.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's page): reported below with the status.
  }
  if (!response.ok || typeof body.access_token !== "string") {
    throw new OAuthError(
      response.status,
      typeof body.error === "string" ? body.error : "invalid_response",
      typeof body.error_description === "string" ? body.error_description : text.slice(0, 200),
    );
  }
  return {
    accessToken: body.access_token,
    tokenType: typeof body.token_type === "string" ? body.token_type : "Bearer",
    expiresIn: typeof body.expires_in === "number" ? body.expires_in : 0,
    scope: typeof body.scope === "string" ? body.scope : "",
    obtainedAt: Date.now(),
  };
}

/**
 * A token source that fetches a token when it has none or when the one it
 * has is within `marginSeconds` of expiry; concurrent callers share one fetch.
 */
export function clientCredentialsTokenSource(
  credentials: ClientCredentials,
  marginSeconds = 60,
): () => Promise<string> {
  let current: AccessToken | undefined;
  let pending: Promise<AccessToken> | undefined;
  return async () => {
    const now = Date.now();
    if (current && now < current.obtainedAt + (current.expiresIn - marginSeconds) * 1000) {
      return current.accessToken;
    }
    pending ??= fetchToken(credentials).finally(() => {
      pending = undefined;
    });
    current = await pending;
    return current.accessToken;
  };
}
