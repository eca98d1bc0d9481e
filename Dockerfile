# The parcelflow image: one image, two processes. The default command runs the Temporal
# worker; the hook/API server is the same image with `python -m workers.hooks` (port 8000).
# Runtime dependencies only: the `dev` extra (test servers, linters) never reaches it.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A virtualenv at a fixed path can be copied whole into the runtime stage, leaving pip's build
# tooling and the source tree behind.
RUN python -m venv /opt/parcelflow
WORKDIR /src
# .dockerignore admits only pyproject.toml, the README and the packages.
COPY . .
RUN /opt/parcelflow/bin/pip install .

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/parcelflow/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 parcelflow \
    && useradd --system --uid 10001 --gid parcelflow --create-home \
       --home-dir /home/parcelflow --shell /usr/sbin/nologin parcelflow
COPY --from=build /opt/parcelflow /opt/parcelflow
WORKDIR /home/parcelflow
# Numeric so that runtimes enforcing "runAsNonRoot" can check it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
CMD ["python", "-m", "workers.worker"]
