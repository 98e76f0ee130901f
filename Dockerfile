# The project's image, for a Kubernetes (or Docker) work pool: the flows, their locked dependencies and the
# enkash-ar command. Build and push it with `prefect deploy --prefect-file prefect.kubernetes.yaml` (its
# build and push steps), or by hand:
#   docker build -t registry.example.in/finance/enkash-ar:2026.11 .
# No secret goes into the image: credentials stay in EnkashCredentials blocks on the Prefect server.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/enkash-ar/.venv \
    ENKASH_AR_PROJECT_DIR=/opt/enkash-ar

# The uv the Makefile pins, so the image holds exactly the versions of uv.lock.
RUN pip install --no-cache-dir "uv==0.13.9"

WORKDIR /opt/enkash-ar

# Dependencies first (a layer that changes only with uv.lock), then the project itself.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY enkash_ar ./enkash_ar
COPY ar_sync ./ar_sync
COPY sandbox ./sandbox
COPY flows ./flows
COPY tasks ./tasks
COPY blocks ./blocks
COPY cli ./cli
COPY spec ./spec
COPY prefect.yaml prefect.kubernetes.yaml ./
RUN uv sync --frozen --no-dev

ENV PATH="/opt/enkash-ar/.venv/bin:${PATH}"

# The project's own bytecode (UV_COMPILE_BYTECODE covers the dependencies only): with
# PYTHONDONTWRITEBYTECODE set, every flow run would otherwise compile the project again.
RUN python -m compileall -q enkash_ar ar_sync sandbox flows tasks blocks cli

# A user of its own, and the folders the deployments write to (mount volumes there to keep ledgers and
# reports from night to night: the run ledger is what makes a rerun send nothing twice).
RUN useradd --create-home --uid 10001 enkash \
    && mkdir -p /var/lib/enkash-ar/out /var/lib/enkash-ar/ledgers /var/lib/erp-export /etc/enkash-ar \
    && chown -R enkash /var/lib/enkash-ar
USER enkash

# A worker starts flow runs in this image with its own command; run by hand, the image answers this.
CMD ["enkash-ar", "--help"]
