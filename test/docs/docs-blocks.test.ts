/**
 * Docs that run: every shell block of README.md and docs/*.md, in order as printed, in one bash session per
 * document, against the real service started as `npm start` starts it (its own database, a generated
 * bootstrap token). The docs read the service's addresses from APIKEYS_URL / APIKEYS_SERVER (defaulting to
 * localhost:8080 / localhost:50051 for a reader); the test sets them to the started service's free ports.
 *
 * A block the test cannot run here carries `<!-- docs-test: skip (reason) -->` and is reported as skipped.
 * grpcurl (not installable here) is a stand-in (grpcurl-stand-in.sh): each call is checked against the
 * service's descriptors (the method exists; its JSON parses into the method's input message) and unary calls
 * are made through the HTTP port.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createRegistry, type DescMethod, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { file_apikeys_v1_audit_service } from "../../src/gen/apikeys/v1/audit_service_pb.js";
import { file_apikeys_v1_key_admin_service } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { file_apikeys_v1_key_verify_service } from "../../src/gen/apikeys/v1/key_verify_service_pb.js";
import { file_grpc_health_v1_health } from "../../src/gen/grpc/health/v1/health_pb.js";
import { mongoUri, uniqueDbName } from "../helpers/mongo.js";
import { assignedVariables, BashSession } from "./bash-session.js";
import { type ServiceProcess, startServiceProcess } from "./service-process.js";
import { type ShellBlock, shellBlocksOf } from "./shell-blocks.js";

const ROOT = resolve(import.meta.dirname, "../..");
const GRPCURL_STAND_IN = join(import.meta.dirname, "grpcurl-stand-in.sh");

/** The services the gRPC port serves and reflects; grpcurl commands are checked against them. */
const registry = createRegistry(
  file_apikeys_v1_key_verify_service,
  file_apikeys_v1_key_admin_service,
  file_apikeys_v1_audit_service,
  file_grpc_health_v1_health,
);

function methodOf(path: string): DescMethod {
  const [service = "", name = ""] = path.split("/");
  const method = registry.getService(service)?.methods.find((candidate) => candidate.name === name);
  if (method === undefined) {
    throw new Error(`grpcurl names ${path}, which the service does not serve`);
  }
  return method;
}

const streamingMethods = [...registry]
  .flatMap((desc) => (desc.kind === "service" ? desc.methods : []))
  .filter((method) => method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming")
  .map((method) => `${method.parent.typeName}/${method.name}`);

/** stringValues are the string values anywhere in `json`. */
function stringValues(json: JsonValue): string[] {
  if (typeof json === "string") {
    return [json];
  }
  if (Array.isArray(json)) {
    return json.flatMap(stringValues);
  }
  return json !== null && typeof json === "object" ? Object.values(json).flatMap(stringValues) : [];
}

/** checkGrpcurlCall asserts one grpcurl argument list names a served method with a request it accepts. */
function checkGrpcurlCall(args: readonly string[]): void {
  const positional: string[] = [];
  const headers: string[] = [];
  let body: string | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? "";
    if (arg === "-H") {
      i += 1;
      headers.push(args[i] ?? "");
    } else if (arg === "-d") {
      i += 1;
      body = args[i] ?? "";
    } else if (arg !== "-plaintext") {
      expect(arg, "a grpcurl option the docs use").not.toMatch(/^-/);
      positional.push(arg);
    }
  }
  const [address, path = "list"] = positional;
  expect(address).toMatch(/^[\w.-]+:\d+$/);
  for (const header of headers) {
    // A header from a variable that was never set (or was set to jq's null) sends no credential.
    expect(header).toMatch(/^[\w-]+: (Bearer |ApiKey )?(?!null$)\S+$/);
  }
  if (path === "list") {
    expect(body).toBeUndefined();
    return;
  }
  const method = methodOf(path);
  const json = JSON.parse(body ?? "{}") as JsonValue;
  // fromJson refuses unknown fields, enum names the enum lacks and malformed well-known types.
  fromJson(method.input, json, { registry });
  for (const value of stringValues(json)) {
    expect(value, `a JSON string in a request to ${path}`).not.toMatch(/^(|null)$/);
  }
}

