/**
 * The behaviour every HTTP adapter (Express, Fastify) must show, as one shared suite: a real app on
 * 127.0.0.1:0 in front of the REAL apikeys service (see verify-fixture.ts), real HTTP requests with each
 * credential form, exact statuses. Each adapter test file provides an app with these routes:
 *   GET  /open       protected, no permission required
 *   GET  /read       requires GRANTED_PERMISSION
 *   POST /orders     requires MISSING_PERMISSION
 *   GET  /fail-open  protected with onUnavailable "allow"
 *   GET  /public     not protected
 * and answers 200 `{ "apiKey": <verified key or null> }` when the handler runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TrustProxySetting } from "../../../packages/client/src/client-ip.js";
import { createVerifyClient, type VerifyClient } from "../../../packages/client/src/verify-client.js";
import {
  ALLOWED_IP,
  CLIENT_DEADLINE_MS,
  type FixtureKey,
  GRANTED_PERMISSION,
  MISSING_PERMISSION,
  VALID_KEY_LABELS,
  type VerifyFixture,
} from "./verify-fixture.js";

/** RunningApp is an adapter's app listening on a local port. */
export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

/** StartApp starts the adapter's app with the given client and trust setting. */
export type StartApp = (options: {
  client: VerifyClient;
  trustProxy?: TrustProxySetting;
}) => Promise<RunningApp>;

type CredentialForm = "Bearer" | "ApiKey" | "X-API-Key" | "accessKey+secretKey";
const forms: CredentialForm[] = ["Bearer", "ApiKey", "X-API-Key", "accessKey+secretKey"];

function headersFor(form: CredentialForm, key: FixtureKey | string): Record<string, string> {
  const whole = typeof key === "string" ? key : key.whole;
  switch (form) {
    case "Bearer":
      return { authorization: `Bearer ${whole}` };
    case "ApiKey":
      return { authorization: `ApiKey ${whole}` };
    case "X-API-Key":
      return { "x-api-key": whole };
    case "accessKey+secretKey": {
      if (typeof key === "string") {
        // An unknown key: split it the way the contract joins the two parts (last "_").
        const cut = whole.lastIndexOf("_");
        return { accessKey: whole.slice(0, cut), secretKey: whole.slice(cut + 1) };
      }
      return { accessKey: key.keyId, secretKey: key.secretKey };
    }
  }
}

async function call(url: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(url, { method: init.method ?? "GET", headers: init.headers ?? {} });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === "" ? null : (JSON.parse(text) as Record<string, unknown>),
    text,
  };
}

