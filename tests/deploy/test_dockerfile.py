"""A lint of the Dockerfile and .dockerignore: read with tests/deploy/readers.py (stages, instructions, exec forms,
.dockerignore matching) and checked against what the app needs; plus `dockerfile-utils lint` (npm, the validator of
the Dockerfile language server, a webchat/ devDependency installed by scripts/bootstrap). No image is built here:
there is no Docker daemon and no access to Docker Hub (deploy/rehearse-image.sh builds it with podman on stand-in
bases, by hand: deploy/README.md). tests/deploy/test_container_command.py runs the image's
command and health check against this checkout."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.channels import webchat
from bot.settings import Settings
from tests.deploy.readers import (
    DOCKERFILE,
    DOCKERIGNORE,
    REPO,
    dockerignore_excludes,
    dockerignore_rules,
    pattern_regex,
    read_dockerfile,
)

ARGS, STAGES = read_dockerfile()
FINAL = STAGES[-1]
LINTER = REPO / "webchat" / "node_modules" / ".bin" / "dockerfile-utils"
SECRET_WORD = re.compile(r"(?i)password|secret|token|private_?key|api_?key|cache_key|portal_key|connection_string")


def _product_packages() -> list[str]:
    """The top-level packages pyproject.toml ships, less the developer tools."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted(name.rstrip("*") for name in include if name.rstrip("*") != "devtools")