/** documentedFields are the `"field":value` pairs of a `# {…}` output comment (values with … left out). */
function documentedFields(code: string): string[] {
  const comments = [...code.matchAll(/^\s*#\s*(\{.*)$/gm)].map((match) => match[1] ?? "");
  return comments.flatMap((comment) =>
    [...comment.matchAll(/"\w+":(?:"[^"…]*"|-?\d+|true|false)(?=[,}])/g)].map((match) => match[0]),
  );
}

const documents = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`),
]
  .map((path) => ({ path, blocks: shellBlocksOf(readFileSync(join(ROOT, path), "utf8")) }))
  .filter((document) => document.blocks.length > 0);

function titleOf(block: ShellBlock): string {
  const first = block.code.split("\n").find((line) => line.trim() !== "" && !line.trim().startsWith("#"));
  return `line ${block.line}: ${(first ?? "").trim().slice(0, 60)}`;
}

describe.each(documents)("$path", ({ path, blocks }) => {
  let service: ServiceProcess;
  let session: BashSession;
  let dir: string;

  beforeAll(async () => {
    const bootstrapToken = randomBytes(32).toString("base64");
    service = await startServiceProcess({
      MONGODB_URI: mongoUri(),
      MONGODB_DB: uniqueDbName("docs"),
      BOOTSTRAP_TOKEN: bootstrapToken,
      // As for every test server: a cache-miss lookup budget a loaded machine's stand-in database meets.
      KEY_LOOKUP_TIMEOUT_MS: "2000",
    });
    dir = mkdtempSync(join(tmpdir(), "apikeys-docs-"));
    // The reader is in a clone of the repository.
    session = new BashSession(
      ROOT,
      dir,
      {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        BOOTSTRAP_TOKEN: bootstrapToken,
        APIKEYS_URL: service.httpUrl,
        APIKEYS_SERVER: service.grpcAddress,
        DOCS_TEST_STREAMING_METHODS: streamingMethods.join(" "),
      },
      GRPCURL_STAND_IN,
    );
  }, 90_000);

  afterAll(async () => {
    await session?.close();
    await service?.stop();
    if (dir !== undefined) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const block of blocks) {
    const plan = block.plan;
    if (plan.kind === "skip") {
      it.skip(`${titleOf(block)} — not run here: ${plan.reason}`, () => {});
      continue;
    }
    const usesGrpcurl = /^\s*grpcurl\b/m.test(block.code);
    const suffix = usesGrpcurl ? " (grpcurl checked against the service's descriptors)" : "";
    it(`${titleOf(block)}${suffix}`, async () => {
      const result = await session.run(block.code, { expectFailure: plan.kind === "fails" });
      const context = `${path} line ${block.line} printed:\n${result.output}\nservice log:\n${service.output()}`;
      if (usesGrpcurl) {
        const calls = session.grpcurlCalls();
        expect(calls.length, "grpcurl calls made by the block").toBeGreaterThan(0);
        for (const args of calls) {
          checkGrpcurlCall(args);
        }
      }
      if (plan.kind === "fails") {
        expect(result.status, context).not.toBe(0);
        // grpcurl says FailedPrecondition, Connect failed_precondition.
        const squash = (text: string) => text.replaceAll("_", "").toLowerCase();
        expect(squash(result.output), context).toContain(squash(plan.code));
        return;
      }
      expect(result.status, context).toBe(0);
      for (const name of assignedVariables(block.code)) {
        expect(result.variables[name], `${name} after ${path} line ${block.line}`).not.toMatch(/^(|null)$/);
      }
      for (const field of documentedFields(block.code)) {
        expect(result.output, context).toContain(field);
      }
    }, 120_000);
  }
});
