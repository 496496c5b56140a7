/**
 * The admin console end to end, in headless Chromium (playwright-core driving Debian's chromium, never a
 * downloaded browser), against the real service started as `npm start` starts it (node --import tsx
 * src/server/main.ts) on the test run's database server. One person's session, in order: sign in with a
 * bootstrapped super-user key, create a tenant and switch between tenants, a group with labels (a label the
 * server refuses first), create a key with labels (field error from the server, secret shown once, copy),
 * verify it through the API, the table with labels and
 * its filters, edit, rotate, usage statistics, usage log and history with values before and after, revoke,
 * delete, the tenant settings with a stale etag and the limit, the live audit stream (with pause and resume), then an ordinary key's read-only view and
 * what an unaccepted key does. A screenshot of each page goes to test-artifacts/console/.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditService } from "../../src/gen/apikeys/v1/audit_service_pb.js";
import { KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { KeyVerifyService, VerificationCode } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { createConnectClient } from "../helpers/connect-client.js";
import { mongoUri, uniqueDbName } from "../helpers/mongo.js";
import { ensureTenant } from "./helpers/ensure-tenant.js";

const CHROMIUM = "/usr/bin/chromium";
const BUILT_CONSOLE = "console/dist/index.html";
const ARTIFACTS = "test-artifacts/console";
const BOOTSTRAP_TOKEN = "console-e2e-bootstrap-token";
const TENANT = "acme";
/** Browser steps wait on a real service and a real browser on a shared 2-core machine: generous bounds. */
const STEP_TIMEOUT_MS = 60_000;
const ACTION_TIMEOUT_MS = 20_000;
const DAY = 86_400_000;
const USAGE_STATS_FLUSH_INTERVAL_MS = 1_000;

interface Service {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  output(): string;
}

/** startService runs the service the way `npm start` does, on its own database, and waits for its HTTP port. */
async function startService(): Promise<Service> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_ENV: "development",
      MONGODB_URI: mongoUri(),
      MONGODB_DB: uniqueDbName("console"),
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: "0",
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: "0",
      BOOTSTRAP_TOKEN,
      LOG_LEVEL: "info",
      // Statistics reach GetUsageStats within this interval; the test waits generously longer.
      USAGE_STATS_FLUSH_INTERVAL_MS: String(USAGE_STATS_FLUSH_INTERVAL_MS),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const until = Date.now() + 60_000;
  let port: string | undefined;
  while (port === undefined) {
    if (child.exitCode !== null || Date.now() > until) {
      child.kill("SIGKILL");
      throw new Error(`the service did not start (exit code ${child.exitCode}):\n${output}`);
    }
    port = /"port":(\d+),[^\n]*"msg":"http listening"/.exec(output)?.[1];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, baseUrl: `http://127.0.0.1:${port}`, output: () => output };
}

