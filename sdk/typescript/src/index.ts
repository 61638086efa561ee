// The Back Office API for TypeScript on Node.js: every gRPC service as a
// Connect client over HTTP/2 gRPC straight to the server's gRPC port (not
// through Envoy), each call carrying `authorization: Bearer <token>`.
//
//   const token = await fetchToken({ httpUrl: "http://127.0.0.1:8080",
//     clientId: "sandbox-client", clientSecret: "sandbox-secret" });
//   const bank = createBackofficeClient({ baseUrl: "http://127.0.0.1:50051",
//     token: token.accessToken });
//   const { balance } = await bank.accounts.getAccountBalance({ accountId });
//
// Messages and enums are in ./gen (protoc-gen-es, committed; `make sdk-ts`
// regenerates them from protos/).

import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AccountService } from "./gen/backoffice/v1/account_service_pb.js";
import { AuditService } from "./gen/backoffice/v1/audit_service_pb.js";
import { ClientService, OAuthService } from "./gen/backoffice/v1/auth_service_pb.js";
import { ChallengeService } from "./gen/backoffice/v1/challenge_service_pb.js";
import { DisputeService } from "./gen/backoffice/v1/dispute_service_pb.js";
import { LedgerService } from "./gen/backoffice/v1/ledger_service_pb.js";
import { PayeeService } from "./gen/backoffice/v1/payee_service_pb.js";
import { RefundService } from "./gen/backoffice/v1/refund_service_pb.js";
import { ReportService } from "./gen/backoffice/v1/report_service_pb.js";
import { RiskService } from "./gen/backoffice/v1/risk_service_pb.js";
import { SandboxService } from "./gen/backoffice/v1/sandbox_service_pb.js";
import { StatementService } from "./gen/backoffice/v1/statement_service_pb.js";
import { TransactionService } from "./gen/backoffice/v1/transaction_service_pb.js";
import { UserService } from "./gen/backoffice/v1/user_service_pb.js";
import { WebhookService } from "./gen/backoffice/v1/webhook_service_pb.js";

export { Code, ConnectError } from "@connectrpc/connect";
export { errorInfo, errorReason, fieldViolations } from "./errors.js";
export {
  type AccessToken,
  type ClientCredentials,
  clientCredentialsTokenSource,
  fetchToken,
  OAuthError,
} from "./oauth.js";

/** A fixed access token, or a function that gives one per call (refreshing as it likes). */
export type TokenSource = string | (() => string | Promise<string>);

export interface BackofficeClientOptions {
  /**
   * The gRPC port: `http://127.0.0.1:50051`, or `host:port` (plaintext).
   * Use `https://` when the server runs with BANK_GRPC_TLS and pass
   * `nodeOptions` (ca, cert, key) for its CA and a client certificate.
   */
  baseUrl: string;
  /** Sent as `authorization: Bearer <token>` on every call. */
  token: TokenSource;
  /** Deadline of each call in milliseconds (default 30,000); a call's own `timeoutMs` wins. */
  timeoutMs?: number;
  /** More interceptors, run after the one that adds the token. */
  interceptors?: Interceptor[];
  /** TLS options for node:http2 (`ca`, `cert`, `key`, `servername`). */
  nodeOptions?: Parameters<typeof createGrpcTransport>[0]["nodeOptions"];
}

/** One client per service of backoffice.v1, sharing one HTTP/2 connection. */
export interface BackofficeClient {
  accounts: Client<typeof AccountService>;
  audit: Client<typeof AuditService>;
  challenges: Client<typeof ChallengeService>;
  clients: Client<typeof ClientService>;
  disputes: Client<typeof DisputeService>;
  ledger: Client<typeof LedgerService>;
  oauth: Client<typeof OAuthService>;
  payees: Client<typeof PayeeService>;
  refunds: Client<typeof RefundService>;
  reports: Client<typeof ReportService>;
  risk: Client<typeof RiskService>;
  sandbox: Client<typeof SandboxService>;
  statements: Client<typeof StatementService>;
  transactions: Client<typeof TransactionService>;
  users: Client<typeof UserService>;
  webhooks: Client<typeof WebhookService>;
  /** The transport, for services added later or createClient of your own. */
  transport: Transport;
}

/** Adds `authorization: Bearer <token>` to every call that does not set its own. */
export function bearerAuth(token: TokenSource): Interceptor {
  return (next) => async (request) => {
    if (!request.header.has("authorization")) {
      const value = typeof token === "string" ? token : await token();
      request.header.set("authorization", `Bearer ${value}`);
    }
    return next(request);
  };
}

/** Builds the client; no connection is made until the first call. */
export function createBackofficeClient(options: BackofficeClientOptions): BackofficeClient {
  const baseUrl = /^https?:\/\//.test(options.baseUrl) ? options.baseUrl : `http://${options.baseUrl}`;
  const transport = createGrpcTransport({
    baseUrl,
    defaultTimeoutMs: options.timeoutMs ?? 30_000,
    interceptors: [bearerAuth(options.token), ...(options.interceptors ?? [])],
    ...(options.nodeOptions ? { nodeOptions: options.nodeOptions } : {}),
  });
  return {
    accounts: createClient(AccountService, transport),
    audit: createClient(AuditService, transport),
    challenges: createClient(ChallengeService, transport),
    clients: createClient(ClientService, transport),
    disputes: createClient(DisputeService, transport),
    ledger: createClient(LedgerService, transport),
    oauth: createClient(OAuthService, transport),
    payees: createClient(PayeeService, transport),
    refunds: createClient(RefundService, transport),
    reports: createClient(ReportService, transport),
    risk: createClient(RiskService, transport),
    sandbox: createClient(SandboxService, transport),
    statements: createClient(StatementService, transport),
    transactions: createClient(TransactionService, transport),
    users: createClient(UserService, transport),
    webhooks: createClient(WebhookService, transport),
    transport,
  };
}
