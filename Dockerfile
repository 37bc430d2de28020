# The socialcx project image: Airflow 3 with the project's locked dependencies, DAGs, dbt project and packages.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/socialcx/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    DO_NOT_TRACK=1 \
    PATH=/opt/socialcx/.venv/bin:$PATH

RUN apt-get update \
    && apt-get install -y --no-install-recommends curl build-essential \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir uv \
    && useradd --create-home --uid 50000 airflow

WORKDIR /opt/socialcx
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY . .
RUN uv sync --locked --no-dev \
    && python -m socialcx.stages write-sources \
    && cd dbt_project && dbt parse --profiles-dir . --quiet \
    && mkdir -p /opt/airflow /opt/socialcx/warehouse /opt/socialcx/reports \
    && chown -R airflow /opt/airflow /opt/socialcx

USER airflow
ENTRYPOINT ["airflow"]
CMD ["version"]
