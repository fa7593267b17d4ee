"""`make up|preview|destroy|secret|smoke` (scripts/up.sh, scripts/up.py) in a copy of the project,
with fakes on PATH that record their calls: `pulumi` (answering from the project's files and a list
of existing stacks), `python3` (whose `-m pip install --target` lays down a fake `uv`; anything else
runs the real Python without site-packages, as on a fresh machine), that `uv`, and the clouds'
CLIs when a test gives them. The stack's outputs point at a stand-in BinderHub on the loopback
(tests/smoke_server.py), which the smoke test after `pulumi up` builds and launches on."""

import json
import os
import pty
import re
import shutil
import stat
import subprocess
import sys
import typing
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest
import yaml
from smoke_server import Scenario, event, serving, successful_build

from config import SECRET_KEYS, StackConfig
from harness import ROOT_DIR, Program, ProgramRun, Registration
from variants import VARIANTS

sys.path.insert(0, str(ROOT_DIR / "scripts"))
import up

# pulumi: logs `pulumi <args>`, the backend it would use and whether its stdin is a terminal;
# answers whoami, stack select, config. `config --json` answers as the real CLI does
# (pkg/cmd/pulumi/config/config.go listConfig): a top-level scalar as the text the stack file
# holds (yaml.v3 decodes a scalar into a string as written: `no` stays "no"), maps and lists as
# JSON with objectValue, project defaults from Pulumi.yaml, and a secret (or a map holding one)
# as {"secret": true} with no value; only with --show-secrets does it print the plaintext, here
# "plaintext-of-<ciphertext>". FAKE_CONFIG_JSON replaces the whole listing. `stack output --json`
# prints FAKE_STACK_OUTPUTS; `up` exits with FAKE_UP_EXIT (default 0).
FAKE_PULUMI = """#!PYTHON
import json, os, shutil, sys
from pathlib import Path
import yaml

args = sys.argv[1:]
env = os.environ
terminal = os.isatty(0)
with open(env["FAKE_PULUMI_LOG"], "a") as log:
    print("pulumi " + " ".join(args), file=log)
    print("backend=" + env.get("PULUMI_BACKEND_URL", ""), file=log)
    if terminal:
        print("terminal: " + " ".join(args), file=log)
    if args[:2] == ["config", "set"]:
        print("stdin=" + ("<terminal>" if terminal else sys.stdin.read()), file=log)
    if args[0] in ("up", "preview", "destroy"):  # Pulumi.yaml's uv toolchain finds uv on PATH
        print("toolchain uv: " + str(shutil.which("uv")), file=log)
        # what pulumi-kubernetes would read: drop an unreachable cluster's objects from the state?
        print("delete unreachable: " + env.get("PULUMI_K8S_DELETE_UNREACHABLE", "unset"), file=log)


def fail(message):
    print("error: " + message, file=sys.stderr)
    sys.exit(255)


def secure(value):
    return isinstance(value, dict) and set(value) == {"secure"}


def holds_secret(value):
    if secure(value):
        return True
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return any(holds_secret(item) for item in items)


def shown(value):
    if secure(value):
        return "plaintext-of-" + value["secure"]
    if isinstance(value, dict):
        return {key: shown(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shown(item) for item in value]
    return value


def listing(stack, show_secrets):
    project = yaml.safe_load(Path("Pulumi.yaml").read_text())
    listed = {}
    for key, spec in project["config"].items():
        default = spec.get("default")
        if isinstance(default, bool):
            listed[f"{project['name']}:{key}"] = {"value": "true" if default else "false", "secret": False}
        elif default is not None and not isinstance(default, (dict, list)):
            listed[f"{project['name']}:{key}"] = {"value": str(default), "secret": False}
    text = Path(f"Pulumi.{stack}.yaml").read_text()
    values = yaml.safe_load(text).get("config") or {}
    config = [node for key, node in yaml.compose(text).value if key.value == "config"]
    entries = config[0].value if config and isinstance(config[0], yaml.MappingNode) else []
    scalars = {key.value: node.value for key, node in entries if isinstance(node, yaml.ScalarNode)}
    for key, value in values.items():
        secret = holds_secret(value)
        if key in scalars:
            listed[key] = {"value": scalars[key], "secret": False}
        elif secret and not show_secrets:
            listed[key] = {"secret": True}
        elif secure(value):
            listed[key] = {"value": shown(value), "secret": True}
        else:
            listed[key] = {"value": json.dumps(shown(value)), "objectValue": shown(value), "secret": secret}
    return listed


stack = args[args.index("--stack") + 1] if "--stack" in args else None
stacks = Path(env["FAKE_STACKS"])
existing = stacks.read_text().split() if stacks.exists() else []
if args[0] == "whoami":
    if env.get("FAKE_WHOAMI_ERROR"):
        fail(env["FAKE_WHOAMI_ERROR"])
    print("someone")
elif args[:2] == ["stack", "select"] and stack not in existing:
    if "--create" not in args:
        fail(f"no stack named '{stack}' found")
    stacks.write_text(" ".join([*existing, stack]))
elif args[:2] == ["config", "--json"]:
    if env.get("FAKE_CONFIG_ERROR"):
        fail(env["FAKE_CONFIG_ERROR"])
    print(env.get("FAKE_CONFIG_JSON") or json.dumps(listing(stack, "--show-secrets" in args)))
elif args[:2] == ["stack", "output"]:
    print(env["FAKE_STACK_OUTPUTS"])
elif args[:2] == ["stack", "export"]:
    print(env.get("FAKE_STACK_EXPORT", "{}"))
elif args[0] == "up":
    sys.exit(int(env.get("FAKE_UP_EXIT", "0")))
elif args[0] == "destroy":
    sys.exit(int(env.get("FAKE_DESTROY_EXIT", "0")))
"""
# uv: its version, or a logged call (with the environment it would sync).
FAKE_UV = """#!/usr/bin/env bash
if [ "$1" = --version ]; then echo "uv VERSION (fake)"; exit 0; fi
echo "uv $* UV_PROJECT_ENVIRONMENT=${UV_PROJECT_ENVIRONMENT:-}" >> "$FAKE_PULUMI_LOG"
"""
# python3: `-m pip install ... --target DIR uv==VERSION` installs FAKE_UV; anything else is the
# real interpreter with -S (no site-packages): up.py must run on the standard library alone.
FAKE_PYTHON = """#!/usr/bin/env bash
if [ "$1 $2 $3" != "-m pip install" ]; then exec "$REAL_PYTHON" -S "$@"; fi
echo "python3 $*" >> "$FAKE_PULUMI_LOG"
while [ $# -gt 0 ]; do
  case "$1" in --target) target=$2; shift ;; uv==*) version=${1#uv==} ;; esac
  shift
done
mkdir -p "$target/bin"
sed "s/VERSION/$version/" "$FAKE_UV_TEMPLATE" > "$target/bin/uv"
chmod +x "$target/bin/uv"
"""
# The clouds' CLIs: log the call; FAKE_<NAME>_ERROR makes it fail with that message, and
# FAKE_<NAME>_CLUSTER_ERROR only the question whether the cluster exists (az aks show, aws eks
# describe-cluster, gcloud container clusters describe), as the real ones do (exit code 1).
FAKE_CLI = """#!/usr/bin/env bash
echo "NAME $*" >> "$FAKE_PULUMI_LOG"
if [ -n "${FAKE_VAR_ERROR:-}" ]; then echo "$FAKE_VAR_ERROR" >&2; exit 254; fi
case "$*" in
  "aks show "*|"eks describe-cluster "*|"container clusters describe "*)
    if [ -n "${FAKE_VAR_CLUSTER_ERROR:-}" ]; then echo "$FAKE_VAR_CLUSTER_ERROR" >&2; exit 1; fi ;;
esac
echo '{"Account": "123456789012"}'
"""
_pin = re.search(r"^version=(\S+)$", (ROOT_DIR / "scripts" / "uv.sh").read_text(), re.M)
assert _pin, "scripts/uv.sh no longer pins uv with a version= line"
PINNED_UV = _pin.group(1)
TOKEN = "pul-0123456789abcdef-secret-token"
PASSPHRASE = "test-passphrase-4711"
# What the fake prints for a secret when asked with --show-secrets: never in the wrapper's output.
PLAINTEXT = "plaintext-of-"


