// polykv/better-auth under a real betterAuth() (its memory database adapter), with
// polykv as secondaryStorage: sign up, sign in, sessions in the store, the rate limiter.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import secondaryStorage, { BetterAuthStorage } from "polykv/better-auth";
import { rows, rowsReportingExpiry, sleep } from "./fixtures/integration-stores.mjs";

function makeAuth(storage) {
  const db = { user: [], session: [], account: [], verification: [], rateLimit: [] };
  return betterAuth({
    baseURL: "http://127.0.0.1:3000",
    secret: "polykv-test-secret-polykv-test-secret",
    database: memoryAdapter(db),
    secondaryStorage: storage,
    emailAndPassword: { enabled: true },
    rateLimit: {
      enabled: true,
      window: 60,
      max: 100,
      storage: "secondary-storage",
      customRules: { "/sign-in/email": { window: 60, max: 3 } },
    },
    advanced: { ipAddress: { ipAddressHeaders: ["x-forwarded-for"] } },
    logger: { disabled: true },
  });
}

const post = (auth, path, body, ip = "127.0.0.9") =>
  auth.handler(
    new Request(`http://127.0.0.1:3000/api/auth${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": ip, origin: "http://127.0.0.1:3000" },
      body: JSON.stringify(body),
    }),
  );

for (const row of rows) {
  describe(`polykv/better-auth over ${row.name}`, () => {
    it("signs a user up and in; the session lives in the store; the rate limiter answers 429", async () => {
      const storage = secondaryStorage(row.make()).prefix("auth:");
      assert.ok(storage instanceof BetterAuthStorage);
      const auth = makeAuth(storage);
      const user = { email: "ada@example.com", password: "correct horse battery", name: "Ada" };
      const up = await post(auth, "/sign-up/email", user);
      assert.equal(up.status, 200, await up.clone().text());
      const signIn = { email: user.email, password: user.password };
      const first = await post(auth, "/sign-in/email", signIn);
      assert.equal(first.status, 200);
      const { token } = await first.json();
      const keys = await storage.store.keys();
      assert.ok(keys.includes(token), `the session is in secondary storage: ${keys}`);
      assert.equal((await post(auth, "/sign-in/email", signIn)).status, 200);
      assert.equal((await post(auth, "/sign-in/email", signIn)).status, 200);
      assert.equal((await post(auth, "/sign-in/email", signIn)).status, 429, "the 4th sign-in in the window");
      assert.equal(
        (await post(auth, "/sign-in/email", signIn, "127.0.0.10")).status,
        200,
        "another client is not limited",
      );
    });

    it("a value set without a TTL (or 0) does not expire; delete() removes it", async () => {
      const storage = secondaryStorage(row.make());
      await storage.set("a", "1");
      await storage.set("b", "2", 0);
      assert.deepEqual([await storage.get("a"), await storage.get("b")], ["1", "2"]);
      assert.equal((await storage.store.getWithMetadata("b")).expires, null);
      await storage.delete("a");
      assert.equal(await storage.get("a"), null);
    });
  });
}

// A counter keeps the deadline it was created with, so the backend must say what it is.
for (const row of await rowsReportingExpiry()) {
  describe(`polykv/better-auth counters over ${row.name}`, () => {
    it("increment() creates at 1 with the TTL and never extends it, unbound", async () => {
      const { increment, get, set, getAndDelete } = secondaryStorage(row.make());
      assert.equal(await increment("hits", 1), 1);
      await sleep(500);
      assert.equal(await increment("hits", 1), 2);
      await sleep(600); // 1.1 s after creation: gone although the last increment was 0.6 s ago
      assert.equal(await get("hits"), null);
      assert.equal(await increment("hits", 1), 1);
      await set("otp", JSON.stringify({ code: 123 }), 60);
      assert.equal(await getAndDelete("otp"), '{"code":123}');
      assert.equal(await getAndDelete("otp"), null);
    });
  });
}
