import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createKeyFormat } from "../../../src/domain/key-format.js";
import {
  createHmacSha256,
  createKeyHasher,
  digestsEqual,
  type Pepper,
} from "../../../src/domain/key-hash.js";
import { cryptoRandom } from "../../helpers/random.js";

const reference = (secret: Uint8Array, message: string): Buffer =>
  createHmac("sha256", secret).update(message, "utf8").digest();

const pepper = (version: number): Pepper => ({ version, secret: randomBytes(32) });
const format = createKeyFormat("ak_live_");
const newKey = (): string => format.generate(cryptoRandom).key;

describe("createHmacSha256", () => {
  // RFC 4231 test cases 2 (short key) and 6 (key longer than a block, hashed first).
  it.each([
    [
      "RFC 4231 case 2",
      Buffer.from("Jefe"),
      "what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    [
      "RFC 4231 case 6",
      Buffer.alloc(131, 0xaa),
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
  ])("%s", (_label, key, message, expected) => {
    expect(Buffer.from(createHmacSha256(key)(message), "base64url").toString("hex")).toBe(expected);
  });

  it("keeps its own copy of the pepper (zeroing the caller's buffer changes nothing)", () => {
    const secret = randomBytes(32);
    const copy = Buffer.from(secret);
    const hmac = createHmacSha256(secret);
    secret.fill(0);
    const long = "k".repeat(2000);
    expect(hmac("ak_live_x")).toBe(reference(copy, "ak_live_x").toString("base64url"));
    expect(hmac(long)).toBe(reference(copy, long).toString("base64url"));
  });
});

describe("createKeyHasher", () => {
  const current = pepper(2);
  const previous = pepper(1);
  const hasher = createKeyHasher(current, [previous]);
  const oldHasher = createKeyHasher(previous);

  it("hashes with the current pepper as base64url HMAC-SHA-256 of the whole key", () => {
    const key = newKey();
    const stored = hasher.hash(key);
    expect(stored.pepperVersion).toBe(2);
    expect(stored.hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(stored.hash).toBe(reference(current.secret, key).toString("base64url"));
    expect(hasher.currentPepperVersion).toBe(2);
  });

  it("matches its own hashes and those made with a previous pepper", () => {
    const key = newKey();
    expect(hasher.matches(key, hasher.hash(key).hash, 2)).toBe(true);
    const old = oldHasher.hash(key);
    expect(old.pepperVersion).toBe(1);
    expect(hasher.matches(key, old.hash, 1)).toBe(true);
  });

  it.each([
    ["another key", (_key: string, hash: string) => hasher.matches(newKey(), hash, 2)],
    ["the wrong pepper version", (key: string, hash: string) => hasher.matches(key, hash, 1)],
    ["an unknown pepper version", (key: string, hash: string) => hasher.matches(key, hash, 3)],
    [
      "a hash one character off",
      (key: string, hash: string) => hasher.matches(key, `${hash[0] === "A" ? "B" : "A"}${hash.slice(1)}`, 2),
    ],
    ["a truncated hash", (key: string, hash: string) => hasher.matches(key, hash.slice(0, -1), 2)],
    ["a padded hash", (key: string, hash: string) => hasher.matches(key, `${hash}=`, 2)],
    [
      // The last character carries 2 unused bits: flipping one gives another text of the same 32 bytes.
      "a non-canonical text of the same digest",
      (key: string, hash: string) =>
        hasher.matches(key, hash.slice(0, -1) + flipLowBit(hash.at(-1) as string), 2),
    ],
    ["a hex hash", (key: string) => hasher.matches(key, reference(current.secret, key).toString("hex"), 2)],
    ["an empty hash", (key: string) => hasher.matches(key, "", 2)],
    ["a key with a trailing newline", (key: string, hash: string) => hasher.matches(`${key}\n`, hash, 2)],
  ])("does not match %s", (_label, attempt) => {
    const key = newKey();
    expect(attempt(key, hasher.hash(key).hash)).toBe(false);
  });

  it("digest is the stored text of the HMAC under that pepper, null for an unknown pepper version", () => {
    const key = newKey();
    expect(hasher.digest(key, 9)).toBeNull();
    expect(hasher.digest(key, 1)).toBe(reference(previous.secret, key).toString("base64url"));
    expect(hasher.digest(key, 2)).toBe(hasher.hash(key).hash);
  });

  it.each([
    ["a short pepper", () => createKeyHasher({ version: 1, secret: randomBytes(31) })],
    ["version 0", () => createKeyHasher({ version: 0, secret: randomBytes(32) })],
    ["a fractional version", () => createKeyHasher({ version: 1.5, secret: randomBytes(32) })],
    ["a repeated version", () => createKeyHasher(pepper(1), [pepper(1)])],
    ["a short previous pepper", () => createKeyHasher(pepper(2), [{ version: 1, secret: randomBytes(8) }])],
  ])("refuses %s", (_label, create) => {
    expect(create).toThrow(RangeError);
  });

  it("never puts the pepper in an error message", () => {
    const secret = Buffer.alloc(8, 0x41);
    expect(() => createKeyHasher({ version: 1, secret })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("AAAA") }),
    );
  });
});

describe("digestsEqual", () => {
  const text = randomBytes(32).toString("base64url");

  it.each([
    ["the same text", text, text, true],
    ["another digest", text, randomBytes(32).toString("base64url"), false],
    ["a truncated text", text, text.slice(0, -1), false],
    ["an unknown pepper (no digest)", null, text, false],
  ])("%s", (_label, computed, stored, expected) => {
    expect(digestsEqual(computed, stored)).toBe(expected);
  });
});

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const flipLowBit = (c: string): string => BASE64URL[BASE64URL.indexOf(c) ^ 1] as string;
