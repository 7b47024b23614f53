# syntax=docker/dockerfile:1
#
# dis-gateway: Node 24 runs the TypeScript sources directly (type stripping), so there is no build
# stage, only a dependency stage whose node_modules is copied into a clean runtime stage.
#
# The base is pinned to the exact Node release the test suite runs on. For a reproducible build pin
# the digest too; the multi-arch index digest of this tag, as published when it was chosen, is
#   node:24.21.0-bookworm-slim@sha256:0e0ff40c39bc087845bfb27465a0df4ea419520094bc35842ff83dd8cbe6f9b6
# (check with `docker buildx imagetools inspect node:24.21.0-bookworm-slim` and pass it as
# --build-arg NODE_IMAGE=...; a wrong digest fails the pull, it never builds on something else).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no runtime dependency compiles anything, and install scripts are code we did
# not review. The npm cache stays behind in this stage, which the image does not keep.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and not writable by the process: the gateway writes nothing at runtime (logs go to
# stdout, state to Redis), so it runs with a read-only root filesystem and needs no /tmp.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY src ./src
# The image's `node` user, by number so Kubernetes can check runAsNonRoot without a passwd lookup.
USER 1000:1000
EXPOSE 8080
# Docker/compose only (Kubernetes uses its own probes). node, not curl: the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz',{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form with node itself as PID 1: SIGTERM reaches the gateway's handler directly (no npm, no
# shell in between to swallow it). Node installs handlers for SIGTERM and SIGINT, so PID 1's
# "ignore signals without a handler" rule does not bite, and the process starts no children to reap.
STOPSIGNAL SIGTERM
CMD ["node", "src/main.ts"]
