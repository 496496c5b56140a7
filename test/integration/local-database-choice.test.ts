/**
 * Where the npm MongoDB-wire server comes from: the optional package built for this machine, or nothing,
 * and then one line that says what to do.
 */
import { accessSync, constants } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  LocalDatabaseUnavailableError,
  WIRE_SERVER_PACKAGES,
  wireServerBinary,
} from "../../src/storage/local-mongo.js";

describe("local database choice", () => {
  // The registry has a build for Linux x64 only.
  it.runIf(process.platform === "linux" && process.arch === "x64")(
    "finds the executable of the wire server package installed for this machine",
    () => {
      const binary = wireServerBinary(process);
      expect(binary).not.toBeNull();
      expect(binary).toContain(WIRE_SERVER_PACKAGES[0]);
      accessSync(binary ?? "", constants.X_OK);
    },
  );

  it.each([
    { platform: "darwin", arch: "arm64" },
    { platform: "linux", arch: "arm64" },
    { platform: "win32", arch: "x64" },
  ])("finds none for $platform-$arch, where the installed package cannot run", (target) => {
    expect(wireServerBinary(target)).toBeNull();
  });

  it("says in one line what to do: set MONGODB_URI or put mongod on PATH", () => {
    const message = new LocalDatabaseUnavailableError({ platform: "darwin", arch: "arm64" }).message;
    expect(message.split("\n")).toHaveLength(1);
    expect(message).toContain("darwin-arm64");
    expect(message).toMatch(/set MONGODB_URI to a MongoDB server .*, or put mongod on PATH$/);
  });
});
