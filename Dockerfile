# Commit Digest: `digest serve` in a slim image, as a non-root user.
# Build: docker build -t commit-digest .   Run: docker run --env-file .env -p 3000:3000 commit-digest

FROM python:3.11.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY digest ./digest
COPY bot ./bot
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --quiet .

FROM python:3.11.11-slim-bookworm
# git: local clones are read with the git CLI; curl: the health check.
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends git curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 digest
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DIGEST_PORT=3000 \
    DIGEST_HOST=0.0.0.0 \
    DIGEST_DATABASE_URL=sqlite+aiosqlite:////data/digest.db
RUN mkdir -p /data && chown digest:digest /data
VOLUME ["/data"]
USER digest
WORKDIR /home/digest
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${DIGEST_PORT}/healthz" || exit 1
CMD ["digest", "serve"]