# The outputs of a deployment that works: a stand-in BinderHub answering every smoke check
# (started for this module by `working_deployment`).
WORKING_OUTPUTS: dict[str, str] = {}


def outputs_of(url: str) -> str:
    """`pulumi stack output --json` of a deployment whose hosts are the loopback server at `url`."""
    return json.dumps({"binder_url": url, "hub_url": url, "ingress_address": "127.0.0.1", "kubeconfig": "[secret]"})


@pytest.fixture(autouse=True, scope="module")
def working_deployment() -> Iterator[None]:
    """Builds and launches (anonymous stacks), and sends logins to GitHub with the client id of
    Pulumi.prod.yaml and this hub's callback (the GitHub stack the tests deploy)."""
    client_id = yaml.safe_load((ROOT_DIR / "Pulumi.prod.yaml").read_text())["config"]["binderhub:auth"]["clientId"]
    scenario = Scenario()
    with serving(scenario) as server:
        callback = urllib.parse.quote(f"{server.url()}hub/oauth_callback", safe="")
        scenario.login_location = (
            f"https://github.com/login/oauth/authorize?client_id={client_id}&redirect_uri={callback}&state=x"
        )
        WORKING_OUTPUTS["json"] = outputs_of(server.url())
        yield


def project_copy(tmp_path: Path) -> Path:
    """What up.sh reads, copied: its runs must not touch the real work tree (.tools, .venv, state)."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT_DIR / "scripts", repo / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    for path in [*ROOT_DIR.glob("Pulumi*.yaml"), ROOT_DIR / "Makefile"]:
        shutil.copy(path, repo / path.name)
    (repo / "config").mkdir()
    shutil.copy(ROOT_DIR / "config" / "base.py", repo / "config" / "base.py")  # SECRET_KEYS
    return repo


def write_tool(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def run_up(
    tmp_path: Path,
    *,
    with_pulumi: bool = True,
    kubeconfig: bool = True,
    uv_on_path: str | None = None,
    args: tuple[str, ...] = ("dev", "up"),
    stdin: str | None = None,
    terminal: bool = False,
    passphrase: str | None = PASSPHRASE,
    stacks: tuple[str, ...] = (),
    local_state: bool = False,
    logged_in: str | None = None,
    tools: tuple[str, ...] = (),
    command: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
    **env: str,
) -> tuple[int, str, list[str]]:
    """Run up.sh (or `command`, e.g. make) in the copy, with `env` and `extra_env` added to the
    environment. `stdin` is text to feed it; `terminal` gives it a pseudo-terminal as stdin
    instead (as at a shell prompt); with neither, stdin is empty. `passphrase` is
    PULUMI_CONFIG_PASSPHRASE (None: unset). `stacks` exist on the backend already; `local_state`:
    .pulumi-state holds an earlier run's state; `logged_in` is the backend `pulumi login`
    recorded; `tools` are cloud CLIs to put on PATH; `uv_on_path` a uv of that version. Returns
    the exit code, the output, and the fakes' calls in order."""
    repo = tmp_path / "repo"
    if not repo.exists():
        project_copy(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "pulumi.log"
    log.unlink(missing_ok=True)  # each run's calls only
    if with_pulumi:
        write_tool(bin_dir / "pulumi", FAKE_PULUMI.replace("PYTHON", sys.executable))
    write_tool(bin_dir / "python3", FAKE_PYTHON)
    (tmp_path / "uv.template").write_text(FAKE_UV)
    if uv_on_path is not None:
        write_tool(bin_dir / "uv", FAKE_UV.replace("VERSION", uv_on_path))
    for tool in tools:
        var = tool.split("-")[0].upper()
        write_tool(bin_dir / tool, FAKE_CLI.replace("NAME", tool).replace("VAR", var))
    (tmp_path / "stacks").write_text(" ".join(stacks))
    if local_state:
        (repo / ".pulumi-state" / ".pulumi").mkdir(parents=True, exist_ok=True)
    if logged_in is not None:
        (tmp_path / ".pulumi").mkdir(exist_ok=True)
        # as `pulumi login` writes it: the current backend and the token it logged in with
        credentials = {"current": logged_in, "accessTokens": {logged_in: TOKEN} if logged_in else {}}
        (tmp_path / ".pulumi" / "credentials.json").write_text(json.dumps(credentials))
    kube = tmp_path / "kubeconfig"
    if kubeconfig:
        kube.write_text("apiVersion: v1\nkind: Config\n")
    # only the basics on PATH: no real pulumi, uv, python or cloud CLI can be picked up
    basics = (
        "bash",
        "sed",
        "grep",
        "tr",
        "ls",
        "cat",
        "cut",
        "mkdir",
        "mktemp",
        "mv",
        "rm",
        "chmod",
        "dirname",
        "make",
    )
    for tool in basics:
        found = shutil.which(tool)
        if found and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    environment = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "KUBECONFIG": str(kube),
        "FAKE_PULUMI_LOG": str(log),
        "FAKE_STACKS": str(tmp_path / "stacks"),
        "FAKE_UV_TEMPLATE": str(tmp_path / "uv.template"),
        "REAL_PYTHON": sys.executable,
        "FAKE_STACK_OUTPUTS": WORKING_OUTPUTS["json"],
        **({"PULUMI_CONFIG_PASSPHRASE": passphrase} if passphrase is not None else {}),
        **env,
        **(extra_env or {}),
    }
    controller, pseudo_terminal = pty.openpty() if terminal else (None, None)
    try:
        result = subprocess.run(
            command or ["bash", str(repo / "scripts" / "up.sh"), *args],
            cwd=repo,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            input=stdin,
            stdin=pseudo_terminal if terminal else subprocess.DEVNULL if stdin is None else None,
        )
    finally:
        for fd in (controller, pseudo_terminal):
            if fd is not None:
                os.close(fd)
    calls = log.read_text().splitlines() if log.exists() else []
    return result.returncode, result.stdout + result.stderr, calls


# After a successful `pulumi up`, the smoke test reads the stack's outputs: the last Pulumi command.
SMOKE_READ = "stack output --json --stack dev"


def installs(calls: list[str]) -> list[str]:
    """The calls that install something: pip (bootstrapping uv) or uv itself."""
    return [c for c in calls if c.startswith(("python3 ", "uv "))]


def pulumi_commands(calls: list[str]) -> list[str]:
    return [c.removeprefix("pulumi ") for c in calls if c.startswith("pulumi ")]


def backends(calls: list[str]) -> set[str]:
    """The PULUMI_BACKEND_URL every pulumi call ran with ("" when none was set)."""
    return {c.removeprefix("backend=") for c in calls if c.startswith("backend=")}


def on_terminal(calls: list[str]) -> set[str]:
    """The pulumi commands that ran with a terminal as stdin."""
    return {c.removeprefix("terminal: ") for c in calls if c.startswith("terminal: ")}


def deployed(calls: list[str]) -> bool:
    """Whether a Pulumi command that runs the program (up, preview, destroy) was started."""
    return any(c.split()[0] in ("up", "preview", "destroy") for c in pulumi_commands(calls))


def with_stack_file(tmp_path: Path, stack: str, text: str, newline: str = "\n") -> None:
    """Replace Pulumi.<stack>.yaml in the project copy (written with the given line ending)."""
    repo = tmp_path / "repo" if (tmp_path / "repo").exists() else project_copy(tmp_path)
    (repo / f"Pulumi.{stack}.yaml").write_bytes(text.replace("\n", newline).encode())


# --- Without the CLI: a clear message, nothing installed (README promise) ---


def test_missing_cli_fails_clearly_before_installing_anything(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, with_pulumi=False)
    assert code != 0
    assert "Pulumi CLI is not installed" in output
    assert calls == []  # no pip, no uv, no pulumi
    assert not (tmp_path / "repo" / ".tools").exists()


# --- The backend: the one you use, never a second copy ---


def test_never_logged_in_uses_the_local_backend_and_a_passphrase(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path)
    assert code == 0, output
    commands = pulumi_commands(calls)
    assert "whoami" not in commands  # nothing to ask: there is no login
    assert "stack select --stack dev --create --secrets-provider passphrase" in commands
    assert commands[-2:] == ["up --stack dev", SMOKE_READ]
    assert backends(calls) == {f"file://{tmp_path / 'repo'}/.pulumi-state"}
    assert (tmp_path / "repo" / ".pulumi-state").is_dir()


