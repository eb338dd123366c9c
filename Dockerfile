# One image for every sweepq process: scheduler, cpu/gpu workers, Flower and the dashboard (see compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SWEEPQ_ARTIFACT_ROOT=/artifacts

WORKDIR /app
COPY pyproject.toml README.md ./
COPY orchestrator ./orchestrator
COPY workers ./workers
COPY examples ./examples
COPY configs ./configs
RUN pip install '.[examples]' \
 && useradd --create-home --uid 1000 sweepq \
 && mkdir -p /artifacts && chown sweepq /artifacts

USER sweepq
ENTRYPOINT ["sweepq"]
CMD ["--help"]
