# Build stage: compile TypeScript and the sqlite3 native module.
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
# dist/main.js: the service bundled into one file (scripts/bundle.mjs); the packages it leaves out stay in node_modules
RUN npm run build && npm prune --omit=dev
# the dashboard served at /
COPY web/package.json web/package-lock.json ./web/
RUN npm --prefix web ci --no-audit --no-fund
COPY web/index.html web/vite.config.ts web/tsconfig.json ./web/
COPY web/src ./web/src
RUN npm --prefix web run build

# Runtime: the service with ffmpeg and a current yt-dlp (Debian's 2023.03.04 leaks cookies on redirects: CVE-2023-35934).
FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg python3 python3-pip ca-certificates tini \
 && pip3 install --no-cache-dir --break-system-packages "yt-dlp>=2024.1.1" \
 && apt-get purge -y python3-pip && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY package.json ./
ENV NODE_ENV=production HOST=0.0.0.0 PORT=9900 DATA_DIR=/data DOWNLOAD_DIR=/downloads
# the service runs as the image's unprivileged "node" user (uid 1000), which owns only its two volumes;
# they are created before VOLUME so that new named volumes take this ownership
RUN mkdir -p /data /downloads && chown node:node /data /downloads
USER node
VOLUME ["/data", "/downloads"]
EXPOSE 9900
HEALTHCHECK --interval=30s --timeout=5s CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthy').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini forwards SIGTERM so that `docker stop` flushes running tasks and leaves them queued
ENTRYPOINT ["/usr/bin/tini", "--"]
# bound to 0.0.0.0, the service refuses to start without API_KEY (or ALLOW_NO_AUTH=true)
CMD ["node", "dist/main.js"]