def test_a_logged_in_user_keeps_their_backend_and_its_secrets_provider(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, logged_in="https://api.pulumi.com")
    assert code == 0, output
    commands = pulumi_commands(calls)
    assert commands[0] == "whoami"
    assert backends(calls) == {""}  # nothing forced
    assert "stack select --stack dev --create" in commands  # the backend's own secrets provider
    assert commands[-2:] == ["up --stack dev", SMOKE_READ]
    assert not (tmp_path / "repo" / ".pulumi-state").exists()


def test_a_chosen_secrets_provider_is_used_on_any_backend(tmp_path: Path) -> None:
    kms = "awskms://alias/binderhub?region=us-east-1"
    code, output, calls = run_up(tmp_path, logged_in="s3://my-state", PULUMI_SECRETS_PROVIDER=kms)
    assert code == 0, output
    assert f"stack select --stack dev --create --secrets-provider {kms}" in pulumi_commands(calls)


@pytest.mark.parametrize("action", ["up", "destroy"])
@pytest.mark.parametrize("login", ["credentials file", "PULUMI_HOME", "access token", "PULUMI_BACKEND_URL"])
def test_a_failing_login_stops_with_the_backends_error_instead_of_a_second_copy(
    tmp_path: Path, action: str, login: str
) -> None:
    # The backend's error repeats the login's secret (a token, the URL with its password): the
    # wrapper shows the error, never the secret.
    env: dict[str, str] = {}
    logged_in = None
    secret = TOKEN
    if login == "credentials file":
        logged_in = "https://api.pulumi.com"
    elif login == "PULUMI_HOME":
        (tmp_path / "elsewhere").mkdir()
        credentials = {"current": "https://pulumi.uni.edu", "accessTokens": {"https://pulumi.uni.edu": TOKEN}}
        (tmp_path / "elsewhere" / "credentials.json").write_text(json.dumps(credentials))
        env["PULUMI_HOME"] = str(tmp_path / "elsewhere")
    elif login == "access token":
        env["PULUMI_ACCESS_TOKEN"] = TOKEN
    else:
        secret = "db-password"
        env["PULUMI_BACKEND_URL"] = f"postgres://state:{secret}@db.uni.edu/pulumi"
    env["FAKE_WHOAMI_ERROR"] = f"getting user info: 401 Unauthorized: credentials {secret} expired"
    code, output, calls = run_up(tmp_path, args=("dev", action), stacks=("dev",), logged_in=logged_in, extra_env=env)
    assert code != 0
    assert "401 Unauthorized: credentials *** expired" in output and "pulumi login" in output
    assert pulumi_commands(calls) == ["whoami"]  # no stack selected, created or destroyed
    assert installs(calls) == []
    assert not (tmp_path / "repo" / ".pulumi-state").exists()
    assert secret not in output


@pytest.mark.parametrize("password", ["pa/ss", "p@ss", "p:ss", "%2F", "db-password", "a/b?c#d@e"])
def test_a_backend_urls_password_is_masked_whole_and_scrubbed_from_every_message(tmp_path: Path, password: str) -> None:
    url = f"postgres://state:{password}@db.uni.edu/pulumi"
    # what a Go URL or connection error prints: the URL as given, or the password decoded
    error = f"connecting to {url}: {urllib.parse.unquote(password)!r} refused; token {TOKEN}; passphrase {PASSPHRASE}"
    code, output, _ = run_up(tmp_path, PULUMI_BACKEND_URL=url, PULUMI_ACCESS_TOKEN=TOKEN, FAKE_WHOAMI_ERROR=error)
    assert code != 0
    assert "the Pulumi backend postgres://state:***@db.uni.edu/pulumi did not answer" in output
    assert "connecting to postgres://state:***@db.uni.edu/pulumi" in output
    assert password not in output and TOKEN not in output and PASSPHRASE not in output
    if len(urllib.parse.unquote(password)) >= up.MIN_SCRUBBED:
        assert urllib.parse.unquote(password) not in output


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://state:pa/ss@db.uni.edu/pulumi", "postgres://state:***@db.uni.edu/pulumi"),
        ("postgres://state:p@ss@db.uni.edu:5432/pulumi", "postgres://state:***@db.uni.edu:5432/pulumi"),
        ("postgres://:p:ss@db.uni.edu/pulumi", "postgres://:***@db.uni.edu/pulumi"),
        (
            "postgres://db.uni.edu/pulumi?sslmode=require&password=hunter22",
            "postgres://db.uni.edu/pulumi?sslmode=require&password=***",
        ),
        ("s3://state-bucket/binderhub?region=eu-west-1", "s3://state-bucket/binderhub?region=eu-west-1"),
        ("https://api.pulumi.com", "https://api.pulumi.com"),
        ("file://~/.pulumi-state", "file://~/.pulumi-state"),
    ],
)
def test_a_backend_url_is_shown_without_its_secrets(url: str, expected: str) -> None:
    assert up.shown(url) == expected


def test_a_logged_out_user_gets_the_local_backend(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, logged_in="")  # `pulumi logout` empties "current"
    assert code == 0, output
    assert backends(calls) == {f"file://{tmp_path / 'repo'}/.pulumi-state"}


@pytest.mark.parametrize("action", ["up", "destroy", "secret"])
@pytest.mark.parametrize("login", ["credentials file", "access token"])
def test_a_login_beside_an_earlier_local_state_stops_until_pulumi_backend_url_chooses(
    tmp_path: Path, action: str, login: str
) -> None:
    """Either may hold the stack: using one (the local state did, silently) deploys a second copy."""
    logged_in = "https://pulumi.uni.edu" if login == "credentials file" else None
    env = {"PULUMI_ACCESS_TOKEN": TOKEN} if login == "access token" else {}
    args = ("dev", action, "kubeconfig") if action == "secret" else ("dev", action)
    code, output, calls = run_up(
        tmp_path, args=args, stdin="x", stacks=("dev",), local_state=True, logged_in=logged_in, extra_env=env
    )
    assert code != 0
    state = tmp_path / "repo" / ".pulumi-state"
    assert (logged_in or "https://api.pulumi.com") in output and str(state) in output  # both named
    assert f"PULUMI_BACKEND_URL=file://{state} make {action} STACK=dev" in output
    assert "PULUMI_BACKEND_URL=<your backend's URL>" in output
    assert calls == []  # nothing selected, created, installed or run on either
    assert TOKEN not in output


@pytest.mark.parametrize("chosen", ["local", "login"])
def test_pulumi_backend_url_settles_a_login_beside_a_local_state(tmp_path: Path, chosen: str) -> None:
    local = f"file://{tmp_path / 'repo'}/.pulumi-state"
    url = local if chosen == "local" else "https://pulumi.uni.edu"
    code, output, calls = run_up(
        tmp_path, logged_in="https://pulumi.uni.edu", stacks=("dev",), local_state=True, PULUMI_BACKEND_URL=url
    )
    assert code == 0, output
    assert backends(calls) == {url}
    assert pulumi_commands(calls)[-2:] == ["up --stack dev", SMOKE_READ]


def test_a_login_to_the_local_state_itself_is_one_backend(tmp_path: Path) -> None:
    local = f"file://{tmp_path / 'repo'}/.pulumi-state"
    code, output, calls = run_up(tmp_path, logged_in=local, stacks=("dev",), local_state=True)
    assert code == 0, output
    assert backends(calls) == {local}
    assert pulumi_commands(calls)[-2:] == ["up --stack dev", SMOKE_READ]


def test_unreadable_login_state_stops_before_choosing_a_backend(tmp_path: Path) -> None:
    (tmp_path / ".pulumi").mkdir()
    (tmp_path / ".pulumi" / "credentials.json").write_text("{not json")
    code, output, calls = run_up(tmp_path)
    assert code != 0
    assert "credentials.json" in output
    assert calls == []


def test_no_passphrase_without_a_terminal_fails_clearly_before_installing(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, PULUMI_CONFIG_PASSPHRASE="")
    assert code != 0
    assert "export PULUMI_CONFIG_PASSPHRASE" in output
    assert pulumi_commands(calls) == []
    assert installs(calls) == []


