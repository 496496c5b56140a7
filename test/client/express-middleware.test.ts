import type { AddressInfo } from "node:net";
import express from "express";
import { createExpressMiddleware } from "../../packages/client/src/express-middleware.js";
import { describeHttpAdapter } from "./helpers/http-adapter-contract.js";
import { GRANTED_PERMISSION, MISSING_PERMISSION, useVerifyFixture } from "./helpers/verify-fixture.js";

const fixture = useVerifyFixture("express");

describeHttpAdapter("Express 5 middleware", fixture, async ({ client, trustProxy }) => {
  const app = express();
  const requireApiKey = createExpressMiddleware(
    trustProxy === undefined ? { client } : { client, trustProxy },
  );
  const echo: express.RequestHandler = (req, res) => {
    if (req.apiKey !== res.locals.apiKey) {
      throw new Error("req.apiKey and res.locals.apiKey differ");
    }
    res.json({ apiKey: res.locals.apiKey ?? null });
  };
  app.get("/open", requireApiKey(), echo);
  app.get("/read", requireApiKey({ permissions: [GRANTED_PERMISSION] }), echo);
  app.post("/orders", requireApiKey({ permissions: [MISSING_PERMISSION] }), echo);
  app.get("/fail-open", requireApiKey({ onUnavailable: "allow" }), echo);
  app.get("/public", echo);
  const server = await new Promise<import("node:http").Server>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
});
