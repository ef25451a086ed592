# The gate's image: API, worker and CLI, with pinned Semgrep and Trivy.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SEMGREP_ENABLE_VERSION_CHECK=0 \
    SEMGREP_SEND_METRICS=off \
    RELEASEGATE_DATA_DIR=/var/lib/releasegate \
    RELEASEGATE_POLICY_DIR=/app/policies

RUN apt-get update && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/releasegate --create-home releasegate

WORKDIR /app
COPY pyproject.toml README.md ./
COPY scanner ./scanner
COPY workers ./workers
COPY policies ./policies
RUN pip install --no-cache-dir '.[scanners]'

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["releasegate", "serve", "--host", "0.0.0.0", "--port", "8000"]