@pytest.mark.parametrize("action", ["up", "secret"])
def test_at_a_terminal_pulumi_gets_it_where_it_may_ask_for_the_passphrase(tmp_path: Path, action: str) -> None:
    """No PULUMI_CONFIG_PASSPHRASE at a terminal: Pulumi prompts for the new stack's passphrase,
    but only when its stdin is a terminal (cmdutil.Interactive); with no stdin it fails."""
    args = ("baremetal", "secret", "registryPassword") if action == "secret" else ("dev", "up")
    code, output, calls = run_up(tmp_path, args=args, terminal=True, passphrase=None)
    assert code == 0, output
    stack = args[0]
    terminal = on_terminal(calls)
    assert f"stack select --stack {stack} --create --secrets-provider passphrase" in terminal
    if action == "secret":
        assert f"config set --secret --stack {stack} binderhub:registryPassword" in terminal  # the hidden prompt
    else:
        assert "up --stack dev" in terminal
        assert "config --json --stack dev" not in terminal  # read by the wrapper: never a prompt


# --- STACK and KEY are data ---


@pytest.mark.parametrize(
    "stack", ["dev;touch pwned", "dev$(touch pwned)", "`touch pwned`", "../dev", "dev\n", "dev prod", "", "x" * 101]
)
def test_a_stack_name_outside_pulumis_rules_is_refused_and_never_run(tmp_path: Path, stack: str) -> None:
    code, output, calls = run_up(tmp_path, args=(stack, "up"))
    assert code != 0
    assert repr(stack) in output and "letters, digits, '-', '_' or '.'" in output
    assert calls == []
    assert not (tmp_path / "repo" / "pwned").exists()


def test_a_stack_without_its_file_is_refused_with_the_stacks_there(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("staging", "up"))
    assert code != 0
    assert "no Pulumi.staging.yaml" in output
    assert all(name in output for name in ("aws", "baremetal", "dev", "gcp", "prod"))
    assert calls == []


@pytest.mark.parametrize(
    ("target", "variable"),
    [
        ("up", "STACK=dev;touch pwned"),
        ("destroy", "STACK=dev';touch pwned;'"),
        ("preview", "STACK=$(shell touch pwned)"),
        ("secret", "KEY=oauthClientSecret;touch pwned"),
        ("secret", "KEY=`touch pwned`"),
    ],
)
def test_make_passes_stack_and_key_as_one_argument(tmp_path: Path, target: str, variable: str) -> None:
    """The issue's example: `make up 'STACK=dev;echo X'` ran the echo and exited 0."""
    code, output, calls = run_up(tmp_path, command=["make", "--no-print-directory", target, variable], stacks=("dev",))
    assert code != 0
    value = variable.split("=", 1)[1]
    assert repr(value) in output  # refused by up.py, as one value
    assert not (tmp_path / "repo" / "pwned").exists()
    assert not deployed(calls)


def test_make_up_passes_the_default_stack(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, command=["make", "--no-print-directory", "up"])
    assert code == 0, output
    assert pulumi_commands(calls)[-2:] == ["up --stack dev", SMOKE_READ]


def test_the_secret_keys_are_the_programs() -> None:
    assert up.secret_keys() == SECRET_KEYS


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_make_secret_hands_stdin_to_pulumi_encrypted_never_as_an_argument(tmp_path: Path, key: str) -> None:
    """The wrapper never reads the value (Pulumi reads stdin itself) and never passes it as an
    argument, which any user of the machine could read in the process list. (Whether Pulumi
    prints it is Pulumi's business: its output is not the wrapper's.)"""
    # No kubeconfig needed yet: it may be the very secret being stored.
    code, output, calls = run_up(tmp_path, kubeconfig=False, args=("baremetal", "secret", key), stdin="s3cret-value")
    assert code == 0, output
    assert "stack select --stack baremetal --create --secrets-provider passphrase" in pulumi_commands(calls)
    assert pulumi_commands(calls)[-1] == f"config set --secret --stack baremetal binderhub:{key}"
    assert "stdin=s3cret-value" in calls  # all of it, untouched
    assert not any("s3cret-value" in command for command in pulumi_commands(calls))
    assert not deployed(calls)
    assert installs(calls) == []  # storing a secret runs no program


@pytest.mark.parametrize("key", ["registrypassword", "", "registry.username", "oauthClientSecret extra"])
def test_make_secret_refuses_a_key_the_program_does_not_read(tmp_path: Path, key: str) -> None:
    code, output, calls = run_up(tmp_path, args=("dev", "secret", key), stdin="x")
    assert code != 0
    assert repr(key) in output and all(k in output for k in SECRET_KEYS)
    assert calls == []


# --- Pre-flight: what the target needs, read from the configuration as Pulumi parses it ---


def test_missing_kubeconfig_fails_before_anything_is_installed_or_deployed(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, kubeconfig=False)
    assert code != 0
    assert "no kubeconfig was found" in output and "KEY=kubeconfig" in output
    assert installs(calls) == [] and not deployed(calls)


def test_any_existing_file_in_kubeconfig_will_do(tmp_path: Path) -> None:
    """kubectl (and the program) merge $KUBECONFIG's files, skipping those that do not exist."""
    kube = tmp_path / "kubeconfig"
    code, output, _ = run_up(tmp_path, KUBECONFIG=f"{tmp_path / 'missing'}:{kube}")
    assert code == 0, output
    kube.unlink()
    code, output, calls = run_up(tmp_path, kubeconfig=False, KUBECONFIG=f"{tmp_path / 'missing'}:{kube}")
    assert code != 0
    assert f"{tmp_path / 'missing'}:{kube}" in output
    assert not deployed(calls)


def never_asked_for_secrets(calls: list[str], output: str) -> bool:
    """The wrapper never asks Pulumi for secret values, so it can never print one: the fake would
    print PLAINTEXT for them (as the real CLI prints plaintext) only with --show-secrets."""
    return not any("--show-secrets" in c for c in pulumi_commands(calls)) and PLAINTEXT not in output


def test_a_stored_kubeconfig_secret_stands_for_the_file(tmp_path: Path) -> None:
    text = (ROOT_DIR / "Pulumi.dev.yaml").read_text() + "  binderhub:kubeconfig:\n    secure: v1:AAAA\n"
    with_stack_file(tmp_path, "dev", text)
    code, output, calls = run_up(tmp_path, kubeconfig=False)
    assert code == 0, output
    assert never_asked_for_secrets(calls, output)
    assert "AAAA" not in output  # nor read from the stack file itself


def test_the_configuration_is_pulumis_reading_of_the_stack_file(tmp_path: Path) -> None:
    """The wrapper reads no stack file: it checks what `pulumi config --json` reports (Pulumi's
    YAML parser, comments, CRLF line endings and the project's defaults included). Here Pulumi
    reports an AWS stack where the file says `existing`: the AWS checks run."""
    listing = {
        "binderhub:cloud": {"value": "aws", "secret": False},
        "binderhub:cluster": {
            "value": '{"region":"eu-north-1"}',
            "objectValue": {"region": "eu-north-1"},
            "secret": False,
        },
    }
    code, output, calls = run_up(tmp_path, tools=("aws",), FAKE_CONFIG_JSON=json.dumps(listing))
    assert code == 0, output
    assert "aws sts get-caller-identity --region eu-north-1" in calls
    (tmp_path / "bin" / "aws").unlink()
    code, output, calls = run_up(tmp_path, FAKE_CONFIG_JSON=json.dumps(listing))
    assert code != 0 and "aws CLI" in output


@pytest.mark.parametrize("cloud", ["", "  binderhub:cloud: openstack\n", "  binderhub:cloud:\n    secure: v1:AAAA\n"])
def test_a_stack_without_a_valid_cloud_is_refused(tmp_path: Path, cloud: str) -> None:
    with_stack_file(tmp_path, "dev", "config:\n" + cloud + "  binderhub:namespace: hub\n")
    code, output, calls = run_up(tmp_path)
    assert code != 0
    assert "binderhub:cloud" in output and "existing, azure, aws, gcp" in output
    assert never_asked_for_secrets(calls, output)
    assert "AAAA" not in output
    assert installs(calls) == [] and not deployed(calls)


