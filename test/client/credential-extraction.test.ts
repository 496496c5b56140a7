import { describe, expect, it } from "vitest";
import { extractCredential, readHeader } from "../../packages/client/src/credential-extraction.js";

const KEY = "ak_test_abcdefgh12345678_S3cr3tS3cr3tS3cr3tS3cr3t";

describe("extractCredential", () => {
  it.each([
    ["Bearer", { authorization: `Bearer ${KEY}` }, "authorization-bearer"],
    ["bearer lower-case scheme", { authorization: `bearer ${KEY}` }, "authorization-bearer"],
    ["ApiKey", { authorization: `ApiKey ${KEY}` }, "authorization-apikey"],
    ["APIKEY upper-case scheme", { authorization: `APIKEY ${KEY}` }, "authorization-apikey"],
    ["Bearer with extra spaces", { authorization: `  Bearer   ${KEY}  ` }, "authorization-bearer"],
    ["X-API-Key", { "x-api-key": KEY }, "x-api-key"],
    ["X-API-Key with surrounding whitespace", { "x-api-key": `  ${KEY}\t` }, "x-api-key"],
  ] as const)("finds the key in %s", (_label, headers, source) => {
    expect(extractCredential(headers)).toEqual({ credential: { kind: "key", key: KEY }, source });
  });

  it("finds the two-header accessKey + secretKey form", () => {
    expect(extractCredential({ accesskey: "ak_test_abcdefgh12345678", secretkey: "S3cr3t" })).toEqual({
      credential: { kind: "accessKey", accessKeyId: "ak_test_abcdefgh12345678", secretKey: "S3cr3t" },
      source: "access-key-headers",
    });
  });

  it("reads header names case-insensitively from hand-made objects and fetch Headers", () => {
    expect(extractCredential({ "X-Api-Key": KEY })?.credential).toEqual({ kind: "key", key: KEY });
    const headers = new Headers({ accessKey: "ak_x", secretKey: "s" });
    expect(extractCredential(headers)?.credential).toEqual({
      kind: "accessKey",
      accessKeyId: "ak_x",
      secretKey: "s",
    });
    expect(extractCredential(new Headers({ Authorization: `ApiKey ${KEY}` }))?.source).toBe(
      "authorization-apikey",
    );
  });

  it.each([
    ["no headers", {}],
    ["Basic credentials (never forwarded)", { authorization: "Basic dXNlcjpwYXNzd29yZA==" }],
    ["Digest credentials", { authorization: 'Digest username="u"' }],
    ["Bearer without a token", { authorization: "Bearer " }],
    ["Bearer with two tokens", { authorization: `Bearer ${KEY} extra` }],
    ["a bare key in Authorization", { authorization: KEY }],
    ["an empty X-API-Key", { "x-api-key": "   " }],
    ["accessKey without secretKey", { accesskey: "ak_test_abcdefgh12345678" }],
    ["secretKey without accessKey", { secretkey: "S3cr3t" }],
    ["X-API-Key repeated with different values", { "x-api-key": [KEY, `${KEY}x`] }],
  ] as const)("finds nothing with %s", (_label, headers) => {
    expect(extractCredential(headers)).toBeNull();
  });

  it("prefers Authorization over X-API-Key over the two-header form", () => {
    const other = `${KEY}_other`;
    expect(
      extractCredential({
        authorization: `Bearer ${KEY}`,
        "x-api-key": other,
        accesskey: "a",
        secretkey: "b",
      })?.credential,
    ).toEqual({ kind: "key", key: KEY });
    expect(extractCredential({ "x-api-key": other, accesskey: "a", secretkey: "b" })?.credential).toEqual({
      kind: "key",
      key: other,
    });
  });

  it("falls through to X-API-Key when Authorization carries another scheme", () => {
    expect(extractCredential({ authorization: "Basic dXNlcjpw", "x-api-key": KEY })).toEqual({
      credential: { kind: "key", key: KEY },
      source: "x-api-key",
    });
  });
});

describe("readHeader", () => {
  it("accepts a repeated header whose values agree", () => {
    expect(readHeader({ "x-api-key": [KEY, ` ${KEY}`] }, "x-api-key")).toBe(KEY);
  });
});
