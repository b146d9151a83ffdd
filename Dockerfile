# The bridge's image: one image, three roles, chosen by the command.
#   bridge serve       the web processes (gunicorn): plugin contract, webhooks, payor pages, admin API
#   bridge worker      durable jobs: reconciliation, emails, reminders, sweeps
#   bridge db upgrade  the migrations, run once per deployment before the two above
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# A plain (non-editable) install: the package carries its templates and Alembic scripts as package data.
WORKDIR /opt/bridge
COPY pyproject.toml README.md ./
COPY bridge ./bridge
COPY hyperswitch_client ./hyperswitch_client
COPY killbill_client ./killbill_client
RUN python -m venv /opt/venv \
    && pip install /opt/bridge \
    && rm -rf /opt/bridge

# A user of its own (numeric, so orchestrators can tell it is not root); the code is root's and
# read-only to it. Its home is the working directory, where the embedded defaults (SQLite file,
# development key) would go if the image ran with no settings.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/bridge --create-home --shell /usr/sbin/nologin bridge
USER 10001:10001
WORKDIR /var/lib/bridge

# Inside a container the bridge listens on every interface; BRIDGE_PORT stays the bridge's default.
ENV BRIDGE_HOST=0.0.0.0 \
    BRIDGE_PORT=8787
EXPOSE 8787

# Ready means: the database answers and its migrations are current (503 otherwise). A worker has no
# HTTP port; docker-compose.yml gives it a check of its own.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('BRIDGE_PORT', '8787'), timeout=4)"]

ENTRYPOINT ["bridge"]
CMD ["serve"]
