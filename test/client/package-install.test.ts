/**
 * The client package as a user gets it: `npm pack` of packages/client (its `prepare` builds it), the tarball
 * installed into a scratch app in a temp dir together with its peers and the frameworks, then the "Protect
 * your service in 5 lines" examples of docs/clients.md, taken from the doc as printed, type-checked by the
 * app's own TypeScript and run against the real apikeys service. Only the addresses change: the doc's
 * "localhost:50051" becomes the test service's gRPC port and port 3000 a free port.
 *
 * Slow by nature (pack, install, compile): npm answers from its cache for packages this repository already
 * installed, and the registry otherwise.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { useRealService } from "../e2e/helpers/real-service.js";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const INSTALL_TIMEOUT_MS = 300_000;

/** The versions this repository installed, so the scratch app gets the same ones (from npm's cache). */
async function installedVersion(name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(repo, "node_modules", name, "package.json"), "utf8"));
  return manifest.version as string;
}

/** docExample returns the ```ts block under the given heading of docs/clients.md. */
function docExample(doc: string, heading: string): string {
  const start = doc.indexOf(`\n### ${heading}\n`);
  expect(start, `docs/clients.md has no "### ${heading}"`).toBeGreaterThan(-1);
  const match = /```ts\n([\s\S]*?)```/.exec(doc.slice(start));
  if (match?.[1] === undefined) {
    throw new Error(`no ts block under "### ${heading}"`);
  }
  return match[1];
}

/**
 * firstAnswer sends `request` until the example app answers something other than 503: it must have started,
 * and its first VerifyKey call also opens the gRPC channel, which a loaded machine can make outlast the
 * client's 250 ms deadline (503 is the documented answer to that).
 */
async function firstAnswer(request: () => Promise<Response>): Promise<Response> {
  return vi.waitFor(
    async () => {
      const answer = await request();
      expect(answer.status).not.toBe(503);
      return answer;
    },
    { timeout: 60_000, interval: 100 },
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") {
    throw new Error("no port");
  }
  return address.port;
}

// The Connect example imports the user's own router from ./routes.js: a one-method service built at run
// time (an app would use its generated code), whose handler returns the verified key's id.
const ROUTES_TS = `import { create, createFileRegistry, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { kApiKey } from "@apikeys/client";

const file = create(FileDescriptorProtoSchema, {
  name: "acme/orders/v1/orders.proto",
  package: "acme.orders.v1",
  syntax: "proto3",
  messageType: [
    { name: "CreateOrderRequest", field: [{ name: "item", number: 1, type: 9, label: 1, jsonName: "item" }] },
    { name: "CreateOrderResponse", field: [{ name: "key_id", number: 1, type: 9, label: 1, jsonName: "keyId" }] },
  ],
  service: [
    {
      name: "OrderService",
      method: [
        { name: "CreateOrder", inputType: ".acme.orders.v1.CreateOrderRequest", outputType: ".acme.orders.v1.CreateOrderResponse" },
      ],
    },
  ],
});
const service = createFileRegistry(file, () => undefined).getService("acme.orders.v1.OrderService") as DescService;

export function routes(router: ConnectRouter): void {
  const impl = {
    createOrder: (_request: unknown, context: HandlerContext) => ({ keyId: context.values.get(kApiKey)?.keyId ?? "" }),
  };
  // A service built at run time has no generated method types to check the implementation against.
  router.service(service, impl as never);
}
`;

