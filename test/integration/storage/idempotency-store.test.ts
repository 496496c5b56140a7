import { beforeAll, describe, expect, it } from "vitest";
import {
  createMongoIdempotencyStore,
  DEFAULT_IDEMPOTENCY_LEASE_MS,
  DEFAULT_IDEMPOTENCY_RETENTION_MS,
  IDEMPOTENCY_COLLECTION,
  idempotencyId,
  idempotencyIndexes,
} from "../../../src/storage/idempotency-store.js";
import { ensureIndexes } from "../../../src/storage/indexes.js";
import { useTestDatabase } from "../../helpers/mongo.js";
import { at, uniqueId } from "./fixtures.js";

describe("MongoIdempotencyStore", () => {
  const { db } = useTestDatabase("idempotency");
  const store = createMongoIdempotencyStore(db);

  beforeAll(async () => {
    await ensureIndexes(db, idempotencyIndexes);
  });

  it("lets exactly one of 20 concurrent claims of one request id run; the others see it in progress", async () => {
    const requestId = uniqueId("req");
    const claims = await Promise.all(
      Array.from({ length: 20 }, () => store.claim("t1/CreateKey", requestId, "fp", at(0))),
    );
    expect(claims.filter((claim) => claim.state === "claimed")).toHaveLength(1);
    expect(claims.filter((claim) => claim.state === "in_progress")).toHaveLength(19);
  });

  it("replays a completed request with its stored result", async () => {
    const requestId = uniqueId("req");
    expect(await store.claim("s", requestId, "fp", at(0))).toEqual({ state: "claimed" });
    await store.complete("s", requestId, "ak_test_123");
    expect(await store.claim("s", requestId, "fp", at(1000))).toEqual({
      state: "completed",
      result: "ak_test_123",
    });
    expect(await store.claim("s", requestId, "fp", at(2000))).toEqual({
      state: "completed",
      result: "ak_test_123",
    });
  });

  it("reports a mismatch when the request id comes back with different parameters", async () => {
    const requestId = uniqueId("req");
    await store.claim("s", requestId, "fp-a", at(0));
    expect(await store.claim("s", requestId, "fp-b", at(1))).toEqual({ state: "mismatch" });
    await store.complete("s", requestId, "done");
    expect(await store.claim("s", requestId, "fp-b", at(2))).toEqual({ state: "mismatch" });
  });

  it("keeps scopes apart: the same request id in another scope is a new claim", async () => {
    const requestId = uniqueId("req");
    await store.claim("tenant-a/CreateKey", requestId, "fp", at(0));
    expect(await store.claim("tenant-b/CreateKey", requestId, "other", at(0))).toEqual({ state: "claimed" });
    // Length-prefixed ids: no (scope, id) pair can be spelled like another.
    expect(idempotencyId("a:b", "c")).not.toBe(idempotencyId("a", "b:c"));
  });

  it("lets an abandoned request be claimed again, with any parameters", async () => {
    const requestId = uniqueId("req");
    await store.claim("s", requestId, "fp", at(0));
    await store.abandon("s", requestId);
    expect(await store.claim("s", requestId, "fp-new", at(1))).toEqual({ state: "claimed" });
  });

  it("does not let abandon erase a completed result", async () => {
    const requestId = uniqueId("req");
    await store.claim("s", requestId, "fp", at(0));
    await store.complete("s", requestId, "r");
    await store.abandon("s", requestId);
    expect(await store.claim("s", requestId, "fp", at(1))).toEqual({ state: "completed", result: "r" });
  });

  it("forgets a request id once its retention has passed, whatever its state", async () => {
    const done = uniqueId("req");
    await store.claim("s", done, "fp", at(0));
    await store.complete("s", done, "r");
    const edge = at(DEFAULT_IDEMPOTENCY_RETENTION_MS);
    expect(await store.claim("s", done, "fp", at(DEFAULT_IDEMPOTENCY_RETENTION_MS - 1))).toEqual({
      state: "completed",
      result: "r",
    });
    expect(await store.claim("s", done, "other", edge)).toEqual({ state: "claimed" });
    const record = await db
      .collection(IDEMPOTENCY_COLLECTION)
      .findOne({ _id: idempotencyId("s", done) as never });
    expect(record?.fingerprint).toBe("other");
    expect(record?.expiresAt).toEqual(at(2 * DEFAULT_IDEMPOTENCY_RETENTION_MS));
  });

  it("takes over a pending claim whose lease ran out, once, and only with the same parameters", async () => {
    const requestId = uniqueId("req");
    await store.claim("s", requestId, "fp", at(0));
    expect(await store.claim("s", requestId, "fp", at(DEFAULT_IDEMPOTENCY_LEASE_MS - 1))).toEqual({
      state: "in_progress",
    });
    const leaseOver = at(DEFAULT_IDEMPOTENCY_LEASE_MS);
    expect(await store.claim("s", requestId, "other", leaseOver)).toEqual({ state: "mismatch" });
    // Each taker has its own clock reading, as separate requests would.
    const takers = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        store.claim("s", requestId, "fp", at(DEFAULT_IDEMPOTENCY_LEASE_MS + index)),
      ),
    );
    expect(takers.filter((claim) => claim.state === "claimed")).toHaveLength(1);
    expect(takers.filter((claim) => claim.state === "in_progress")).toHaveLength(9);
  });

  it("lets exactly one of many callers take over an expired record", async () => {
    const requestId = uniqueId("req");
    await store.claim("s", requestId, "fp", at(0));
    await store.complete("s", requestId, "r");
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        store.claim("s", requestId, "fp2", at(DEFAULT_IDEMPOTENCY_RETENTION_MS + index)),
      ),
    );
    expect(claims.filter((claim) => claim.state === "claimed")).toHaveLength(1);
    expect(claims.filter((claim) => claim.state === "in_progress")).toHaveLength(9);
  });

  it("declares a TTL index on expiresAt", async () => {
    const indexes = await db.collection(IDEMPOTENCY_COLLECTION).listIndexes().toArray();
    const ttl = indexes.find((index) => index.name === "idempotency_expires_ttl");
    expect(ttl?.key).toEqual({ expiresAt: 1 });
    expect(ttl?.expireAfterSeconds).toBe(0);
  });
});