def test_dockerfile_utils_finds_nothing() -> None:
    node = shutil.which("node")
    assert node and LINTER.exists(), "Node.js and webchat/node_modules are needed: run scripts/bootstrap"
    done = subprocess.run(
        [node, str(LINTER), "lint", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_dockerfile_utils_is_no_rubber_stamp(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node and LINTER.exists(), "Node.js and webchat/node_modules are needed: run scripts/bootstrap"
    broken = tmp_path / "Dockerfile"
    broken.write_text(
        DOCKERFILE.read_text().replace("--interval=30s", "--interval=often").replace("EXPOSE 3978", "EXPOSE x")
    )
    done = subprocess.run(
        [node, str(LINTER), "lint", str(broken)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0 and "invalid duration" in done.stdout and "Invalid containerPort" in done.stdout


def test_stages_are_slim_python_311_and_node() -> None:
    assert [stage.name for stage in STAGES] == ["webchat", "deps", "runtime"]
    python_stages = [stage for stage in STAGES if stage.base.startswith("python:")]
    assert len(python_stages) == 2 and FINAL in python_stages
    for stage in python_stages:
        assert re.fullmatch(r"python:3\.11-slim(-\w+)?(@sha256:[0-9a-f]{64})?", stage.base), stage.base
    assert STAGES[0].base.startswith("node:") and "slim" in STAGES[0].base


def test_runs_as_a_non_root_user_from_before_the_command() -> None:
    keywords = [ins.keyword for ins in FINAL.instructions]
    users = FINAL.all("USER")
    assert users, "no USER: the container would run as root"
    assert users[-1].args.split(":")[0] not in {"root", "0"}
    assert keywords.index("USER") < keywords.index("CMD")
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k in {"RUN", "COPY"}), (
        "everything after USER runs as that user: installs and copies come first"
    )
    created = " ".join(ins.args for ins in FINAL.all("RUN"))
    uid = re.search(r"useradd .*--uid (\d+)", created)
    assert uid and int(uid.group(1)) >= 1000 and re.search(rf"useradd .*\b{users[-1].args.split(':')[0]}\b", created)
    assert "install -d -o cosell -g cosell" in created, "the data folder must be the user's"


def test_healthcheck_calls_healthz_with_python() -> None:
    checks = FINAL.all("HEALTHCHECK")
    assert len(checks) == 1
    command = checks[0].exec_form
    assert command and command[:2] == ["python", "-c"], "slim has no curl: the check runs Python"
    assert "/healthz" in command[2] and "127.0.0.1" in command[2] and "COSELL_PORT" in command[2]
    assert re.search(r"--timeout=(\d+)s", checks[0].args) and "timeout=4" in command[2]


def test_serves_on_every_interface_on_the_exposed_port() -> None:
    env = FINAL.env()
    assert env["COSELL_HOST"] == "0.0.0.0"
    assert [ins.args for ins in FINAL.all("EXPOSE")] == [env["COSELL_PORT"]]
    assert FINAL.all("CMD")[-1].exec_form == ["python", "-m", "bot.cli", "serve"]
    assert env["PYTHONPATH"] == "/app" and [ins.args for ins in FINAL.all("WORKDIR")] == ["/app"]
    assert env["COSELL_DATABASE_PATH"].startswith("/data/") and '["/data"]' in FINAL.all("VOLUME")[0].args


def test_dependencies_are_the_locked_runtime_ones_with_hashes() -> None:
    installs = [ins for stage in STAGES for ins in stage.all("RUN") if "pip install" in ins.args]
    assert installs, "no pip install"
    for ins in installs:
        for command in re.findall(r"pip install[^&]*", ins.args):
            assert "--require-hashes -r requirements.runtime.lock" in command, command
    deps = STAGES[1]
    assert (
        "python runtime_lock.py requirements.lock pyproject.toml > requirements.runtime.lock" in deps.all("RUN")[0].args
    )
    assert deps.all("COPY")[0].args == "requirements.lock pyproject.toml deploy/runtime_lock.py ./"
    assert "COPY --from=deps /opt/venv /opt/venv" in [f"COPY {ins.args}" for ins in FINAL.all("COPY")]
    assert FINAL.env()["PATH"].startswith("/opt/venv/bin:")


def test_all_bytecode_is_compiled_at_build_time_and_checked_by_hash() -> None:
    # a copy between stages may move a source's time (podman's moved them by a second): bytecode checked by time was
    # then stale for all 522 modules the app imports, compiled again at every start (deploy/rehearse-image.sh)
    compiles = [c for stage in STAGES for ins in stage.all("RUN") for c in re.findall(r"compileall[^&]*", ins.args)]
    venv = [c for c in compiles if "/opt/venv" in c]
    app = [c for c in compiles if "bot dialogs" in c]
    assert len(venv) == 1 and " -f " in venv[0] and "--invalidation-mode unchecked-hash" in venv[0]  # -f: rewrite pip's
    assert len(app) == 1 and "--invalidation-mode unchecked-hash" in app[0]
    assert set(_product_packages()) <= set(app[0].split())
    assert any("compileall" in ins.args for ins in STAGES[1].all("RUN"))  # the venv's, before it is copied


def test_copies_the_product_and_only_the_product() -> None:
    copied = [ins.args.split()[0].rstrip("/") for ins in FINAL.all("COPY") if not ins.args.startswith("--from=")]
    assert sorted(path for path in copied if "/" not in path) == _product_packages()
    assert "deploy/teams/schema" in copied  # `cosell-bot teams-package` validates against it
    assert not {"tests", "devtools", ".", ".env", "var"} & set(copied)


def test_webchat_bundle_and_its_compressed_copies_where_the_bot_reads_them() -> None:
    build = STAGES[0].all("RUN")[0].args
    assert "npm ci --omit=dev" in build and "--ignore-scripts" in build and "node precompress.cjs" in build
    served = webchat.WEBCHAT_DIR.relative_to(REPO).as_posix()  # webchat/node_modules/botframework-webchat
    copies = set()
    for ins in FINAL.all("COPY"):
        if ins.args.startswith("--from=webchat"):
            _, source, target = ins.args.split()
            copies.add(target.rstrip("/") + "/" + source.rsplit("/", 1)[1])
    assert copies == {f"{served}/package.json", *(f"{served}/dist/webchat.js{suffix}" for suffix in ("", ".br", ".gz"))}
    touched = " ".join(ins.args for ins in FINAL.all("RUN"))
    assert f"touch {served}/dist/webchat.js.br" in touched, "a compressed copy older than the bundle is not served"


def test_no_secret_in_env_or_build_args() -> None:
    secret_names = {
        f"{Settings.model_config.get('env_prefix', '')}{name}".upper()
        for name, info in Settings.model_fields.items()
        if info.annotation is SecretStr or "SecretStr" in str(info.annotation)
    } | {"MICROSOFTAPPPASSWORD", "DIRECTLINESECRET", "COSELL_DATABASE_URL"}
    names = set(ARGS) | {key for stage in STAGES for key in stage.env()}
    named = [ins.args for stage in STAGES for ins in stage.all("ARG")]
    for name in names | {arg.split("=")[0] for arg in named}:
        assert name.upper() not in secret_names and not SECRET_WORD.search(name), name
    for ins in (ins for stage in STAGES for ins in stage.instructions):  # also `RUN X_TOKEN=… cmd`
        assigned = re.findall(r"\b([A-Za-z_]\w*)=", ins.args)
        assert not [name for name in assigned if SECRET_WORD.search(name)], f"line {ins.line}: {ins.args}"


_EXCLUDED = [
    ".venv/bin/python",
    "webchat/node_modules/botframework-webchat/dist/webchat.js",
    "node_modules/x/index.js",
    ".git/HEAD",
    "var/cosell-bot.db",
    "cosell-bot.sqlite",
    "var/state.sqlite",
    "data/state.sqlite3",
    "var/cosell-bot.db-wal",
    ".env",
    "deploy/.env.production",
    "bot/__pycache__/app.cpython-311.pyc",
    "tests/test_layout.py",
    "devtools/plugin.py",
]


@pytest.mark.parametrize("path", _EXCLUDED)
def test_dockerignore_keeps_local_state_and_secrets_out(path: str) -> None:
    assert dockerignore_excludes(path, dockerignore_rules()), path


def test_dockerignore_lets_in_everything_the_dockerfile_copies() -> None:
    rules = dockerignore_rules()
    sources = ["webchat/package.json", "webchat/package-lock.json", "webchat/precompress.cjs"]
    sources += ["requirements.lock", "pyproject.toml", "deploy/runtime_lock.py"]
    for ins in FINAL.all("COPY"):
        if not ins.args.startswith("--from="):
            folder = REPO / ins.args.split()[0]
            sources += [p.relative_to(REPO).as_posix() for p in folder.rglob("*") if p.is_file()][:50]
    kept_out = [path for path in sources if "__pycache__" not in path and dockerignore_excludes(path, rules)]
    assert not kept_out, kept_out
    assert DOCKERIGNORE.read_text().count("\n") > 10


def test_dockerignore_matcher() -> None:
    rules = [(False, pattern_regex("**/*.db")), (False, pattern_regex("var")), (True, pattern_regex("var/keep"))]
    assert dockerignore_excludes("a/b/c.db", rules) and dockerignore_excludes("c.db", rules)
    assert dockerignore_excludes("var/x/y", rules) and not dockerignore_excludes("var/keep", rules)
    assert not dockerignore_excludes("c.dbx", rules) and not dockerignore_excludes("various", rules)


def test_the_image_rehearsal_script_parses_and_replaces_every_base_the_dockerfile_takes() -> None:
    script = REPO / "deploy" / "rehearse-image.sh"  # builds this Dockerfile with podman on stand-in bases, by hand
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    text = script.read_text(encoding="utf-8")
    bases = {name for name in ARGS if name.endswith("_IMAGE")}
    assert bases == {"PYTHON_IMAGE", "NODE_IMAGE"}
    assert bases == set(re.findall(r"--build-arg (\w+)=localhost/", text))  # each base stood in, nothing else
    assert "--isolation chroot" in text and " . >" in text  # this Dockerfile, this context


def test_the_built_knowledge_is_saved_at_build_time_as_root() -> None:
    # knowledge/snapshot.py: read at start-up only when written for these sources, by whoever installs them
    runs = [ins.args for ins in FINAL.all("RUN")]
    saved = [i for i, args in enumerate(runs) if "python -m knowledge.snapshot" in args]
    assert len(saved) == 1
    assert "compileall" in runs[saved[0]]  # the same step as the bytecode, after every product COPY
    user = [ins for ins in FINAL.instructions if ins.keyword == "USER"]
    assert user and FINAL.instructions.index(user[0]) > FINAL.instructions.index(FINAL.all("RUN")[saved[0]])