def test_the_wrapper_checks_every_target_the_program_has() -> None:
    clouds = typing.get_args(StackConfig.model_fields["cloud"].annotation)
    assert set(up.TARGET_CHECKS) == set(clouds)
    assert set(up.PROTECTED) == set(clouds)


def test_aws_without_the_aws_cli_is_refused_before_the_cluster_exists(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("aws", "up"), AWS_ACCESS_KEY_ID="AKIA0000")
    assert code != 0
    assert "aws CLI" in output and "aws eks get-token" in output
    assert installs(calls) == [] and not deployed(calls)


def test_an_aws_sso_profile_without_a_credentials_file_is_accepted(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("aws", "up"), tools=("aws",), AWS_PROFILE="uni-sso")
    assert code == 0, output
    assert not (tmp_path / ".aws").exists()
    # asked of the CLI, in the stack's region
    region = yaml.safe_load((ROOT_DIR / "Pulumi.aws.yaml").read_text())["config"]["binderhub:cluster"]["region"]
    assert f"aws sts get-caller-identity --region {region}" in calls
    assert pulumi_commands(calls)[-2:] == ["up --stack aws", "stack output --json --stack aws"]


def test_aws_credentials_the_cli_rejects_are_refused_with_its_message(tmp_path: Path) -> None:
    error = "Error when retrieving token from sso: Token has expired and refresh failed"
    code, output, calls = run_up(tmp_path, args=("aws", "up"), tools=("aws",), FAKE_AWS_ERROR=error)
    assert code != 0
    assert error in output and "aws sso login" in output
    assert installs(calls) == [] and not deployed(calls)


def test_gcp_without_the_gke_auth_plugin_is_refused_before_the_cluster_exists(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("gcp", "up"), GOOGLE_APPLICATION_CREDENTIALS="/keys/sa.json")
    assert code != 0
    assert up.GKE_AUTH_PLUGIN in output
    assert installs(calls) == [] and not deployed(calls)


def test_gcp_needs_credentials_besides_the_plugin(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("gcp", "up"), tools=("gke-gcloud-auth-plugin",))
    assert code != 0
    assert "gcloud auth application-default login" in output
    assert not deployed(calls)
    adc = tmp_path / ".config" / "gcloud" / "application_default_credentials.json"
    adc.parent.mkdir(parents=True)
    adc.write_text("{}")
    code, output, calls = run_up(tmp_path, args=("gcp", "up"), tools=("gke-gcloud-auth-plugin",))
    assert code == 0, output


def test_the_gke_plugin_checked_is_the_one_the_kubeconfig_runs() -> None:
    from components.cluster.gke import AUTH_PLUGIN

    assert up.GKE_AUTH_PLUGIN == AUTH_PLUGIN


def test_azure_without_kubelogin_is_refused_before_the_cluster_exists(tmp_path: Path) -> None:
    # The AKS cluster takes Entra ID logins only; its kubeconfig runs kubelogin.
    code, output, calls = run_up(tmp_path, args=("prod", "up"), tools=("az",))
    assert code != 0 and "kubelogin is not on PATH" in output and "az aks install-cli" in output
    assert installs(calls) == [] and not deployed(calls)


def test_the_kubelogin_checked_is_the_one_the_kubeconfig_runs() -> None:
    from components.cluster.aks import KUBELOGIN

    assert KUBELOGIN == "kubelogin" and 'shutil.which("kubelogin"' in (ROOT_DIR / "scripts" / "up.py").read_text()


def test_azure_takes_an_az_login_or_a_service_principal(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("prod", "up"), tools=("kubelogin",))
    assert code != 0 and "az login" in output and not deployed(calls)
    code, output, calls = run_up(
        tmp_path, args=("prod", "up"), tools=("az", "kubelogin"), FAKE_AZ_ERROR="Please run 'az login'"
    )
    assert code != 0 and "az account show" in output and not deployed(calls)
    code, output, calls = run_up(tmp_path, args=("prod", "up"), tools=("az", "kubelogin"))
    assert code == 0, output
    assert "az account show" in calls
    (tmp_path / "bin" / "az").unlink()
    # A service principal for the provider; kubelogin needs a login of its own.
    principal = "00000000-0000-0000-0000-000000000000"
    code, output, calls = run_up(tmp_path, args=("prod", "up"), tools=("kubelogin",), ARM_CLIENT_ID=principal)
    assert code != 0 and "AAD_LOGIN_METHOD=spn" in output and not deployed(calls)
    code, output, calls = run_up(
        tmp_path, args=("prod", "up"), tools=("kubelogin",), AAD_LOGIN_METHOD="spn", ARM_CLIENT_ID=principal
    )
    assert code == 0, output


# --- Install, then run ---


