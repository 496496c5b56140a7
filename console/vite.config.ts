/**
 * Builds the admin console into console/dist, served by the service at /console/ (src/server/console-assets.ts).
 * `npm run dev:console` serves it with hot reload and forwards API calls to a service on localhost:8080.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const API_SERVICES = [
  "/apikeys.v1.KeyAdminService",
  "/apikeys.v1.AuditService",
  "/apikeys.v1.KeyVerifyService",
];

// biome-ignore lint/style/noDefaultExport: Vite reads its configuration from the default export.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/console/",
  // Builds are quiet in `npm install`; errors still print.
  logLevel: "warn",
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Every supported browser preloads modules natively; the polyfill would be an inline-free but useless chunk.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    rolldownOptions: {
      onwarn(warning, warn) {
        // TanStack Query marks its hooks "use client" for server-component bundlers; a SPA has no server side.
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") {
          warn(warning);
        }
      },
    },
  },
  server: {
    proxy: Object.fromEntries(API_SERVICES.map((path) => [path, "http://localhost:8080"])),
  },
});
