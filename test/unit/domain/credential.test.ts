import { describe, expect, it } from "vitest";
import {
  candidateKeyFromAccessKey,
  candidateKeyFromAuthorization,
  candidateKeyFromCredential,
  candidateKeyFromRaw,
  extractAdminCredential,
  MAX_CREDENTIAL_LENGTH,
  type VerifyCredential,
} from "../../../src/domain/credential.js";
import { createKeyFormat } from "../../../src/domain/key-format.js";
import { captureError } from "../../helpers/capture-error.js";
import { cryptoRandom } from "../../helpers/random.js";

const format = createKeyFormat("ak_live_");
const k = format.generate(cryptoRandom);
const other = format.generate(cryptoRandom);
const huge = "a".repeat(MAX_CREDENTIAL_LENGTH + 1);

describe("candidateKeyFromCredential", () => {
  it.each<[string, VerifyCredential, string | null]>([
    ["raw key", { kind: "key", key: k.key }, k.key],
    ["raw key is not trimmed", { kind: "key", key: ` ${k.key}` }, ` ${k.key}`],
    ["empty raw key", { kind: "key", key: "" }, null],
    ["raw key over 4096", { kind: "key", key: huge }, null],
    ["raw key of exactly 4096", { kind: "key", key: huge.slice(1) }, huge.slice(1)],
    ["Bearer", { kind: "authorization", authorization: `Bearer ${k.key}` }, k.key],
    ["bearer lower case", { kind: "authorization", authorization: `bearer ${k.key}` }, k.key],
    ["BEARER upper case", { kind: "authorization", authorization: `BEARER ${k.key}` }, k.key],
    ["ApiKey", { kind: "authorization", authorization: `ApiKey ${k.key}` }, k.key],
    ["apikey lower case", { kind: "authorization", authorization: `apikey ${k.key}` }, k.key],
    ["two spaces", { kind: "authorization", authorization: `Bearer  ${k.key}` }, null],
    ["tab instead of space", { kind: "authorization", authorization: `Bearer\t${k.key}` }, null],
    ["trailing space", { kind: "authorization", authorization: `Bearer ${k.key} ` }, null],
    ["trailing newline", { kind: "authorization", authorization: `Bearer ${k.key}\n` }, null],
    ["leading space", { kind: "authorization", authorization: ` Bearer ${k.key}` }, null],
    ["scheme only", { kind: "authorization", authorization: "Bearer" }, null],
    ["scheme and space only", { kind: "authorization", authorization: "Bearer " }, null],
    ["Basic scheme", { kind: "authorization", authorization: `Basic ${k.key}` }, null],
    ["Token scheme", { kind: "authorization", authorization: `Token ${k.key}` }, null],
    ["no scheme", { kind: "authorization", authorization: k.key }, null],
    ["two tokens", { kind: "authorization", authorization: `Bearer ${k.key} ${k.key}` }, null],
    ["NUL inside token", { kind: "authorization", authorization: `Bearer ab\u0000cd` }, null],
    ["authorization over 4096", { kind: "authorization", authorization: `Bearer ${huge}` }, null],
    ["empty authorization", { kind: "authorization", authorization: "" }, null],
    ["two-part", { kind: "access_key", accessKeyId: k.keyId, secretKey: k.secretKey }, k.key],
    ["two-part, empty id", { kind: "access_key", accessKeyId: "", secretKey: k.secretKey }, null],
    ["two-part, empty secret", { kind: "access_key", accessKeyId: k.keyId, secretKey: "" }, null],
    [
      "two-part, secret containing _ (a whole key split elsewhere)",
      { kind: "access_key", accessKeyId: "ak_live", secretKey: k.key.slice("ak_live_".length) },
      null,
    ],
    ["two-part, id over 4096", { kind: "access_key", accessKeyId: huge, secretKey: k.secretKey }, null],
    ["two-part, secret over 4096", { kind: "access_key", accessKeyId: k.keyId, secretKey: huge }, null],
    ["none", { kind: "none" }, null],
  ])("%s", (_label, credential, expected) => {
    expect(candidateKeyFromCredential(credential)).toBe(expected);
  });

  it("every accepted form of the same key parses to the same key id", () => {
    const forms: VerifyCredential[] = [
      { kind: "key", key: k.key },
      { kind: "authorization", authorization: `Bearer ${k.key}` },
      { kind: "authorization", authorization: `ApiKey ${k.key}` },
      { kind: "access_key", accessKeyId: k.keyId, secretKey: k.secretKey },
    ];
    for (const form of forms) {
      const candidate = candidateKeyFromCredential(form);
      expect(candidate === null ? null : format.parse(candidate)).toEqual({ keyId: k.keyId });
    }
  });

  it("exposes the single-form helpers with the same results", () => {
    expect(candidateKeyFromRaw(k.key)).toBe(k.key);
    expect(candidateKeyFromAuthorization(`Bearer ${k.key}`)).toBe(k.key);
    expect(candidateKeyFromAccessKey(k.keyId, k.secretKey)).toBe(k.key);
  });
});

describe("extractAdminCredential", () => {
  it.each<[string, Parameters<typeof extractAdminCredential>[0], string | null]>([
    ["nothing", {}, null],
    ["both empty", { authorization: "", xApiKey: "" }, null],
    ["both undefined", { authorization: undefined, xApiKey: undefined }, null],
    ["Authorization Bearer", { authorization: `Bearer ${k.key}` }, k.key],
    ["Authorization ApiKey", { authorization: `ApiKey ${k.key}` }, k.key],
    ["X-API-Key", { xApiKey: k.key }, k.key],
    ["both, same key", { authorization: `Bearer ${k.key}`, xApiKey: k.key }, k.key],
    ["empty Authorization, X-API-Key set", { authorization: "", xApiKey: k.key }, k.key],
  ])("%s", (_label, headers, expected) => {
    expect(extractAdminCredential(headers)).toBe(expected);
  });

  it.each<[string, Parameters<typeof extractAdminCredential>[0], RegExp]>([
    [
      "garbage Authorization beside a valid X-API-Key",
      { authorization: "Basic abc", xApiKey: k.key },
      /^malformed authorization header: .*send one credential/,
    ],
    [
      "Authorization without scheme",
      { authorization: k.key },
      /^malformed authorization header: expected 'Bearer <key>'/,
    ],
    ["Authorization Basic", { authorization: "Basic dXNlcjpwYXNz" }, /^malformed authorization header/],
    [
      "Authorization with two spaces",
      { authorization: `Bearer  ${k.key}` },
      /^malformed authorization header/,
    ],
    ["X-API-Key over 4096", { xApiKey: huge }, /^malformed x-api-key header: expected the key alone/],
    [
      "both, different keys",
      { authorization: `Bearer ${k.key}`, xApiKey: other.key },
      /carry different keys/,
    ],
  ])("refuses %s, saying which form is wrong and never echoing it", (_label, headers, message) => {
    const thrown = captureError(() => extractAdminCredential(headers));
    expect(thrown).toMatchObject({ kind: "unauthenticated" });
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain(k.secretKey);
    expect((thrown as Error).message).not.toContain("dXNlcjpwYXNz");
  });
});