def test_a_fresh_machine_gets_the_pinned_uv_from_pip_and_the_locked_runtime_packages(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    code, output, calls = run_up(tmp_path)
    assert code == 0, output
    pip, sync = installs(calls)
    # uv from PyPI through pip, into the project's own tools directory
    assert pip.startswith("python3 -m pip install ") and f" uv=={PINNED_UV}" in pip
    assert " --target .tools/" in pip  # relative to the project (up.sh runs there)
    # the lock as it is (a stale one is refused), without the dev group, into the environment Pulumi runs
    project = yaml.safe_load((repo / "Pulumi.yaml").read_text())["runtime"]
    assert project["options"]["toolchain"] == "uv"
    assert sync.startswith("uv sync ") and " --locked " in sync and " --no-dev " in sync
    assert sync.endswith(f"UV_PROJECT_ENVIRONMENT={repo / project['options']['virtualenv']}")
    # installed after every check, before the program runs, and Pulumi finds that same uv
    assert calls.index(sync) > calls.index("pulumi config --json --stack dev")
    assert calls.index(sync) < calls.index("pulumi up --stack dev")
    uv_for_pulumi = next(c for c in calls if c.startswith("toolchain uv:"))
    assert uv_for_pulumi == f"toolchain uv: {repo}/.tools/uv-{PINNED_UV}/bin/uv"


def test_the_next_run_reuses_the_installed_uv(tmp_path: Path) -> None:
    run_up(tmp_path)
    code, output, calls = run_up(tmp_path)
    assert code == 0, output
    assert [c.split()[0:2] for c in installs(calls)] == [["uv", "sync"]]  # no pip this time


def test_a_uv_of_the_pinned_version_on_path_is_used_and_another_is_not(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, uv_on_path=PINNED_UV)
    assert code == 0, output
    assert [c.split()[0:2] for c in installs(calls)] == [["uv", "sync"]]
    assert f"toolchain uv: {tmp_path}/bin/uv" in calls

    other = tmp_path / "other"
    other.mkdir()
    code, output, calls = run_up(other, uv_on_path="0.1.0")
    assert code == 0, output
    assert [c.split()[0:2] for c in installs(calls)] == [["python3", "-m"], ["uv", "sync"]]
    assert f"toolchain uv: {other}/repo/.tools/uv-{PINNED_UV}/bin/uv" in calls


# --- preview and destroy act on what exists, and fail closed ---


def test_make_destroy_runs_the_program_for_its_delete_hooks(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("dev", "destroy"), stacks=("dev",), local_state=True)
    assert code == 0, output
    assert "stack select --stack dev" in pulumi_commands(calls)
    assert pulumi_commands(calls)[-1] == "destroy --run-program --stack dev"
    assert any(c.startswith("uv sync ") for c in calls)  # the program's packages, for its hooks


@pytest.mark.parametrize("action", ["preview", "destroy"])
@pytest.mark.parametrize("logged_in", [None, "https://api.pulumi.com"])
def test_preview_or_destroy_of_a_stack_that_does_not_exist_creates_nothing(
    tmp_path: Path, action: str, logged_in: str | None
) -> None:
    # locally: a state folder with other stacks in it
    local = logged_in is None
    code, output, calls = run_up(
        tmp_path, args=("dev", action), stacks=("prod",), local_state=local, logged_in=logged_in
    )
    assert code != 0
    assert "nothing is deployed under that name" in output
    assert not any("--create" in c for c in pulumi_commands(calls))
    assert (tmp_path / "stacks").read_text() == "prod"
    assert installs(calls) == [] and not deployed(calls)


@pytest.mark.parametrize("action", ["preview", "destroy"])
def test_preview_or_destroy_without_any_state_creates_nothing(tmp_path: Path, action: str) -> None:
    code, output, calls = run_up(tmp_path, args=("dev", action))
    assert code != 0
    assert "nothing is deployed from here" in output
    assert calls == []
    assert not (tmp_path / "repo" / ".pulumi-state").exists()


def test_destroying_a_protected_managed_stack_names_what_is_protected_and_how_to_lift_it(tmp_path: Path) -> None:
    code, output, calls = run_up(
        tmp_path, args=("prod", "destroy"), stacks=("prod",), local_state=True, tools=("az", "kubelogin")
    )
    assert code != 0
    assert "is protected" in output
    named = ("resource group", "AKS cluster", "ACR registry", "public IP", "hub namespace", "hub database")
    assert all(what in output for what in named)
    assert "pulumi config set binderhub:protect false --stack prod" in output
    assert installs(calls) == [] and not deployed(calls)


def test_destroying_a_protected_existing_cluster_stack_names_only_the_hub(tmp_path: Path) -> None:
    with_stack_file(tmp_path, "dev", (ROOT_DIR / "Pulumi.dev.yaml").read_text() + "  binderhub:protect: true\n")
    code, output, calls = run_up(tmp_path, args=("dev", "destroy"), stacks=("dev",), local_state=True)
    assert code != 0
    assert "is protected" in output and "hub namespace" in output and "hub database" in output
    assert "ingress" not in output and "registry" not in output  # neither is protected on an existing cluster
    assert "cluster itself is not this stack's" in output
    assert installs(calls) == [] and not deployed(calls)


# What the program protects, by registration (type, and name where the type serves other
# purposes too), and the words the wrapper's list must use for it. The hub database's claim is
# rendered by the hub charts: it is protected by a transform on the hub releases.
NAMED_AS = {
    ("azure-native:resources:ResourceGroup", None): "resource group",
    ("azure-native:containerservice:ManagedCluster", None): "AKS cluster",
    ("azure-native:containerregistry:Registry", None): "ACR registry",
    ("azure-native:network:PublicIPAddress", None): "public IP",
    ("eks:index:Cluster", None): "EKS cluster",
    ("binderhub:registry:EcrRegistry", None): "ECR helper",
    ("kubernetes:core/v1:Namespace", "registry-namespace"): "ECR helper and its namespace",
    ("aws:ec2/eip:Eip", None): "Elastic IPs",
    ("gcp:container/cluster:Cluster", None): "GKE cluster",
    ("gcp:artifactregistry/repository:Repository", None): "Artifact Registry repository",
    ("gcp:compute/address:Address", None): "ingress address",
    ("kubernetes:core/v1:Namespace", "hub-namespace"): "hub namespace",
}
HUB_RELEASES = ("binderhub:hub:BinderHubRelease", "binderhub:hub:JupyterHubRelease")


def _named_as(reg: Registration) -> str | None:
    return NAMED_AS.get((reg.type, reg.name)) or NAMED_AS.get((reg.type, None))


def _protects_the_hub_database(run: ProgramRun) -> bool:
    """Whether a transform on a hub release protects the hub database's claim (z2jh `hub-db-dir`)."""
    for hub in (r for r in run.registrations if r.type in HUB_RELEASES):
        for transform in hub.transforms:
            claim = pulumi.ResourceTransformArgs(
                custom=True,
                type_="kubernetes:core/v1:PersistentVolumeClaim",
                name="hub-db-dir",
                props={"metadata": {"name": "hub-db-dir"}},
                opts=pulumi.ResourceOptions(),
            )
            result = transform(claim)
            if result is not None and result.opts.protect:
                return True
    return False


@pytest.mark.parametrize("stack", ["prod", "aws", "gcp", "dev", "baremetal"])
def test_the_wrapper_names_exactly_what_the_program_protects(stack: str) -> None:
    """Each committed stack (each target, each creating its registry), evaluated with
    binderhub:protect on: every protected resource is named by one item of the wrapper's list,
    and every item names something protected."""
    variant = VARIANTS[stack]
    run = Program({**variant.config, "protect": True}, variant.secret_values, stack=variant.stack).run()
    assert run.error is None, run.error
    by_urn = {r.urn: r for r in run.registrations}
    protected = [r for r in run.registrations if r.protect]
    names: set[str] = set()
    for reg in protected:
        name = _named_as(reg)
        parent = by_urn.get(reg.parent)
        if name is None:  # a protected component's children inherit its protection
            assert parent is not None and parent.protect, f"{reg.type} {reg.name} is protected but not named"
        else:
            names.add(name)
    if _protects_the_hub_database(run):
        names.add("hub database")
    listed = up.PROTECTED[variant.cloud]
    for name in names:
        assert len([item for item in listed if name in item]) == 1, f"{name!r} is not named once in {listed}"
    for item in listed:
        assert any(name in item for name in names), f"{item!r} is not protected by the program on {variant.cloud}"


@pytest.mark.parametrize(
    ("extra", "env"),
    [
        # Pulumi's error, and in it a secret the wrapper knows (the passphrase): shown, scrubbed
        (
            "",
            {
                "FAKE_CONFIG_ERROR": f"could not parse Pulumi.dev.yaml with passphrase {PASSPHRASE}: yaml: line 3: "
                "mapping values are not allowed"
            },
        ),
        ("  binderhub:protect: maybe\n", {}),
        ("  binderhub:protect:\n    secure: v1:AAAA\n", {}),
    ],
)
def test_destroy_fails_closed_when_the_protection_cannot_be_read(
    tmp_path: Path, extra: str, env: dict[str, str]
) -> None:
    with_stack_file(tmp_path, "dev", (ROOT_DIR / "Pulumi.dev.yaml").read_text() + extra)
    code, output, calls = run_up(tmp_path, args=("dev", "destroy"), stacks=("dev",), local_state=True, extra_env=env)
    assert code != 0
    assert "binderhub:protect" in output or "mapping values are not allowed" in output
    assert never_asked_for_secrets(calls, output)
    assert "AAAA" not in output and PASSPHRASE not in output
    assert installs(calls) == [] and not deployed(calls)


@pytest.mark.parametrize("action", ["up", "preview", "destroy"])
@pytest.mark.parametrize("value", ["no", "'no'", "yes", "True", "on", "0"])
def test_protect_takes_only_what_pulumi_takes_for_a_boolean(tmp_path: Path, action: str, value: str) -> None:
    """Pulumi.yaml declares binderhub:protect a boolean, so Pulumi stops any run whose stack sets it
    to anything but `true` or `false`; the program's parser would take yes/no, but never sees them.
    Refused before anything is installed, saying why."""
    assert yaml.safe_load((ROOT_DIR / "Pulumi.yaml").read_text())["config"]["protect"]["type"] == "boolean"
    with_stack_file(tmp_path, "dev", (ROOT_DIR / "Pulumi.dev.yaml").read_text() + f"  binderhub:protect: {value}\n")
    code, output, calls = run_up(tmp_path, args=("dev", action), stacks=("dev",), local_state=True)
    assert code != 0
    assert repr(value.strip("'")) in output and "write true or false" in output and "boolean" in output
    assert installs(calls) == [] and not deployed(calls)


@pytest.mark.parametrize("value", ["true", "false"])
def test_protect_true_or_false_is_taken(tmp_path: Path, value: str) -> None:
    with_stack_file(tmp_path, "dev", (ROOT_DIR / "Pulumi.dev.yaml").read_text() + f"  binderhub:protect: {value}\n")
    code, output, calls = run_up(tmp_path, stacks=("dev",), local_state=True)
    assert code == 0, output
    assert pulumi_commands(calls)[-2:] == ["up --stack dev", SMOKE_READ]


# --- The smoke test after `pulumi up`, and `make smoke` ---


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_make_up_ends_with_the_smoke_tests_summary(tmp_path: Path) -> None:
    with serving(Scenario()) as server:
        code, output, calls = run_up(
            tmp_path, command=["make", "--no-print-directory", "up"], FAKE_STACK_OUTPUTS=outputs_of(server.url())
        )
    assert code == 0, output
    assert last_line(output).startswith("smoke test passed")
    commands = pulumi_commands(calls)
    assert commands.index("up --stack dev") < commands.index("stack output --json --stack dev")
    assert "--show-secrets" not in " ".join(commands)  # the URLs are not secret
    assert [p for p in server.paths() if p.startswith("/build/")] == [
        "/build/gh/binderhub-ci-repos/cached-minimal-dockerfile/HEAD"
    ]
    assert server.paths("POST") == ["/user/smoke-abc123/api/shutdown"]


def test_a_failed_smoke_test_fails_make_up_saying_what_and_where_to_look(tmp_path: Path) -> None:
    failed = [*successful_build()[:3], event("failed", "Error during build: Step 2/3 : RUN false returned 1")]
    with serving(Scenario(events=failed)) as server:
        code, output, calls = run_up(tmp_path, FAKE_STACK_OUTPUTS=outputs_of(server.url()))
    assert code == 1
    assert "up --stack dev" in pulumi_commands(calls)  # deployed, then found not working
    assert last_line(output).startswith("smoke test FAILED") and "RUN false returned 1" in last_line(output)
    assert 'See README.md, Troubleshooting: "A build", "BinderHub logs".' in output


def test_the_smoke_test_is_skipped_when_disabled(tmp_path: Path) -> None:
    text = (ROOT_DIR / "Pulumi.dev.yaml").read_text() + "  binderhub:smoke:\n    enabled: false\n"
    with_stack_file(tmp_path, "dev", text)
    with serving(Scenario()) as server:
        code, output, calls = run_up(tmp_path, FAKE_STACK_OUTPUTS=outputs_of(server.url()))
    assert code == 0, output
    assert "Smoke test skipped: binderhub:smoke.enabled is false" in output
    assert server.requests == [] and not any(c.startswith("stack output") for c in pulumi_commands(calls))


def test_a_failed_pulumi_up_is_not_smoke_tested(tmp_path: Path) -> None:
    with serving(Scenario()) as server:
        code, output, _ = run_up(tmp_path, FAKE_UP_EXIT="255", FAKE_STACK_OUTPUTS=outputs_of(server.url()))
    assert code == 255
    assert server.requests == [] and "smoke test" not in output


def test_a_smoke_setting_stored_as_a_secret_is_refused_before_anything_is_installed(tmp_path: Path) -> None:
    text = (ROOT_DIR / "Pulumi.dev.yaml").read_text() + "  binderhub:smoke:\n    secure: v1:AAAA\n"
    with_stack_file(tmp_path, "dev", text)
    code, output, calls = run_up(tmp_path)
    assert code == 1
    assert "binderhub:smoke is stored as a secret" in output
    assert installs(calls) == [] and not deployed(calls)


def test_make_smoke_runs_the_smoke_test_alone_on_the_deployed_stack(tmp_path: Path) -> None:
    # smoke.enabled false only stops `make up` from running it: `make smoke` is asked for
    text = (ROOT_DIR / "Pulumi.dev.yaml").read_text() + "  binderhub:smoke:\n    enabled: false\n"
    with_stack_file(tmp_path, "dev", text)
    with serving(Scenario()) as server:
        code, output, calls = run_up(
            tmp_path,
            command=["make", "--no-print-directory", "smoke", "STACK=dev"],
            stacks=("dev",),
            local_state=True,
            FAKE_STACK_OUTPUTS=outputs_of(server.url()),
        )
    assert code == 0, output
    assert last_line(output).startswith("smoke test passed")
    assert installs(calls) == [] and not deployed(calls)
    assert pulumi_commands(calls) == [
        "stack select --stack dev",
        "config --json --stack dev",
        "stack output --json --stack dev",
    ]
    assert any(p.startswith("/build/") for p in server.paths())


def test_make_smoke_reads_a_login_set_as_a_secret_without_printing_it(tmp_path: Path) -> None:
    # `pulumi config set --secret`: the client id is a secure leaf of binderhub:auth.
    cipher = "v1:AAABBBCCC"
    text = (ROOT_DIR / "Pulumi.dev.yaml").read_text()
    text += f"  binderhub:auth:\n    type: github\n    clientId:\n      secure: {cipher}\n"
    with_stack_file(tmp_path, "dev", text)
    scenario = Scenario()
    with serving(scenario) as server:
        callback = urllib.parse.quote(f"{server.url()}hub/oauth_callback", safe="")
        # The fake pulumi reveals a secure value as plaintext-of-<cipher>.
        scenario.login_location = (
            f"https://github.com/login/oauth/authorize?client_id=plaintext-of-{cipher}&redirect_uri={callback}"
        )
        code, output, calls = run_up(
            tmp_path,
            args=("dev", "smoke"),
            stacks=("dev",),
            local_state=True,
            FAKE_STACK_OUTPUTS=outputs_of(server.url()),
        )
    assert code == 0, output
    assert last_line(output).startswith("smoke test passed")
    assert "config --json --show-secrets --stack dev" in pulumi_commands(calls)
    assert f"plaintext-of-{cipher}" not in output


def test_make_smoke_of_a_stack_that_is_not_deployed_is_refused(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("dev", "smoke"), local_state=True)
    assert code == 1
    assert "there is no stack 'dev'" in output
    assert not any(c.startswith("stack output") for c in pulumi_commands(calls))


def test_make_smoke_without_a_deployment_fails_naming_the_missing_output(tmp_path: Path) -> None:
    code, output, _ = run_up(
        tmp_path, args=("dev", "smoke"), stacks=("dev",), local_state=True, FAKE_STACK_OUTPUTS="{}"
    )
    assert code == 1
    assert last_line(output) == (
        "smoke test FAILED: the stack has no binder_url output (is it deployed? `pulumi stack output` lists them)"
    )


# --- destroy: a cluster that does not answer fails the run, unless its cloud says it is gone ---

# What each cloud's CLI prints for a cluster that does not exist (real messages, names changed).
CLUSTER_NOT_FOUND = {
    "az": "ERROR: (ResourceNotFound) The Resource 'Microsoft.ContainerService/managedClusters/binderhub-prod' "
    "under resource group 'binderhub-prod' was not found.",
    "aws": "An error occurred (ResourceNotFoundException) when calling the DescribeCluster operation: "
    "No cluster found for name: binderhub-aws.",
    "gcloud": "ERROR: (gcloud.container.clusters.describe) ResponseError: code=404, message=Not found: "
    "projects/my-binderhub-project/zones/us-central1-a/clusters/binderhub-gcp.",
}


# Each cloud's CLI -> (the committed stack deployed there, binderhub:cloud).
MANAGED = {"az": ("prod", "azure"), "aws": ("aws", "aws"), "gcloud": ("gcp", "gcp")}


def managed_destroy(tmp_path: Path, cloud: str, missing: str = "", **env: str) -> tuple[int, str, list[str]]:
    """`make destroy` of the committed stack of `cloud` (Azure's `prod` unprotected), deployed
    with the cluster name the program gives it, with the cloud's CLIs on PATH but `missing`."""
    stack = MANAGED[cloud][0]
    text = (ROOT_DIR / f"Pulumi.{stack}.yaml").read_text()
    if stack == "prod":
        assert "binderhub:protect: true" in text
        with_stack_file(tmp_path, stack, text.replace("binderhub:protect: true", "binderhub:protect: false"))
    tools = {"az": ("az", "kubelogin"), "aws": ("aws",), "gcloud": ("gcloud", "gke-gcloud-auth-plugin")}[cloud]
    tools = tuple(tool for tool in tools if tool != missing)
    if cloud == "gcloud":
        adc = tmp_path / ".config" / "gcloud" / "application_default_credentials.json"
        adc.parent.mkdir(parents=True, exist_ok=True)
        adc.write_text("{}")
    deployed = json.dumps({"cluster_name": f"binderhub-{stack}", "kubeconfig": "[secret]"})
    # The state's EKS cluster, in the account the fake aws CLI's credentials are for.
    state = {"deployment": {"resources": [{"type": "aws:eks/cluster:Cluster", "outputs": {"arn": EKS_ARN}}]}}
    return run_up(
        tmp_path,
        args=(stack, "destroy"),
        stacks=(stack,),
        local_state=True,
        tools=tools,
        extra_env={"FAKE_STACK_OUTPUTS": deployed, "FAKE_STACK_EXPORT": json.dumps(state), **env},
    )


EKS_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/binderhub-aws"


def test_aws_credentials_of_another_account_never_read_not_found_as_gone(tmp_path: Path) -> None:
    other = json.dumps(
        {
            "deployment": {
                "resources": [
                    {
                        "type": "aws:eks/cluster:Cluster",
                        "outputs": {"arn": EKS_ARN.replace("123456789012", "210987654321")},
                    }
                ]
            }
        }
    )
    code, output, calls = managed_destroy(
        tmp_path,
        "aws",
        FAKE_AWS_CLUSTER_ERROR=CLUSTER_NOT_FOUND["aws"],
        FAKE_STACK_EXPORT=other,
        FAKE_DESTROY_EXIT="255",
    )
    assert delete_unreachable(calls) == "unset" and code == 255
    assert "account 123456789012" in output and "account 210987654321" in output


def test_the_wrapper_looks_for_the_cluster_where_the_config_model_puts_it_by_default() -> None:
    from config.clusters import AwsClusterConfig, GcpClusterConfig

    assert {
        "aws": AwsClusterConfig.model_fields["region"].default,
        "gcp": GcpClusterConfig.model_fields["region"].default,
    } == up.DEFAULT_REGION
    config: dict[str, dict[str, object]] = {"binderhub:cluster": {"objectValue": {"project": "my-project-1"}}}
    outputs = {"cluster_name": "binderhub-x"}
    original = up.stack_outputs
    up.stack_outputs = lambda stack, env: outputs  # type: ignore[assignment]
    try:
        assert up.cluster_query("x", "gcp", config, {})[-2:] == ["--location", "us-central1"]
        assert up.cluster_query("x", "aws", {"binderhub:cluster": {"objectValue": {}}}, {})[-2:] == [
            "--region",
            "us-east-1",
        ]
    finally:
        up.stack_outputs = original


def delete_unreachable(calls: list[str]) -> str:
    """PULUMI_K8S_DELETE_UNREACHABLE as `pulumi destroy` ran with it ("unset" when it was not)."""
    [value] = [c.removeprefix("delete unreachable: ") for c in calls if c.startswith("delete unreachable: ")]
    return value


# The question asked of each cloud: the committed stack files' cluster, where they put it.
CLUSTER_QUESTION = {
    "az": "az aks show --name binderhub-prod --resource-group binderhub-prod",
    "aws": "aws eks describe-cluster --name binderhub-aws --region us-east-1",
    "gcloud": "gcloud container clusters describe binderhub-gcp --project my-binderhub-project "
    "--location us-central1-a",
}


@pytest.mark.parametrize("cloud", sorted(CLUSTER_NOT_FOUND))
def test_destroy_drops_the_objects_of_a_cluster_its_cloud_says_is_gone(tmp_path: Path, cloud: str) -> None:
    code, output, calls = managed_destroy(
        tmp_path, cloud, **{f"FAKE_{cloud.upper()}_CLUSTER_ERROR": CLUSTER_NOT_FOUND[cloud]}
    )
    assert code == 0, output
    assert CLUSTER_QUESTION[cloud] in calls
    assert delete_unreachable(calls) == "true"
    # Refreshed first: the refresh drops the Helm releases, whose Delete fails on a cluster that is gone.
    assert pulumi_commands(calls)[-1] == f"destroy --run-program --refresh --stack {MANAGED[cloud][0]}"
    assert "no longer exists" in output and "dropped from the state" in output


@pytest.mark.parametrize("cloud", sorted(CLUSTER_NOT_FOUND))
def test_destroy_of_a_cluster_that_still_exists_fails_saying_what_to_check(tmp_path: Path, cloud: str) -> None:
    code, output, calls = managed_destroy(tmp_path, cloud, FAKE_DESTROY_EXIT="255")
    assert CLUSTER_QUESTION[cloud] in calls
    # Objects of a live cluster are never forgotten: the destroy fails ...
    assert delete_unreachable(calls) == "unset"
    assert code == 255
    # ... and says where an unreachable API server comes from.
    assert (
        "found the cluster" in output
        and "apiAccessCidrs" in output
        and up.LOGIN_HINT[{"az": "azure", "aws": "aws", "gcloud": "gcp"}[cloud]] in output
    )


@pytest.mark.parametrize(
    "cloud, error",
    [
        ("aws", "An error occurred (ExpiredTokenException) when calling the DescribeCluster operation"),
        ("az", "ERROR: (AuthorizationFailed) The client does not have authorization to perform action"),
        ("gcloud", "ERROR: (gcloud.container.clusters.describe) You do not currently have an active account"),
    ],
)
def test_a_cloud_that_does_not_say_not_found_keeps_the_objects(tmp_path: Path, cloud: str, error: str) -> None:
    code, output, calls = managed_destroy(
        tmp_path, cloud, FAKE_DESTROY_EXIT="255", **{f"FAKE_{cloud.upper()}_CLUSTER_ERROR": error}
    )
    assert delete_unreachable(calls) == "unset"
    assert code == 255 and error in output and "apiAccessCidrs" in output


def test_without_gcloud_nothing_is_dropped(tmp_path: Path) -> None:
    # The auth plugin is enough to deploy; asking GKE about the cluster takes gcloud.
    code, output, calls = managed_destroy(tmp_path, "gcloud", missing="gcloud", FAKE_DESTROY_EXIT="255")
    assert delete_unreachable(calls) == "unset"
    assert code == 255 and "gcloud is not on PATH" in output


def test_the_azure_cluster_is_looked_up_where_the_program_put_it(tmp_path: Path) -> None:
    stack_file = (ROOT_DIR / "Pulumi.prod.yaml").read_text().replace("binderhub:protect: true", "")
    config = yaml.safe_load(stack_file)
    config["config"]["binderhub:cluster"]["resourceGroup"] = "research-binder"
    with_stack_file(tmp_path, "prod", yaml.safe_dump(config))
    subscription = "11111111-2222-3333-4444-555555555555"  # the azure-native provider's, not az's default
    code, output, calls = run_up(
        tmp_path,
        args=("prod", "destroy"),
        stacks=("prod",),
        local_state=True,
        tools=("az", "kubelogin"),
        FAKE_STACK_OUTPUTS=json.dumps({"cluster_name": "binderhub-prod"}),
        ARM_SUBSCRIPTION_ID=subscription,
    )
    assert code == 0, output
    question = f"az aks show --name binderhub-prod --resource-group research-binder --subscription {subscription}"
    assert question in calls


def test_destroy_without_a_cluster_name_output_drops_nothing(tmp_path: Path) -> None:
    # A stack whose first `up` failed before its outputs: nothing tells which cluster to ask about.
    code, output, calls = managed_destroy(tmp_path, "aws", FAKE_STACK_OUTPUTS="{}", FAKE_DESTROY_EXIT="255")
    assert not any(c.startswith("aws eks describe-cluster") for c in calls)
    assert delete_unreachable(calls) == "unset"
    assert code == 255 and "no cluster_name output" in output


@pytest.mark.parametrize("action", ["up", "preview"])
def test_up_and_preview_never_pass_delete_unreachable_on(tmp_path: Path, action: str) -> None:
    # The Python SDK would write it into the provider's inputs, kept by every later refresh and destroy.
    code, output, calls = run_up(
        tmp_path, args=("dev", action), stacks=("dev",), local_state=True, PULUMI_K8S_DELETE_UNREACHABLE="true"
    )
    assert code == 0, output
    assert delete_unreachable(calls) == "unset"
    assert "Ignoring PULUMI_K8S_DELETE_UNREACHABLE" in output


def test_destroy_keeps_a_delete_unreachable_the_user_set(tmp_path: Path) -> None:
    # The way out for a cluster the wrapper cannot ask about (an existing one, deleted).
    code, output, calls = run_up(
        tmp_path, args=("dev", "destroy"), stacks=("dev",), local_state=True, PULUMI_K8S_DELETE_UNREACHABLE="true"
    )
    assert code == 0, output
    assert delete_unreachable(calls) == "true"
    assert pulumi_commands(calls)[-1] == "destroy --run-program --refresh --stack dev"
    assert "is set in your environment" in output
