# Reprise: TypeScript run directly with tsx (no build step).
# Bookworm because its ffmpeg 5.1 is what the project is tested with.

# --- deps: compiler toolchain only here, in case better-sqlite3 must build from source ---
FROM node:20-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci && npm cache clean --force

# --- runtime: same base (same Node ABI and glibc as the compiled addon) plus ffmpeg ---
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
# DATA_DIR (default ./data): worker scratch space; must be writable by the non-root user.
RUN mkdir -p /app/data && chown node:node /app/data

ENV NODE_ENV=production
USER node
EXPOSE 8080
# /healthz only says the process is up; the worker command has no HTTP, so compose disables this there.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Same as `npm start`, but node runs directly so it receives SIGTERM itself.
CMD ["node", "--import", "tsx", "src/main.ts", "serve"]
