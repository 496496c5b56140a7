import { Code, ConnectError } from "@connectrpc/connect";
import { TransportProvider } from "@connectrpc/connect-query";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App, reportUnauthenticated } from "./app.js";
import { createApiTransport } from "./transport.js";
import "./styles.css";

/** Only failures a retry may fix are retried (never a refusal or a bad request). */
const RETRYABLE = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Unknown]);

const onError = (error: unknown) => {
  if (ConnectError.from(error).code === Code.Unauthenticated) {
    reportUnauthenticated();
  }
};

const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    queries: {
      retry: (failures, error) => failures < 2 && RETRYABLE.has(ConnectError.from(error).code),
      refetchOnWindowFocus: false,
    },
  },
});

const root = document.getElementById("root");
if (root !== null) {
  createRoot(root).render(
    <StrictMode>
      <TransportProvider transport={createApiTransport()}>
        <QueryClientProvider client={queryClient}>
          <App />
        </QueryClientProvider>
      </TransportProvider>
    </StrictMode>,
  );
}
