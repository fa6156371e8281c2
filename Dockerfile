# syntax=docker/dockerfile:1
# The Co-sell Connectors Assistant as one container: `cosell-bot serve` on port 3978, the locked runtime dependencies,
# the pinned Web Chat bundle (with its brotli and gzip copies), a non-root user. deploy/README.md walks through
# building, pushing and running it on Azure App Service; tests/deploy/ checks this file.
#
#   docker build -t cosell-bot:0.1.0 .
#   docker run --rm -p 3978:3978 --env-file cosell.env -v cosell-data:/data cosell-bot:0.1.0
#   (cosell.env: MicrosoftAppId, MicrosoftAppPassword, MicrosoftAppType, MicrosoftAppTenantId, … as in .env.example)
#
# Pin the bases by digest for a reproducible build: --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:…
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:22-bookworm-slim

# --- Web Chat: the bundle the bot serves at /webchat/webchat.js (scripts/bootstrap does the same in a checkout) ---
FROM ${NODE_IMAGE} AS webchat
WORKDIR /build/webchat
COPY webchat/package.json webchat/package-lock.json webchat/precompress.cjs ./
# --omit=dev: the devDependencies are test tools (manifest validator, Direct Line client); --ignore-scripts: nothing
# of the package runs here, its prebuilt dist/webchat.js is only served as a file
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && node precompress.cjs

# --- Python dependencies: the runtime part of requirements.lock, every file checked against its hash ---
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.lock pyproject.toml deploy/runtime_lock.py ./
# requirements.lock holds the dev extra too (one `uv pip compile --extra dev`); runtime_lock.py keeps the pins that
# [project].dependencies need, hashes unchanged. Three pure-Python sdists (aiounittest, emoji, grapheme) build here.
# The bytecode is compiled again to be checked by hash, never by time: pip's records each source's mtime, which the
# copy into the runtime stage need not keep to the second (podman's did not: all 522 modules the app imports were
# compiled again at every start, which the non-root user cannot even save), and an image's files never change.
# -f: compileall takes a time-checked file whose time still matches for up to date, whatever mode is asked for.
RUN python runtime_lock.py requirements.lock pyproject.toml > requirements.runtime.lock \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --require-hashes -r requirements.runtime.lock \
 && /opt/venv/bin/pip check \
 && /opt/venv/bin/python -m compileall -q -f -j0 --invalidation-mode unchecked-hash /opt/venv/lib

# --- The image that runs ---
FROM ${PYTHON_IMAGE} AS runtime
# COSELL_HOST: bind every interface inside the container; `serve` refuses that without MicrosoftAppId (Bot Framework
# auth on), so the image does not start open to anyone. COSELL_DATABASE_PATH: the SQLite file, on the /data volume;
# COSELL_DATABASE_URL=postgresql://… selects PostgreSQL instead (issue 15 §1). No secret is set here: they come from
# the environment at run time (App Service: Key Vault references, deploy/azure/main.bicep).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    COSELL_HOST=0.0.0.0 \
    COSELL_PORT=3978 \
    COSELL_DATABASE_PATH=/data/cosell-bot.db
RUN groupadd --system --gid 10001 cosell \
 && useradd --system --uid 10001 --gid cosell --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin cosell \
 && install -d -o cosell -g cosell -m 0750 /data
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
# The product's packages only (devtools/ is the benchmark and the simulated tenant, not the product). The app reads
# Web Chat from webchat/node_modules/botframework-webchat and the Teams schemas from deploy/teams/schema beside its
# sources, so it runs from this tree (PYTHONPATH), not from an installed wheel.
COPY bot/ bot/
COPY dialogs/ dialogs/
COPY assistant/ assistant/
COPY tenant/ tenant/
COPY knowledge/ knowledge/
COPY stores/ stores/
COPY support/ support/
COPY deploy/teams/schema/ deploy/teams/schema/
COPY --from=webchat /build/webchat/node_modules/botframework-webchat/package.json webchat/node_modules/botframework-webchat/
COPY --from=webchat /build/webchat/node_modules/botframework-webchat/dist/webchat.js webchat/node_modules/botframework-webchat/dist/
COPY --from=webchat /build/webchat/node_modules/botframework-webchat/dist/webchat.js.br webchat/node_modules/botframework-webchat/dist/
COPY --from=webchat /build/webchat/node_modules/botframework-webchat/dist/webchat.js.gz webchat/node_modules/botframework-webchat/dist/
# the bot serves a compressed copy only when it is no older than the bundle; bytecode compiled once, as root, since
# the user cannot write here (start-up time), checked by hash as the dependencies' (deps stage); the built knowledge
# saved beside it the same way (knowledge/snapshot.py: read in ~15 ms at start-up instead of built in ~85)
RUN touch webchat/node_modules/botframework-webchat/dist/webchat.js.br \
          webchat/node_modules/botframework-webchat/dist/webchat.js.gz \
 && python -m compileall -q --invalidation-mode unchecked-hash bot dialogs assistant tenant knowledge stores support \
 && python -m knowledge.snapshot >/dev/null
USER cosell:cosell
VOLUME ["/data"]
EXPOSE 3978
# liveness: GET /healthz answers 200 while the process serves (no curl in the slim image; App Service ignores this
# and probes its own health check path, /readyz)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('COSELL_PORT', '3978'), timeout=4)"]
CMD ["python", "-m", "bot.cli", "serve"]
