# Handledarbot server image: runtime dependencies only, non-root, listening on 0.0.0.0:3978.
# Build: docker build -t handledarbot .   Try with PostgreSQL: docker compose up --build
# Settings come from the environment (docs/deploy.md lists them); nothing secret is baked in.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The project without its [dev] extra: no pytest, mypy, ruff or Playwright in the image.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
RUN pip install --no-cache-dir . \
    && groupadd --system --gid 10001 handledarbot \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin handledarbot \
    && mkdir /data \
    && chown handledarbot:handledarbot /data

COPY knowledge ./knowledge

# Inside a container the server must listen on every interface, or nothing outside reaches it.
# The SQLite file (used only when DATABASE_URL is unset) lives on the /data volume.
ENV HANDLEDARBOT_HOST=0.0.0.0 \
    HANDLEDARBOT_PORT=3978 \
    HANDLEDARBOT_KNOWLEDGE_DIR=/app/knowledge \
    HANDLEDARBOT_SQLITE_PATH=/data/handledarbot.sqlite3 \
    HANDLEDARBOT_LOG_FORMAT=json

USER 10001:10001
VOLUME ["/data"]
EXPOSE 3978

HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["handledarbot", "health"]

CMD ["handledarbot", "serve"]
