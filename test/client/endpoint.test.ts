import { describe, expect, it } from "vitest";
import { formatEndpoint, MAX_ENDPOINT_BYTES } from "../../packages/client/src/endpoint.js";

describe("formatEndpoint", () => {
  it.each([
    ["GET", "/api/products", "GET /api/products"],
    ["get", "/api/products?page=2&key=secret", "GET /api/products"],
    ["POST", "/api/orders#frag", "POST /api/orders"],
    [
      "POST",
      "http://localhost:8080/acme.v1.OrderService/CreateOrder",
      "POST /acme.v1.OrderService/CreateOrder",
    ],
    ["GET", "", "GET /"],
    ["GET", "relative", "GET /relative"],
    ["GET", "/a\u0001b\u007f", "GET /a%01b%7F"],
    ["G\nET", "/x", "GET /x"],
  ])("%j %j -> %j", (method, url, expected) => {
    expect(formatEndpoint(method, url)).toBe(expected);
  });

  it("cuts long paths to the contract's 256 bytes without splitting a character", () => {
    const endpoint = formatEndpoint("GET", `/${"é".repeat(400)}`);
    expect(Buffer.byteLength(endpoint, "utf8")).toBeLessThanOrEqual(MAX_ENDPOINT_BYTES);
    expect(endpoint.startsWith("GET /éé")).toBe(true);
    expect(endpoint).not.toContain("\uFFFD");
    expect(Buffer.byteLength(endpoint, "utf8")).toBeGreaterThan(MAX_ENDPOINT_BYTES - 2);
  });
});
