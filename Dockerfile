# Build stage: compile TypeScript with the locked toolchain.
FROM node:24-bookworm-slim AS build
WORKDIR /app
# The manifests first, the workspace packages' too (npm ci checks them against the lockfile), so the
# dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY packages/client/package.json packages/client/
COPY packages/cli/package.json packages/cli/
# Exactly the lockfile. No install scripts: the image builds what it needs itself, below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY console ./console
RUN npm run build && npm run build:console

# Runtime stage: production dependencies and compiled code only, owned by root and run as the
# unprivileged node user (the service cannot rewrite its own code).
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/client/package.json packages/client/
COPY packages/cli/package.json packages/cli/
# No optional dependencies: the only one is the in-memory database for development.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/console/dist ./console/dist
USER node
EXPOSE 50051 8080
CMD ["node", "dist/server/main.js"]