/** describeHttpAdapter registers the shared suite for one adapter, in front of the file's real service. */
export function describeHttpAdapter(
  name: string,
  fixtureHandle: { readonly current: VerifyFixture },
  startApp: StartApp,
): void {
  describe(`${name}: real HTTP requests against the real VerifyKey service`, () => {
    let fixture: VerifyFixture;
    let client: VerifyClient;
    let app: RunningApp;
    let proxied: RunningApp;

    beforeAll(async () => {
      fixture = fixtureHandle.current;
      client = createVerifyClient({ address: fixture.address, deadlineMs: CLIENT_DEADLINE_MS });
      app = await startApp({ client });
      proxied = await startApp({ client, trustProxy: "loopback" });
    });
    afterAll(async () => {
      await app?.close();
      await proxied?.close();
      client?.close();
      // A failed recovery test must not leave the service down for the next suite of the file.
      await fixture?.makeAvailable();
    });

    it.each(forms)("200 with a valid key sent as %s, and the handler sees the key", async (form) => {
      const { status, body } = await call(`${app.url}/open`, {
        headers: headersFor(form, fixture.keys.valid),
      });
      expect(status).toBe(200);
      const valid = fixture.keys.valid;
      expect(body?.apiKey).toMatchObject({
        keyId: valid.keyId,
        tenantId: valid.tenantId,
        name: valid.name,
        userId: valid.userId,
        groupId: valid.groupId,
        permissions: expect.arrayContaining([GRANTED_PERMISSION]),
        labels: VALID_KEY_LABELS,
      });
      expect(JSON.stringify(body)).not.toContain(valid.secretKey);
    });

    it.each(forms)("401 NOT_FOUND with an unknown key sent as %s", async (form) => {
      const { status, body, headers } = await call(`${app.url}/open`, {
        headers: headersFor(form, fixture.unknownKey),
      });
      expect(status).toBe(401);
      expect(body).toEqual({ error: "unauthorized", code: "NOT_FOUND" });
      expect(headers.get("www-authenticate")).toBe('Bearer realm="api", error="invalid_token"');
    });

    it.each(
      forms.flatMap((form) => [
        [form, "revoked", "REVOKED"] as const,
        [form, "expired", "EXPIRED"] as const,
        [form, "disabled", "DISABLED"] as const,
      ]),
    )("401 with a %s credential of a %s key, with WWW-Authenticate", async (form, scenario, code) => {
      const { status, body, headers } = await call(`${app.url}/open`, {
        headers: headersFor(form, fixture.keys[scenario]),
      });
      expect(status).toBe(401);
      expect(body).toEqual({ error: "unauthorized", code });
      expect(headers.get("www-authenticate")).toBe('Bearer realm="api", error="invalid_token"');
    });

    it.each(forms)("403 with a %s credential: IP not allowed, or a permission missing", async (form) => {
      const fromElsewhere = await call(`${app.url}/open`, {
        headers: headersFor(form, fixture.keys.ipRestricted),
      });
      expect(fromElsewhere.status).toBe(403);
      expect(fromElsewhere.body).toEqual({ error: "forbidden", code: "IP_NOT_ALLOWED" });
      expect(fromElsewhere.headers.get("www-authenticate")).toBeNull();
      const lacking = await call(`${app.url}/orders`, {
        method: "POST",
        headers: headersFor(form, fixture.keys.valid),
      });
      expect(lacking.status).toBe(403);
      expect(lacking.body).toEqual({
        error: "forbidden",
        code: "INSUFFICIENT_PERMISSIONS",
        missing_permissions: [MISSING_PERMISSION],
      });
    });

    it.each([
      ["no credential at all", {}],
      [
        "Basic credentials (not forwarded to the key service)",
        { authorization: "Basic dXNlcjpwYXNzd29yZA==" },
      ],
      ["accessKey without secretKey", { accessKey: "ak_test_valid00000000000" }],
    ])("401 MISSING_CREDENTIAL with %s", async (_label, headers) => {
      const { status, body, headers: responseHeaders } = await call(`${app.url}/open`, { headers });
      expect(status).toBe(401);
      expect(body).toEqual({ error: "unauthorized", code: "MISSING_CREDENTIAL" });
      expect(responseHeaders.get("www-authenticate")).toBe('Bearer realm="api"');
    });

    it("403 INSUFFICIENT_PERMISSIONS on a route requiring a permission the key lacks; 200 where it has it", async () => {
      const denied = await call(`${app.url}/orders`, {
        method: "POST",
        headers: headersFor("X-API-Key", fixture.keys.valid),
      });
      expect(denied.status).toBe(403);
      expect(denied.body).toEqual({
        error: "forbidden",
        code: "INSUFFICIENT_PERMISSIONS",
        missing_permissions: [MISSING_PERMISSION],
      });
      expect(denied.headers.get("www-authenticate")).toBeNull();
      const allowed = await call(`${app.url}/read`, { headers: headersFor("X-API-Key", fixture.keys.valid) });
      expect(allowed.status).toBe(200);
    });

    it("403 IP_NOT_ALLOWED for an allowlisted key from the socket address, even with a spoofed X-Forwarded-For", async () => {
      for (const extra of [{}, { "x-forwarded-for": ALLOWED_IP }]) {
        const { status, body } = await call(`${app.url}/open`, {
          headers: { ...headersFor("Bearer", fixture.keys.ipRestricted), ...extra },
        });
        expect(status).toBe(403);
        expect(body).toEqual({ error: "forbidden", code: "IP_NOT_ALLOWED" });
      }
    });

    it("200 for an allowlisted key when a trusted (loopback) proxy forwards the allowed client address", async () => {
      const through = await call(`${proxied.url}/open`, {
        headers: { ...headersFor("ApiKey", fixture.keys.ipRestricted), "x-forwarded-for": ALLOWED_IP },
      });
      expect(through.status).toBe(200);
      const spoofedChain = await call(`${proxied.url}/open`, {
        headers: {
          ...headersFor("ApiKey", fixture.keys.ipRestricted),
          "x-forwarded-for": `${ALLOWED_IP}, 198.51.100.1`,
        },
      });
      expect(spoofedChain.status, "the nearest untrusted hop wins, not the client-supplied first entry").toBe(
        403,
      );
    });

    it("leaves unprotected routes alone", async () => {
      const { status, body } = await call(`${app.url}/public`);
      expect(status).toBe(200);
      expect(body).toEqual({ apiKey: null });
    });

    describe("when the VerifyKey service is unreachable", () => {
      beforeAll(async () => {
        await fixture.makeUnavailable();
      });

      it("503 (fail closed) for every credential form; 401 still for a missing credential", async () => {
        for (const form of forms) {
          const { status, body, headers } = await call(`${app.url}/open`, {
            headers: headersFor(form, fixture.keys.valid),
          });
          expect(status).toBe(503);
          expect(body).toEqual({ error: "service_unavailable", code: "VERIFY_UNAVAILABLE" });
          expect(headers.get("retry-after")).toBe("1");
        }
        expect((await call(`${app.url}/open`)).status).toBe(401);
      });

      it('lets the request through with apiKey null on a route with onUnavailable "allow"', async () => {
        const { status, body } = await call(`${app.url}/fail-open`, {
          headers: headersFor("Bearer", fixture.keys.valid),
        });
        expect(status).toBe(200);
        expect(body).toEqual({ apiKey: null });
      });

      it("recovers without restart when the service is back", async () => {
        await fixture.makeAvailable();
        await expect
          .poll(
            async () =>
              (await call(`${app.url}/open`, { headers: headersFor("Bearer", fixture.keys.valid) })).status,
            {
              timeout: 10_000,
              interval: 100,
            },
          )
          .toBe(200);
      });
    });
  });
}
