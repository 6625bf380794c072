# mlpipe worker image. Build: docker build -t temporal-ml-pipelines .
# (docker-compose.yml builds it as the `worker` service.)

# --- dependencies: native modules (better-sqlite3) need a compiler -------------------------
FROM node:20-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Full install (dev tools included); the app runs its TypeScript through tsx, a dependency.
# npm ci rejects a lock file written where the registry served no other-platform optional packages
# (@swc/core-darwin-*, ...); npm install from the same lock works then.
RUN (npm ci --no-audit --no-fund || npm install --no-audit --no-fund --no-save) \
 && npm cache clean --force

# --- runtime: no build tools ---------------------------------------------------------------
FROM node:20-bookworm-slim
ENV MLPIPE_DATA_DIR=/data
WORKDIR /app
# Code and dependencies stay root-owned (read-only for the worker); it writes only under /data.
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# /data is the artifact/report volume; owned by the unprivileged user so a fresh named volume is too.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
CMD ["node", "--import", "tsx", "src/cli/main.ts", "worker"]