describe("admin console in a browser", () => {
  let service: Service;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let admin: Client<typeof KeyAdminService>;
  let audit: Client<typeof AuditService>;
  let verify: Client<typeof KeyVerifyService>;
  let rootKey = "";
  let rootKeyId = "";
  const cspViolations: string[] = [];
  const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

  /** shoot saves a screenshot of the page as it is now. */
  const shoot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const consolePath = (path: string) => `${service.baseUrl}/console${path}`;
  const row = (name: string) =>
    page.getByRole("row").filter({ has: page.getByRole("link", { name, exact: true }) });

  beforeAll(async () => {
    if (!existsSync(BUILT_CONSOLE)) {
      throw new Error(
        `${BUILT_CONSOLE} is missing: build the console with 'npm run build:console' (npm install does)`,
      );
    }
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium ('apt-get install -y chromium'; .ci/run does)`,
      );
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    service = await startService();
    admin = createConnectClient(KeyAdminService, service.baseUrl);
    audit = createConnectClient(AuditService, service.baseUrl);
    verify = createConnectClient(KeyVerifyService, service.baseUrl);
    const bootstrapped = await admin.bootstrap({ bootstrapToken: BOOTSTRAP_TOKEN });
    rootKey = bootstrapped.secret;
    rootKeyId = bootstrapped.key?.keyId ?? "";
    await ensureTenant(admin, TENANT, as(rootKey));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-background-networking"],
    });
    context = await browser.newContext({
      permissions: ["clipboard-read", "clipboard-write"],
      viewport: { width: 1360, height: 900 },
    });
    page = await context.newPage();
    page.setDefaultTimeout(ACTION_TIMEOUT_MS);
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) {
        cspViolations.push(message.text());
      }
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (service !== undefined && service.child.exitCode === null) {
      service.child.kill("SIGTERM");
      await new Promise((resolve) => service.child.once("exit", resolve));
    }
  }, 30_000);

  it(
    "signs in with the bootstrapped super-user key: tenant switcher, role, nothing kept in storage",
    async () => {
      await page.goto(consolePath("/"));
      await page.getByRole("heading", { name: "Sign in to the API Keys console" }).waitFor();
      await shoot("sign-in");
      await page.getByLabel("API key").fill(rootKey);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "API Keys", level: 1, exact: true }).waitFor();
      expect(await page.locator(".whoami").textContent()).toContain("Super user");
      // The switcher lists the tenants (ListTenants): no free text to mistype.
      await page.getByRole("combobox", { name: "Tenant" }).selectOption(TENANT);
      await page.getByText(`Keys of tenant ${TENANT}.`).waitFor();
      const stored = (await page.evaluate(
        "({ session: JSON.stringify({ ...sessionStorage }), local: JSON.stringify({ ...localStorage }), cookie: document.cookie })",
      )) as { session: string; local: string; cookie: string };
      expect(stored.session).not.toContain(rootKey);
      expect(stored.local).toBe("{}");
      expect(stored.cookie).toBe("");
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "creates a tenant in Tenant settings; the switcher lists it by display name and switches back",
    async () => {
      await page.getByRole("link", { name: "Tenant settings" }).click();
      await page.getByRole("heading", { name: "Tenant settings", level: 1 }).waitFor();
      await page.getByRole("button", { name: "Create tenant" }).click();
      const dialog = page.getByRole("dialog", { name: "Create tenant" });
      // A bad id is named beside its field before anything is sent.
      await dialog.getByLabel("Tenant ID").fill("Globex!");
      await dialog.getByRole("button", { name: "Create tenant" }).click();
      await dialog.locator(".field-invalid .field-error", { hasText: "lowercase letters" }).waitFor();
      await dialog.getByLabel("Tenant ID").fill("globex");
      await dialog.getByLabel("Display name").fill("Globex Corporation");
      await dialog.getByLabel("Key limit").fill("5");
      await shoot("create-tenant");
      await dialog.getByRole("button", { name: "Create tenant" }).click();
      await dialog.waitFor({ state: "detached" });
      await page.getByText("Tenant globex.").waitFor();
      await page.getByText("0/5 keys").waitFor();
      const { tenant } = await admin.getTenant({ tenantId: "globex" }, as(rootKey));
      expect(tenant).toMatchObject({
        displayName: "Globex Corporation",
        keyLimit: 5,
        keyLimitOverridden: true,
      });
      const switcher = page.getByRole("combobox", { name: "Tenant" });
      await switcher
        .locator("option", { hasText: "Globex Corporation (globex)" })
        .waitFor({ state: "attached" });
      expect(await switcher.inputValue()).toBe("globex");
      await switcher.selectOption(TENANT);
      await page.getByText(`Tenant ${TENANT}.`).waitFor();
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "creates an authorization group",
    async () => {
      await page.getByRole("link", { name: "Groups" }).click();
      await page.getByRole("heading", { name: "Groups", level: 1 }).waitFor();
      await page.getByRole("button", { name: "Create group" }).click();
      const dialog = page.getByRole("dialog", { name: "Create group" });
      await dialog.getByLabel("Group name").fill("Inventory sync");
      await dialog.getByLabel("Group permissions").fill("inventory:read inventory:write");
      // A label key the server refuses: its field violation lands on the labels field, and nothing is made.
      await dialog.getByLabel("Group labels").fill("Team=inventory");
      await dialog.getByRole("button", { name: "Create group" }).click();
      await dialog.getByText(/"Team" is not a label key/).waitFor();
      expect(await page.getByRole("row").filter({ hasText: "Inventory sync" }).count()).toBe(0);
      await dialog.getByLabel("Group labels").fill("team=inventory\ncost-center=cc-7");
      await dialog.getByRole("button", { name: "Create group" }).click();
      await dialog.waitFor({ state: "detached" });
      const group = page.getByRole("row").filter({ hasText: "Inventory sync" });
      await group.waitFor();
      expect(await group.textContent()).toContain("inventory:read, inventory:write");
      const chips = group.getByRole("list", { name: "Labels" }).getByRole("listitem");
      expect(await chips.allTextContents()).toEqual(["cost-center=cc-7", "team=inventory"]);
      await shoot("groups");
      // Editing shows the labels one a line; a removed line removes the label.
      await page.getByRole("button", { name: "Edit group Inventory sync" }).click();
      const edit = page.getByRole("dialog", { name: "Edit group “Inventory sync”" });
      expect(await edit.getByLabel("Group labels").inputValue()).toBe("cost-center=cc-7\nteam=inventory");
      await edit.getByLabel("Group labels").fill("team=inventory");
      await edit.getByRole("button", { name: "Save group" }).click();
      await edit.waitFor({ state: "detached" });
      await expect.poll(() => chips.allTextContents()).toEqual(["team=inventory"]);
    },
    STEP_TIMEOUT_MS,
  );

  let secret = "";
  let keyId = "";
  const expiry = new Date(Date.now() + 30 * DAY);
  const localDateTime = (date: Date) => {
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  };

  it(
    "creates a key: the server's field error beside its field, then the secret once, copied, verifying",
    async () => {
      await page.getByRole("link", { name: "API Keys", exact: true }).click();
      await page.getByRole("button", { name: "Create API key" }).click();
      const dialog = page.getByRole("dialog", { name: `Create API key in ${TENANT}` });
      await dialog.getByLabel("Name", { exact: true }).fill("ERP Integration");
      await dialog.getByLabel("Description").fill("Nightly stock sync");
      await dialog.getByLabel("Associated user").fill("erp-service");
      await dialog.getByLabel("Group").selectOption({ label: "Inventory sync" });
      await dialog.getByLabel("Permissions").fill("orders:read");
      await dialog.getByLabel("Expires").fill(localDateTime(expiry));
      // The second entry has host bits set: the server refuses it and names the entry.
      await dialog.getByLabel("IP allowlist").fill("10.0.0.0/8\n192.168.1.7/16");
      await dialog.getByLabel("Labels").fill("tier=gold\ncustomer=c-42");
      await shoot("create-key");
      await dialog.getByRole("button", { name: "Create key" }).click();
      const allowlist = dialog.getByLabel("IP allowlist");
      await expect
        .poll(() => allowlist.getAttribute("aria-invalid"), { timeout: ACTION_TIMEOUT_MS })
        .toBe("true");
      const errorText = await dialog.locator(".field-invalid .field-error").textContent();
      expect(errorText).toContain("Line 2");
      expect(errorText).toContain("192.168.0.0/16");
      await allowlist.fill("10.0.0.0/8");
      await dialog.getByRole("button", { name: "Create key" }).click();

      const created = page.getByRole("dialog", { name: "API key created" });
      await created.getByText("You will not see it again").waitFor();
      const shown = created.getByLabel(/^API key for /);
      secret = await shown.inputValue();
      expect(secret).toMatch(/^ak_live_[A-Za-z0-9]+_[A-Za-z0-9]+$/);
      await created.getByRole("button", { name: "Copy" }).click();
      await created.getByText("Copied to the clipboard.").waitFor();
      expect(await page.evaluate("navigator.clipboard.readText()")).toBe(secret);

      const verdict = await verify.verifyKey({
        credential: { case: "key", value: secret },
        clientIp: "10.1.2.3",
        endpoint: "GET /api/orders",
      });
      expect(verdict).toMatchObject({
        valid: true,
        tenantId: TENANT,
        userId: "erp-service",
        httpStatus: 200,
      });
      keyId = verdict.keyId;
      const refused = await verify.verifyKey({
        credential: { case: "key", value: secret },
        clientIp: "203.0.113.9",
        endpoint: "GET /api/orders",
      });
      expect(refused.code).toBe(VerificationCode.IP_NOT_ALLOWED);

      await created.getByRole("button", { name: "Done" }).click();
      await created.waitFor({ state: "detached" });
      // Closing the dialog forgets the secret: not on the page, not in storage.
      expect(await page.content()).not.toContain(secret);
      const storage = await page.evaluate("JSON.stringify({ ...sessionStorage, ...localStorage })");
      expect(storage).not.toContain(secret);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "shows the key in the table and filters by status, expiration and name",
    async () => {
      const erp = row("ERP Integration");
      await erp.waitFor();
      const text = await erp.textContent();
      for (const expected of ["erp-service", "Inventory sync", "Active", "Valid", keyId]) {
        expect(text).toContain(expected);
      }
      const chips = erp.getByRole("list", { name: "Labels" }).getByRole("listitem");
      expect(await chips.allTextContents()).toEqual(["customer=c-42", "tier=gold"]);
      expect(await page.locator(".usage").textContent()).toBe("1/10 keys");
      await shoot("keys");

      await page.getByLabel("Status").selectOption({ label: "Revoked" });
      await page.getByText("No keys match these filters.").waitFor();
      await page.getByLabel("Status").selectOption({ label: "Active" });
      await page.getByLabel("Expiration").selectOption({ label: "Valid" });
      await erp.waitFor();
      await page.getByLabel("Expiration").selectOption({ label: "Expiring soon" });
      await page.getByText("No keys match these filters.").waitFor();
      await page.getByLabel("Expiration").selectOption({ label: "Any expiration" });
      await page.getByLabel("Search by name").fill("erp int");
      await erp.waitFor();
      await page.getByLabel("Search by name").fill("nothing like it");
      await page.getByText("No keys match these filters.").waitFor();
      await page.getByLabel("Search by name").fill("");
      await page.getByLabel("Status").selectOption({ label: "Any status" });
      await erp.waitFor();
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "edits the key; a later expiry is refused with the reason and Rotate offered",
    async () => {
      await page.getByRole("link", { name: "ERP Integration", exact: true }).click();
      await page.getByRole("heading", { name: "ERP Integration", level: 1 }).waitFor();
      await page.getByRole("button", { name: "Edit" }).click();
      const dialog = page.getByRole("dialog", { name: "Edit “ERP Integration”" });
      await dialog.getByLabel("Name", { exact: true }).fill("ERP Integration v2");
      await dialog.getByLabel("Expires").fill(localDateTime(new Date(expiry.getTime() + 10 * DAY)));
      await dialog.getByRole("button", { name: "Save" }).click();
      const expiryError = dialog.locator(".field-invalid .field-error");
      await expiryError.waitFor();
      expect(await expiryError.textContent()).toContain("can only move earlier");
      await dialog.getByRole("button", { name: "Rotate instead" }).waitFor();
      await dialog.getByLabel("Expires").fill(localDateTime(new Date(expiry.getTime() - DAY)));
      await dialog.getByLabel("IP allowlist").fill("10.0.0.0/8\n2001:db8::/32");
      expect(await dialog.getByLabel("Labels").inputValue()).toBe("customer=c-42\ntier=gold");
      await dialog.getByLabel("Labels").fill("customer=c-42\ntier=platinum");
      await dialog.getByRole("button", { name: "Save" }).click();
      await dialog.waitFor({ state: "detached" });
      await page.getByRole("heading", { name: "ERP Integration v2", level: 1 }).waitFor();
      await page.locator("dl.details dd", { hasText: "10.0.0.0/8, 2001:db8::/32" }).waitFor();
      const { key } = await admin.getKey({ keyId }, as(rootKey));
      expect(key?.name).toBe("ERP Integration v2");
      expect(key?.ipAllowlist).toEqual(["10.0.0.0/8", "2001:db8::/32"]);
      expect(key?.labels).toEqual({ customer: "c-42", tier: "platinum" });
      await page.locator("dl.details .chip", { hasText: "tier=platinum" }).waitFor();
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "rotates with an overlap: a new secret shown once, both secrets verify during the overlap",
    async () => {
      await page.getByRole("button", { name: "Rotate" }).click();
      const dialog = page.getByRole("dialog", { name: "Rotate “ERP Integration v2”" });
      await dialog.getByLabel("Overlap").selectOption({ label: "1 hour" });
      await dialog.getByRole("button", { name: "Rotate key" }).click();
      const rotated = page.getByRole("dialog", { name: "Key rotated" });
      const next = await rotated.getByLabel(/^API key for /).inputValue();
      expect(next).not.toBe(secret);
      expect(next.startsWith(`${keyId}_`)).toBe(true);
      await rotated.getByRole("button", { name: "Done" }).click();
      await rotated.waitFor({ state: "detached" });
      await page.getByText(/#2 .*\(current\)/).waitFor();
      await page.getByText(/#1 .*works until/).waitFor();
      for (const candidate of [secret, next]) {
        const verdict = await verify.verifyKey({
          credential: { case: "key", value: candidate },
          clientIp: "10.9.9.9",
          endpoint: "POST /api/stock",
        });
        expect(verdict.valid).toBe(true);
      }
      expect(await page.content()).not.toContain(next);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "shows the key's usage statistics, usage log, and history with each field's value before and after",
    async () => {
      // Three allowed verifications and one refused, counted exactly once flushed (USAGE_STATS_FLUSH_INTERVAL_MS).
      await expect
        .poll(
          async () => {
            const stats = await audit.getUsageStats({ keyId }, as(rootKey));
            return stats.buckets.reduce((sum, bucket) => sum + bucket.total, 0n);
          },
          { timeout: 30 * USAGE_STATS_FLUSH_INTERVAL_MS },
        )
        .toBe(4n);
      // Usage is written in batches (USAGE_FLUSH_INTERVAL_MS): wait until the API has all four verifications.
      await expect
        .poll(async () => (await audit.listKeyUsage({ keyId }, as(rootKey))).events.length, {
          timeout: 30_000,
        })
        .toBeGreaterThanOrEqual(4);
      await page.reload();
      // A reload forgets the in-memory key: sign in again, and come back to the same page.
      await page.getByLabel("API key").fill(rootKey);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "ERP Integration v2", level: 1 }).waitFor();
      const usage = page.getByRole("table", { name: "Usage log" });
      await usage.waitFor();
      const usageText = await usage.textContent();
      for (const expected of [
        "GET /api/orders",
        "10.1.2.3",
        "Allowed",
        "200",
        "203.0.113.9",
        "IP not allowed",
        "403",
      ]) {
        expect(usageText).toContain(expected);
      }
      const stats = page.getByRole("region", { name: "Requests in the last 24 hours" });
      const summary = await stats.locator(".usage-summary").textContent();
      for (const expected of ["4 verifications", "Allowed 3", "IP not allowed 1"]) {
        expect(summary).toContain(expected);
      }
      const perHour = stats.getByRole("table", { name: "Verifications per hour" });
      const headers = await perHour.getByRole("columnheader").allTextContents();
      expect(headers.slice(1)).toEqual(["Total", "Allowed", "IP not allowed"]);
      expect(await perHour.locator("tbody tr").first().locator("td").allTextContents()).toEqual([
        "4",
        "3",
        "1",
      ]);
      expect(await stats.getByRole("list", { name: "Verifications per hour" }).locator("li").count()).toBe(
        24,
      );
      await page
        .locator("dl.details div", { hasText: "Requests in the last 24 hours" })
        .locator("dd", { hasText: /^4$/ })
        .waitFor();
      const history = page.getByRole("table", { name: "History" });
      const changes = history.locator(".field-changes li");
      await changes.filter({ hasText: "name: “ERP Integration” → “ERP Integration v2”" }).waitFor();
      await changes
        .filter({ hasText: "labels: {customer=c-42, tier=gold} → {customer=c-42, tier=platinum}" })
        .waitFor();
      await changes.filter({ hasText: "IP allowlist: [10.0.0.0/8] → [10.0.0.0/8, 2001:db8::/32]" }).waitFor();
      const historyText = await history.textContent();
      for (const expected of [
        "Key created",
        "Key updated",
        "Key rotated",
        rootKeyId,
        "name",
        "IP allowlist",
        "expiry",
      ]) {
        expect(historyText).toContain(expected);
      }
      await shoot("key-detail");
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "revokes after a confirmation naming the key: status, date and actor appear, the key stops verifying",
    async () => {
      await page.getByRole("button", { name: "Revoke" }).click();
      const dialog = page.getByRole("dialog", { name: "Revoke API key" });
      expect(await dialog.textContent()).toContain("“ERP Integration v2”");
      await dialog.getByLabel("Reason (optional)").fill("leaked in a build log");
      await dialog.getByRole("button", { name: "Revoke key" }).click();
      await dialog.waitFor({ state: "detached" });
      const notice = page.getByText(/^Revoked on /);
      await notice.waitFor();
      expect(await notice.textContent()).toContain(rootKeyId);
      expect(await notice.textContent()).toContain("leaked in a build log");
      await page.locator(".subtitle .badge", { hasText: "Revoked" }).waitFor();
      expect(await page.getByRole("button", { name: "Edit" }).count()).toBe(0);
      const verdict = await verify.verifyKey({
        credential: { case: "key", value: secret },
        clientIp: "10.1.2.3",
      });
      expect(verdict.code).toBe(VerificationCode.REVOKED);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "deletes after a confirmation naming the key; the key leaves the table",
    async () => {
      await page.getByRole("button", { name: "Delete" }).click();
      const dialog = page.getByRole("dialog", { name: "Delete API key" });
      expect(await dialog.textContent()).toContain("“ERP Integration v2”");
      await dialog.getByRole("button", { name: "Delete key" }).click();
      await page.getByRole("heading", { name: "API Keys", level: 1, exact: true }).waitFor();
      await page.getByText("No keys yet.").waitFor();
      expect(await page.locator(".usage").textContent()).toBe("0/10 keys");
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "tenant settings refuse a change made on a stale read, then reach the limit: Create API key is disabled with the reason",
    async () => {
      await admin.createKey({ tenantId: TENANT, name: "Warehouse scanner" }, as(rootKey));
      await page.getByRole("link", { name: "Tenant settings" }).click();
      await page.getByRole("heading", { name: "Tenant settings", level: 1 }).waitFor();
      await page.getByText("1/10 keys").waitFor();
      // Another admin renames the tenant after this page read it: the page's etag is stale.
      await admin.updateTenant(
        { tenantId: TENANT, displayName: "Acme Industries", updateMask: { paths: ["display_name"] } },
        as(rootKey),
      );
      await page.getByRole("spinbutton", { name: "Key limit" }).fill("1");
      await page.getByRole("button", { name: "Save settings" }).click();
      const conflict = page.getByRole("alert");
      await conflict.waitFor();
      expect(await conflict.textContent()).toContain("Changed meanwhile.");
      expect(await conflict.textContent()).toContain("Reload");
      await shoot("tenant-settings-conflict");
      expect((await admin.getTenant({ tenantId: TENANT }, as(rootKey))).tenant?.keyLimitOverridden).toBe(
        false,
      );
      await conflict.getByRole("button", { name: "Reload" }).click();
      const displayName = page.getByRole("textbox", { name: "Display name" });
      await expect
        .poll(() => displayName.inputValue(), { timeout: ACTION_TIMEOUT_MS })
        .toBe("Acme Industries");
      await page.getByRole("spinbutton", { name: "Key limit" }).fill("1");
      await page.getByRole("button", { name: "Save settings" }).click();
      await page.getByText("Saved. Key limit set to 1.").waitFor();
      await shoot("tenant-settings");
      await page.getByRole("link", { name: "API Keys", exact: true }).click();
      await page.locator(".usage", { hasText: "1/1 keys" }).waitFor();
      const create = page.getByRole("button", { name: "Create API key" });
      expect(await create.isDisabled()).toBe(true);
      const reason = page.locator("#key-limit-reason");
      expect(await reason.textContent()).toContain("Key limit reached");
      expect(await create.getAttribute("aria-describedby")).toBe("key-limit-reason");
      await shoot("keys-at-limit");
      await page.getByRole("link", { name: "Tenant settings" }).click();
      await page.getByRole("button", { name: "Use the server default" }).click();
      await page.getByText("Saved. The server default key limit applies.").waitFor();
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "pages through the keys with the API's page tokens, 20 a page",
    async () => {
      await admin.updateTenant({ tenantId: TENANT, keyLimit: 40 }, as(rootKey));
      // With "Warehouse scanner", 22 keys: a full first page and two on the second, newest first.
      for (let n = 1; n <= 21; n++) {
        await admin.createKey(
          { tenantId: TENANT, name: `Batch key ${String(n).padStart(2, "0")}` },
          as(rootKey),
        );
      }
      await page.getByRole("link", { name: "API Keys", exact: true }).click();
      const pager = page.getByRole("navigation", { name: "Key pages" });
      await pager.getByText("Page 1").waitFor();
      expect(await page.getByRole("table", { name: "API keys" }).locator("tbody tr").count()).toBe(20);
      await row("Batch key 21").waitFor();
      await pager.getByRole("button", { name: "Next" }).click();
      await pager.getByText("Page 2").waitFor();
      await row("Warehouse scanner").waitFor();
      await row("Batch key 01").waitFor();
      expect(await page.getByRole("table", { name: "API keys" }).locator("tbody tr").count()).toBe(2);
      expect(await pager.getByRole("button", { name: "Next" }).isDisabled()).toBe(true);
      await pager.getByRole("button", { name: "Previous" }).click();
      await pager.getByText("Page 1").waitFor();
      await row("Batch key 21").waitFor();
      // Clear the override again: the default limit (10) applies to what follows.
      await admin.updateTenant({ tenantId: TENANT }, as(rootKey));
      const { keys } = await admin.listKeys(
        { tenantId: TENANT, nameQuery: "Batch key", pageSize: 100 },
        as(rootKey),
      );
      for (const key of keys) {
        await admin.deleteKey({ keyId: key.keyId }, as(rootKey));
      }
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "watches live audit events arrive; a pause resumes where it stopped, with nothing missed or repeated",
    async () => {
      await page.getByRole("link", { name: "Live audit" }).click();
      await page.getByText("Live: new events appear at the top.").waitFor();
      const created = await admin.createKey({ tenantId: TENANT, name: "Audit probe" }, as(rootKey));
      const probeId = created.key?.keyId ?? "";
      const events = page.getByRole("list", { name: "Audit events, newest first" });
      await events.getByText(probeId).first().waitFor();
      expect(await events.locator("li").first().textContent()).toContain("Key created");
      await verify.verifyKey({
        credential: { case: "key", value: created.secret },
        clientIp: "10.0.0.1",
        endpoint: "GET /api/ping",
      });
      await events.locator("li", { hasText: "GET /api/ping" }).waitFor();

      await page.getByRole("button", { name: "Pause" }).click();
      await page.getByText("Paused: new events wait").waitFor();
      const group = await admin.createGroup({ tenantId: TENANT, name: "Made while paused" }, as(rootKey));
      const groupId = group.group?.groupId ?? "";
      await page.getByRole("button", { name: "Resume" }).click();
      await events.locator("li", { hasText: groupId }).waitFor();
      expect(await events.locator("li", { hasText: groupId }).count()).toBe(1);
      expect(await events.locator("li", { hasText: "GET /api/ping" }).count()).toBe(1);
      await page.getByLabel("Kind").selectOption({ label: "Usage" });
      await page.getByText("Live: new events appear at the top.").waitFor();
      await shoot("live-audit");
    },
    STEP_TIMEOUT_MS,
  );

  let aliceKey = "";
  it(
    "signs out; an ordinary key sees only its own user's keys, read-only",
    async () => {
      const alice = await admin.createKey(
        { tenantId: TENANT, name: "Alice's laptop", userId: "alice", permissions: ["orders:read"] },
        as(rootKey),
      );
      aliceKey = alice.secret;
      await admin.createKey({ tenantId: TENANT, name: "Alice's CI", userId: "alice" }, as(rootKey));
      await admin.createKey({ tenantId: TENANT, name: "Bob's script", userId: "bob" }, as(rootKey));

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByText("You signed out. The key was forgotten.").waitFor();
      await page.getByLabel("API key").fill(aliceKey);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "API Keys", level: 1, exact: true }).waitFor();
      await page.getByText("Read-only.").waitFor();
      await row("Alice's CI").waitFor();
      await row("Alice's laptop").waitFor();
      expect(await page.getByRole("link", { name: "Bob's script" }).count()).toBe(0);
      expect(await page.getByRole("link", { name: "Warehouse scanner" }).count()).toBe(0);
      expect(await page.getByRole("button", { name: "Create API key" }).count()).toBe(0);
      expect(await page.getByRole("combobox", { name: "Tenant" }).count()).toBe(0);
      expect(await page.getByRole("link", { name: "Groups" }).count()).toBe(0);
      expect(await page.locator(".whoami").textContent()).toContain("Key holder (read-only)");
      await shoot("keys-read-only");

      await page.getByRole("link", { name: "Alice's CI" }).click();
      await page.getByRole("heading", { name: "Alice's CI", level: 1 }).waitFor();
      for (const action of ["Edit", "Rotate", "Revoke", "Delete"]) {
        expect(await page.getByRole("button", { name: action }).count()).toBe(0);
      }
      expect(await page.getByRole("heading", { name: "Usage log" }).count()).toBe(0);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "shows errors as sentences, and returns to sign in when the key stops being accepted",
    async () => {
      await page.goto(consolePath("/no/such/page"));
      // A full load forgets the in-memory key.
      await page.getByLabel("API key").fill(aliceKey);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Page not found", level: 1 }).waitFor();
      await page.getByRole("link", { name: "Back to the API keys" }).click();
      await page.getByRole("heading", { name: "API Keys", level: 1, exact: true }).waitFor();

      // Client-side navigation (as a link would), so the signed-in key stays in memory.
      await page.evaluate(
        "history.pushState(null, '', '/console/keys/ak_live_0000000000000000'); dispatchEvent(new PopStateEvent('popstate'))",
      );
      const alert = page.getByRole("alert");
      await alert.waitFor();
      expect(await alert.textContent()).toContain("Not found.");
      expect(await alert.textContent()).not.toMatch(/\[not_found\]|NOT_FOUND/);

      const { keys } = await admin.listKeys({ tenantId: TENANT, userId: "alice" }, as(rootKey));
      const own = keys.find((key) => aliceKey.startsWith(`${key.keyId}_`));
      await admin.revokeKey({ keyId: own?.keyId ?? "" }, as(rootKey));
      await page.getByRole("link", { name: "← API Keys" }).click();
      await page.getByText("Your key is no longer accepted").waitFor();
      await page.getByLabel("API key").waitFor();
      expect(cspViolations).toEqual([]);
    },
    STEP_TIMEOUT_MS,
  );
});
