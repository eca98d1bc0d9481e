"""The production stack as shipped: docker-compose.yml, the Dockerfile and .dockerignore."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from adapters.asgi_server import serve_in_thread
from workers.config import WorkerHealthSettings
from workers.worker_health import HEALTH_PATH
from workflows import search_attributes

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# Every search attribute the workflows upsert, name to Temporal type ("OrderState": "Keyword").
SEARCH_ATTRIBUTES = dict(pair.split("=", 1) for pair in search_attributes.registrations())
SERVICES = {"postgresql", "temporal", "temporal-admin-tools", "temporal-ui", "worker", "hooks"}
OUR_SERVICES = ("worker", "hooks")
LONG_RUNNING = ("postgresql", "temporal", "temporal-ui", "worker", "hooks")
OUR_IMAGE = re.compile(
    r"^ghcr\.io/parcelflow/parcelflow:\$\{PARCELFLOW_VERSION:-(?P<default>[^}]+)\}$"
)

# A credential is any variable whose name says so. Decision: none has a value in the file, not
# even the database password (no "local default"): this is the production stack, and a default
# password committed to a repository is how databases end up open. A credential is either
# `${VAR}` or `${VAR:?why}` / `${VAR?why}`, the latter stopping compose when VAR is unset.
CREDENTIAL_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PWD")
ENV_REFERENCE = re.compile(r"^\$\{\w+(?::?\?[^}]*)?\}$")
# Values that the test may pass to `docker compose config`: one per `${VAR:?}` in the file.
REQUIRED_VARIABLES = re.compile(r"\$\{(\w+):?\?")


def load_compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return document


COMPOSE = load_compose()


def service(name: str) -> dict[str, Any]:
    found: dict[str, Any] = COMPOSE["services"][name]
    return found


def environment(name: str) -> dict[str, str | None]:
    """A service's environment as a mapping, whichever of compose's two syntaxes it uses."""
    env = service(name).get("environment", {})
    if isinstance(env, list):
        pairs = (entry.partition("=") for entry in env)
        return {key: (value if sep else None) for key, sep, value in pairs}
    return {key: None if value is None else str(value) for key, value in env.items()}


def published_ports(name: str) -> set[tuple[int, int]]:
    """(host port, container port) pairs a service publishes, in short or long syntax."""
    pairs: set[tuple[int, int]] = set()
    for entry in service(name).get("ports", []):
        if isinstance(entry, dict):
            pairs.add((int(entry["published"]), int(entry["target"])))
        else:
            *_, published, target = str(entry).split(":")
            pairs.add((int(published), int(target.split("/")[0])))
    return pairs


def depends_on(name: str) -> dict[str, str]:
    """Each dependency of a service and the condition it waits for."""
    deps = service(name).get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {dep: spec.get("condition", "service_started") for dep, spec in deps.items()}


def command_text(name: str) -> str:
    command = service(name).get("command", "")
    return command if isinstance(command, str) else " ".join(command)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each Dockerfile instruction, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, arguments = stripped.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def test_the_stack_has_every_service_it_needs() -> None:
    assert set(COMPOSE["services"]) >= SERVICES


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_image_is_pinned_to_a_version_tag(name: str) -> None:
    image: str = service(name)["image"]
    repository, colon, tag = image.rpartition(":")

    assert colon, f"{name}: image {image} has no tag"
    assert "/" not in tag, f"{name}: image {image} has no tag"
    assert tag not in {"", "latest"}, f"{name}: image {image} is not pinned"
    assert re.search(r"\d", tag), f"{name}: tag {tag} names no version"
    assert repository


def test_our_image_defaults_to_the_version_in_pyproject() -> None:
    for name in OUR_SERVICES:
        match = OUR_IMAGE.match(service(name)["image"])
        assert match, f"{name} does not run ghcr.io/parcelflow/parcelflow"
        assert match["default"] == PYPROJECT["project"]["version"]


def test_temporal_runs_a_1_2x_or_1_3x_server_and_matching_admin_tools() -> None:
    server_tag = service("temporal")["image"].rpartition(":")[2]
    tools_tag = service("temporal-admin-tools")["image"].rpartition(":")[2]

    assert re.fullmatch(r"1\.[23]\d\.\d+", server_tag)
    assert tools_tag.split("-")[0] == server_tag


def test_temporal_keeps_its_state_in_postgres_and_waits_for_it_to_be_healthy() -> None:
    temporal_env = environment("temporal")
    postgres_env = environment("postgresql")

    assert temporal_env["DB"] == "postgres12"
    assert temporal_env["POSTGRES_SEEDS"] == "postgresql"
    assert temporal_env["DB_PORT"] == "5432"
    assert temporal_env["POSTGRES_USER"] == postgres_env["POSTGRES_USER"]
    assert temporal_env["POSTGRES_PWD"] == postgres_env["POSTGRES_PASSWORD"]
    assert depends_on("temporal")["postgresql"] == "service_healthy"
    assert (7233, 7233) in published_ports("temporal")


def test_postgres_keeps_its_data_in_a_named_volume_and_reports_readiness() -> None:
    postgres = service("postgresql")
    volume, _, mount = next(
        v.partition(":") for v in postgres["volumes"] if "/var/lib/postgresql/data" in v
    )

    assert postgres["image"].startswith("postgres:16")
    assert volume in COMPOSE["volumes"]
    assert mount == "/var/lib/postgresql/data"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_the_ui_points_at_temporal_and_publishes_8080() -> None:
    env = environment("temporal-ui")

    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["TEMPORAL_CORS_ORIGINS"]
    assert (8080, 8080) in published_ports("temporal-ui")


@pytest.mark.parametrize("name", OUR_SERVICES)
def test_worker_and_hooks_are_built_from_this_repository(name: str) -> None:
    build = service(name)["build"]
    context = build if isinstance(build, str) else build["context"]
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")

    assert (ROOT / context).resolve() == ROOT
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE


@pytest.mark.parametrize("name", OUR_SERVICES)
def test_worker_and_hooks_share_one_temporal_namespace_and_task_queue(name: str) -> None:
    env = environment(name)

    assert env["PARCELFLOW_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["PARCELFLOW_TEMPORAL_NAMESPACE"] == "default"
    assert env["PARCELFLOW_TASK_QUEUE"] == "parcelflow"
    assert env["PARCELFLOW_LOG_FORMAT"] == "json"


@pytest.mark.parametrize("name", OUR_SERVICES)
def test_worker_and_hooks_start_once_temporal_is_healthy_and_attributes_exist(name: str) -> None:
    deps = depends_on(name)

    assert deps["temporal"] == "service_healthy"
    assert deps["temporal-admin-tools"] == "service_completed_successfully"


@pytest.mark.parametrize(
    ("name", "module"), [("worker", "workers.worker"), ("hooks", "workers.hooks")]
)
def test_each_process_runs_its_module_from_the_workers_package(name: str, module: str) -> None:
    assert service(name)["command"] == ["python", "-m", module]
    assert (ROOT / "workers" / "__init__.py").is_file()


def test_only_the_hook_server_is_public_and_it_listens_on_8000() -> None:
    assert (8000, 8000) in published_ports("hooks")
    assert "healthcheck" in service("hooks")
    for name in ("temporal", "temporal-ui"):
        for entry in service(name)["ports"]:
            assert str(entry).startswith("127.0.0.1:"), f"{name} publishes {entry} publicly"
    assert "ports" not in service("postgresql")


def healthcheck_script(name: str) -> str:
    """The Python a service's ``CMD python -c`` healthcheck runs."""
    test = service(name)["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], test
    script: str = test[3]
    return script


def test_the_worker_has_a_healthcheck_on_its_own_health_endpoint() -> None:
    port = environment("worker")["PARCELFLOW_WORKER_HEALTH_PORT"]
    healthcheck = service("worker")["healthcheck"]

    assert port is not None
    assert WorkerHealthSettings.from_env({"PARCELFLOW_WORKER_HEALTH_PORT": port}).port
    assert "PARCELFLOW_WORKER_HEALTH_PORT" in healthcheck_script("worker")
    assert HEALTH_PATH in healthcheck_script("worker")
    assert healthcheck["retries"] >= 1
    assert "ports" not in service("worker"), "the loopback is enough: nothing is published"


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_the_worker_healthcheck_fails_on_a_503_and_prints_the_report(
    status: int, exit_code: int
) -> None:
    report = {"status": "ok" if status == 200 else "unhealthy", "problems": ["the reason"]}
    app = FastAPI()

    @app.get(HEALTH_PATH)
    async def healthz() -> JSONResponse:
        return JSONResponse(report, status_code=status)

    with serve_in_thread(app) as url:
        env = {**os.environ, "PARCELFLOW_WORKER_HEALTH_PORT": url.rpartition(":")[2]}
        checked = subprocess.run(  # noqa: S603 - the compose file's own healthcheck.
            [sys.executable, "-c", healthcheck_script("worker")],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=30,
        )

    assert checked.returncode == exit_code
    shown = checked.stdout if status == 200 else checked.stderr
    assert json.loads(shown) == report


def test_the_worker_can_be_scaled_out() -> None:
    worker = service("worker")

    assert isinstance(worker["deploy"]["replicas"], int)
    assert "container_name" not in worker, "a fixed container name forbids --scale"
    assert "ports" not in worker, "a published port forbids --scale"


def test_admin_tools_registers_every_search_attribute_the_workflows_use() -> None:
    assert SEARCH_ATTRIBUTES, "workflows/search_attributes.py declares no attribute"
    script = command_text("temporal-admin-tools")
    namespace = environment("worker")["PARCELFLOW_TEMPORAL_NAMESPACE"]

    for name, kind in SEARCH_ATTRIBUTES.items():
        pattern = (
            rf"temporal operator search-attribute create --namespace {namespace} "
            rf"--name {name} --type {kind}\b"
        )
        assert re.search(pattern, script), f"{name} ({kind}) is not registered in {namespace}"


def test_admin_tools_runs_once_after_waiting_for_the_server() -> None:
    tools = service("temporal-admin-tools")
    script = command_text("temporal-admin-tools")

    assert depends_on("temporal-admin-tools")["temporal"] == "service_healthy"
    assert environment("temporal-admin-tools")["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert tools["restart"] == "no"
    assert re.search(r"until temporal operator namespace describe --namespace default", script)
    assert "set -eu" in script


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_are_restarted(name: str) -> None:
    assert service(name)["restart"] in {"always", "unless-stopped", "on-failure"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_no_credential_is_written_in_the_compose_file(name: str) -> None:
    for variable, value in environment(name).items():
        if CREDENTIAL_NAME.search(variable):
            assert value is not None
            assert ENV_REFERENCE.match(value), f"{name}.{variable} holds a value, not ${{...}}"


def test_no_webhook_secret_or_key_appears_anywhere_in_the_file() -> None:
    text = COMPOSE_FILE.read_text()

    assert not re.search(r"whsec_[A-Za-z0-9+/=]{8,}", text)
    assert not re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----", text)


def test_credentials_reach_only_the_process_that_uses_them() -> None:
    worker = environment("worker")
    hooks = environment("hooks")
    marketplace = {
        "PARCELFLOW_ALIEXPRESS_APP_KEY",
        "PARCELFLOW_ALIEXPRESS_APP_SECRET",
        "PARCELFLOW_ALIEXPRESS_ACCESS_TOKEN",
        "PARCELFLOW_17TRACK_TOKEN",
    }

    assert marketplace <= worker.keys()
    assert not marketplace & hooks.keys()
    assert "PARCELFLOW_WEBHOOK_SECRETS" in hooks
    assert "PARCELFLOW_WEBHOOK_SECRETS" not in worker
    optional_tokens = {
        "PARCELFLOW_ALIEXPRESS_REFRESH_TOKEN",
        "PARCELFLOW_ALIEXPRESS_TOKEN_EXPIRES_AT",
    }
    assert optional_tokens <= worker.keys()
    assert not optional_tokens & hooks.keys()
    assert "PARCELFLOW_EASYPOST_WEBHOOK_SECRET" in hooks
    assert "PARCELFLOW_EASYPOST_WEBHOOK_SECRET" not in worker
    for value in (hooks["PARCELFLOW_WEBHOOK_SECRETS"], *(worker[v] for v in marketplace)):
        assert value is not None
        assert ":?" in value, f"{value} does not stop compose when unset"


def test_the_image_runs_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    last_stage = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    users = [args for keyword, args in instructions[last_stage:] if keyword == "USER"]

    assert users, "the runtime stage never leaves root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_the_image_installs_the_package_without_dev_extras_and_runs_the_worker() -> None:
    instructions = dockerfile_instructions()

    def arguments_of(wanted: str) -> list[str]:
        return [arguments for keyword, arguments in instructions if keyword == wanted]

    runs = " ".join(arguments_of("RUN"))
    build_args = dict(arg.partition("=")[::2] for arg in arguments_of("ARG"))

    assert re.search(r"pip install \.(\s|$)", runs)
    assert "[dev]" not in runs
    assert build_args["PYTHON_IMAGE"] == "python:3.11-slim"
    assert all(base.split()[0] == "${PYTHON_IMAGE}" for base in arguments_of("FROM"))
    assert "8000" in arguments_of("EXPOSE")
    assert arguments_of("CMD")[-1] == '["python", "-m", "workers.worker"]'


def test_the_build_context_admits_every_installed_package_and_nothing_else() -> None:
    lines = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    admitted = {line.removeprefix("!").rstrip("/") for line in lines if line.startswith("!")}
    packages = {
        pattern.rstrip("*")
        for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }

    assert lines[0] == "*", "the context is an allow-list"
    assert packages | {"pyproject.toml"} <= admitted
    assert not admitted & {".env", ".venv", ".git", "tests"}


def test_docker_compose_accepts_the_file_and_refuses_to_run_without_its_secrets() -> None:
    top_level = {key for key in COMPOSE if not key.startswith("x-")}
    assert top_level <= {"name", "services", "volumes", "networks", "configs", "secrets"}

    docker = shutil.which("docker")
    if docker is None or not compose_plugin_works(docker):
        # The static checks above are the whole test where the compose plugin is absent.
        return
    required = set(REQUIRED_VARIABLES.findall(COMPOSE_FILE.read_text()))
    base_env = {k: v for k, v in os.environ.items() if k not in required}
    complete_env = base_env | dict.fromkeys(required, "test-value")

    valid = run_compose(docker, complete_env)
    missing_secret = run_compose(
        docker, {k: v for k, v in complete_env.items() if k != "PARCELFLOW_WEBHOOK_SECRETS"}
    )

    assert valid.returncode == 0, valid.stderr
    assert missing_secret.returncode != 0
    assert "PARCELFLOW_WEBHOOK_SECRETS" in missing_secret.stderr


def compose_plugin_works(docker: str) -> bool:
    probe = subprocess.run(  # noqa: S603 -- fixed arguments, resolved executable.
        [docker, "compose", "version"], capture_output=True, text=True, check=False
    )
    return probe.returncode == 0


def run_compose(docker: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [
        docker,
        "compose",
        "--project-directory",
        str(ROOT),
        "--file",
        str(COMPOSE_FILE),
        # An empty env file: a developer's .env must not supply what the test leaves out.
        "--env-file",
        os.devnull,
        "config",
        "--quiet",
    ]
    return subprocess.run(  # noqa: S603 -- fixed arguments, resolved executable.
        command, capture_output=True, text=True, check=False, env=env, cwd=ROOT
    )
