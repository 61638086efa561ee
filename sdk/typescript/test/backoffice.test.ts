// The SDK against a running server: BACKOFFICE_GRPC (host:port of the gRPC
// port) and BACKOFFICE_URL (Envoy's HTTP listener, for the OAuth token).
// Run by tests/sdk/test_typescript_sdk.py on both databases, or by hand:
//   BACKOFFICE_GRPC=127.0.0.1:50051 BACKOFFICE_URL=http://127.0.0.1:8080 npm test

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, test } from "node:test";
import {
  type BackofficeClient,
  clientCredentialsTokenSource,
  Code,
  ConnectError,
  createBackofficeClient,
  errorReason,
  fetchToken,
  fieldViolations,
  OAuthError,
} from "../src/index.js";
import { AccountTypeEnum_AccountType } from "../src/gen/backoffice/v1/account_pb.js";
import {
  DepositMethodEnum_DepositMethod,
  TransactionStatusEnum_TransactionStatus,
} from "../src/gen/backoffice/v1/transaction_pb.js";

const grpcTarget = process.env.BACKOFFICE_GRPC;
const httpUrl = process.env.BACKOFFICE_URL;
const clientId = process.env.BACKOFFICE_CLIENT_ID ?? "sandbox-client";
const clientSecret = process.env.BACKOFFICE_CLIENT_SECRET ?? "sandbox-secret";

/** The ConnectError a call rejected with (fails when it did not reject). */
async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  assert.fail("the call succeeded");
}

describe("Back Office SDK", { skip: !grpcTarget || !httpUrl ? "BACKOFFICE_GRPC and BACKOFFICE_URL are not set" : false }, () => {
  let bank: BackofficeClient;
  let ownerId: string;

  before(async () => {
    const token = await fetchToken({ httpUrl: httpUrl!, clientId, clientSecret });
    assert.equal(token.tokenType.toLowerCase(), "bearer");
    assert.ok(token.expiresIn > 0);
    bank = createBackofficeClient({ baseUrl: grpcTarget!, token: token.accessToken });
    const { user } = await bank.users.createUser({
      email: `ts-sdk.${randomUUID().slice(0, 12)}@example.com`,
      name: "TypeScript SDK Test",
      password: "Vault-Lamp-Orbit-93",
    });
    assert.ok(user);
    assert.ok(user.id.startsWith("usr_"), user.id);
    ownerId = user.id;
  });

  test("a wrong client secret is an OAuthError 401 invalid_client", async () => {
    await assert.rejects(
      fetchToken({ httpUrl: httpUrl!, clientId, clientSecret: `${clientSecret}-wrong` }),
      (error: unknown) =>
        error instanceof OAuthError && error.status === 401 && error.error === "invalid_client",
    );
  });

  test("opens accounts, deposits, transfers once per Idempotency-Key, reads balances", async () => {
    const open = async (nickname: string) => {
      const { account } = await bank.accounts.createAccount({
        type: AccountTypeEnum_AccountType.CHECKING,
        currency: "USD",
        ownerId,
        nickname,
      });
      assert.ok(account);
      assert.ok(account.id.startsWith("acc_"), account.id);
      assert.equal(account.balance, 0);
      return account.id;
    };
    const from = await open("ts sdk from");
    const to = await open("ts sdk to");

    const deposit = await bank.transactions.createDeposit({
      accountId: from,
      amount: 100,
      method: DepositMethodEnum_DepositMethod.CASH,
      location: "Branch A",
    });
    assert.equal(deposit.transaction?.status, TransactionStatusEnum_TransactionStatus.COMPLETED);

    const key = `ts-sdk-${randomUUID()}`;
    const request = { fromAccountId: from, toAccountId: to, amount: 40.25, description: "TypeScript SDK" };
    const first = await bank.transactions.createTransfer(request, { headers: { "idempotency-key": key } });
    assert.equal(first.transaction?.status, TransactionStatusEnum_TransactionStatus.COMPLETED);
    assert.equal(first.transaction.amount, 40.25);
    const replay = await bank.transactions.createTransfer(request, { headers: { "idempotency-key": key } });
    assert.equal(replay.transaction?.id, first.transaction.id);

    const fromBalance = (await bank.accounts.getAccountBalance({ accountId: from })).balance;
    const toBalance = (await bank.accounts.getAccountBalance({ accountId: to })).balance;
    assert.equal(fromBalance?.balance, 59.75);
    assert.equal(fromBalance.availableBalance, 59.75);
    assert.equal(fromBalance.currency, "USD");
    assert.equal(toBalance?.balance, 40.25);
  });

  test("an unknown account is NotFound with ErrorInfo reason NOT_FOUND", async () => {
    const error = await failure(bank.accounts.getAccount({ accountId: "acc_doesnotexist0000000" }));
    assert.equal(error.code, Code.NotFound, error.message);
    assert.equal(errorReason(error), "NOT_FOUND");
  });

  test("a transfer to an unknown account is NotFound (TXN002) and moves nothing", async () => {
    const { account } = await bank.accounts.createAccount({
      type: AccountTypeEnum_AccountType.SAVINGS,
      ownerId,
    });
    await bank.transactions.createDeposit({
      accountId: account!.id,
      amount: 10,
      method: DepositMethodEnum_DepositMethod.CASH,
    });
    const error = await failure(
      bank.transactions.createTransfer({
        fromAccountId: account!.id,
        toAccountId: "acc_doesnotexist0000000",
        amount: 1,
      }),
    );
    assert.equal(error.code, Code.NotFound, error.message);
    assert.equal(errorReason(error), "TXN002");
    const { balance } = await bank.accounts.getAccountBalance({ accountId: account!.id });
    assert.equal(balance?.balance, 10);
  });

  test("a negative amount is InvalidArgument TXN005 naming the field amount", async () => {
    const { account } = await bank.accounts.createAccount({
      type: AccountTypeEnum_AccountType.CHECKING,
      ownerId,
    });
    const error = await failure(
      bank.transactions.createDeposit({
        accountId: account!.id,
        amount: -5,
        method: DepositMethodEnum_DepositMethod.CASH,
      }),
    );
    assert.equal(error.code, Code.InvalidArgument, error.message);
    assert.equal(errorReason(error), "TXN005");
    assert.ok(
      fieldViolations(error).some((violation) => violation.field === "amount"),
      JSON.stringify(fieldViolations(error)),
    );
  });

  test("a call without a valid token is Unauthenticated", async () => {
    const stranger = createBackofficeClient({ baseUrl: grpcTarget!, token: "not-a-token" });
    const error = await failure(stranger.accounts.listAccounts({}));
    assert.equal(error.code, Code.Unauthenticated, error.message);
    assert.equal(errorReason(error), "UNAUTHORIZED");
  });

  test("a token source fetches once and is reused", async () => {
    let fetches = 0;
    const source = clientCredentialsTokenSource({ httpUrl: httpUrl!, clientId, clientSecret });
    const counted = createBackofficeClient({
      baseUrl: `http://${grpcTarget}`,
      token: async () => {
        fetches += 1;
        return source();
      },
    });
    const [a, b] = await Promise.all([
      counted.sandbox.getClock({}),
      counted.accounts.listAccounts({ ownerId, limit: 5 }),
    ]);
    assert.ok(a.clock);
    assert.ok(b.accounts.length >= 3);
    assert.equal(fetches, 2);
    // Both calls above shared the one token the source fetched.
    assert.equal(await source(), await source());
  });
});
