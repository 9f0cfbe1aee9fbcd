# syntax=docker/dockerfile:1
# icd10-cds: the service (dist/main.js) and the batch command (dist/cli/code.js), with the
# default model, code-set, knowledge and ranker bundles inside. docs/deployment.md.

# Build: every dependency (TypeScript), then the compiled service, then production
# dependencies only. Native modules (better-sqlite3) are built here, on the runtime's base.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script only fetches optional GPU libraries; the CPU build ships in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime: no compiler, no sources, no dev dependencies; files owned by root, the process runs as node.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY fhir-profiles ./fhir-profiles
COPY models/default ./models/default
COPY models/icd10cm-2023 ./models/icd10cm-2023
COPY models/knowledge ./models/knowledge
COPY models/ranker ./models/ranker
# STORE_PATH's default directory (SQLite, one replica); with STORE_URL nothing is written here.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
# No curl in the image: node itself asks /healthz on loopback.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