describe("the packed client package in a scratch app", () => {
  const service = useRealService("client-package");
  let app = "";
  let key = "";
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), "apikeys-client-app-"));
    const packed = await run("npm", ["pack", "--json", "--pack-destination", app], {
      cwd: join(repo, "packages/client"),
      timeout: INSTALL_TIMEOUT_MS,
    });
    const tarball = (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]?.filename ?? "";
    const dependencies: Record<string, string> = { "@apikeys/client": `file:./${tarball}` };
    for (const name of [
      "@bufbuild/protobuf",
      "@connectrpc/connect",
      "@connectrpc/connect-node",
      "@grpc/grpc-js",
      "express",
      "fastify",
      "@types/express",
      "@types/node",
      "typescript",
    ]) {
      dependencies[name] = await installedVersion(name);
    }
    await writeFile(
      join(app, "package.json"),
      JSON.stringify({ name: "scratch-app", private: true, type: "module", dependencies }, null, 2),
    );
    await writeFile(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          outDir: "dist",
          types: ["node"],
        },
        include: ["*.ts"],
      }),
    );
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
      cwd: app,
      timeout: INSTALL_TIMEOUT_MS,
    });

    const rootKey = await service.rootKey();
    await service.tenant("acme");
    const created = await service.admin(rootKey).createKey({
      tenantId: "acme",
      name: "scratch app",
      permissions: ["inventory:read", "orders:write"],
    });
    key = created.secret;
  }, INSTALL_TIMEOUT_MS * 3);

  afterAll(async () => {
    for (const child of children) {
      child.kill();
    }
    if (app !== "") {
      await rm(app, { recursive: true, force: true });
    }
  });

  it("installs without any server dependency", async () => {
    const lock = JSON.parse(await readFile(join(app, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dependencies?: Record<string, string> }>;
    };
    expect(Object.keys(lock.packages["node_modules/@apikeys/client"]?.dependencies ?? {})).toEqual([
      "proxy-addr",
    ]);
    // Nothing the app installed (the frameworks included) pulled in the server's own packages.
    for (const name of ["mongodb", "prom-client", "@grpc/reflection"]) {
      expect(Object.keys(lock.packages), name).not.toContain(`node_modules/${name}`);
    }
  });

  it("type-checks and runs the docs' Express, Fastify and Connect examples against the real service", async () => {
    const doc = await readFile(join(repo, "docs/clients.md"), "utf8");
    const ports = { express: await freePort(), fastify: await freePort(), connect: await freePort() };
    const examples = {
      express: docExample(doc, "Express 5"),
      fastify: docExample(doc, "Fastify 5"),
      connect: docExample(doc, "Connect (connect-node)"),
    };
    for (const [name, source] of Object.entries(examples)) {
      const port = ports[name as keyof typeof ports];
      expect(source).toContain('"localhost:50051"');
      expect(source).toContain("3000");
      const runnable = source
        .replaceAll('"localhost:50051"', `"${service.grpcAddress}"`)
        .replaceAll("3000", `${port}`);
      await writeFile(join(app, `${name}.ts`), runnable);
    }
    await writeFile(join(app, "routes.ts"), ROUTES_TS);
    await run(join(app, "node_modules/.bin/tsc"), ["-p", app], { cwd: app, timeout: 120_000 }).catch(
      (error) => {
        throw new Error(`the examples do not type-check:\n${error.stdout}${error.stderr}`);
      },
    );

    for (const name of Object.keys(examples)) {
      children.push(
        spawn(process.execPath, [join(app, "dist", `${name}.js`)], { cwd: app, stdio: "inherit" }),
      );
    }

    for (const name of ["express", "fastify"] as const) {
      const url = `http://127.0.0.1:${ports[name]}/api/stock/42`;
      const allowed = await firstAnswer(() => fetch(url, { headers: { authorization: `Bearer ${key}` } }));
      expect(allowed.status, name).toBe(200);
      expect(((await allowed.json()) as { caller: { tenantId: string } }).caller.tenantId, name).toBe("acme");
      const refused = await fetch(url);
      expect(refused.status, name).toBe(401);
      expect(await refused.json(), name).toEqual({ error: "unauthorized", code: "MISSING_CREDENTIAL" });
    }

    const order = `http://127.0.0.1:${ports.connect}/acme.orders.v1.OrderService/CreateOrder`;
    const post = (headers: Record<string, string>) =>
      fetch(order, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: "{}",
      });
    const allowed = await firstAnswer(() => post({ "x-api-key": key }));
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as { keyId: string }).keyId).toBe(key.slice(0, key.lastIndexOf("_")));
    expect((await post({})).status).toBe(401);
  }, 180_000);
});
