"""`make up|preview|destroy|secret|smoke`: every check first, then the program's packages, then Pulumi.

Run by scripts/up.sh as `python3 scripts/up.py STACK ACTION [KEY]`, before anything is installed, so
it uses the standard library only. STACK and KEY come from the command line: they are checked
here and passed on as single argv elements, never through a shell.

Order, and why:
1. STACK, ACTION and KEY are valid (nothing else runs otherwise).
2. The state backend: the one you use, never a second one behind your back, and never a guess
   between two (`choose_backend`).
3. The stack: `up` and `secret` may create it; `preview` and `destroy` only act on one that exists.
4. Its configuration, as Pulumi reads it (`pulumi config --json`: Pulumi's YAML parser, the
   project's defaults): the target's credentials and tools, and for `destroy` the protection.
5. Only then the program's packages (uv.lock into .venv), and the Pulumi command.
6. After a successful `pulumi up`, the smoke test (scripts/smoke.py, unless binderhub:smoke.enabled
   is false): `make up` then exits with its result. `make smoke` runs it alone, on a deployed
   stack: steps 1 to 4 without the target's credentials (it talks to the hosts, not the cloud),
   and no install.
Any failure prints `error: ...` on stderr and exits 1. Everything printed here goes through
`Scrubber`: no secret the wrapper knows of (Pulumi's token and passphrase, the backend URL's
password, cloud credentials in the environment) is printed, not even inside another tool's error.
"""

import ast
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import smoke

ROOT = Path(__file__).resolve().parent.parent
LOCAL_STATE = ROOT / ".pulumi-state"
# What `pulumi login` uses when no URL is given (Pulumi Cloud).
PULUMI_CLOUD = "https://api.pulumi.com"
ACTIONS = ("up", "preview", "destroy", "secret", "smoke")
# Pulumi's rule for stack names (sdk/go/common/tokens: ValidateStackName, as the service enforces).
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
# The kubeconfig GKE clusters get authenticates through this plugin (components/cluster/gke.py).
GKE_AUTH_PLUGIN = "gke-gcloud-auth-plugin"
# What `binderhub:protect` protects, per target: what the program sets `protect` on (stacks/<cloud>.py
# and the components they build; the hub namespace and the PersistentVolumeClaim transform on the
# hub releases for every target). tests/test_make_up.py checks these against the program's own
# registrations, so the message names exactly what refuses deletion, nothing more.
HUB_NAMESPACE = "the hub namespace (users' servers and their volumes are in it)"
HUB_DATABASE = "the hub database's volume claim"
PROTECTED: dict[str, tuple[str, ...]] = {
    "azure": (
        "the resource group",
        "the AKS cluster",
        "the ACR registry (when registry.type is acr)",
        "the ingress public IP",
        HUB_NAMESPACE,
        HUB_DATABASE,
    ),
    "aws": (
        "the EKS cluster",
        "the ECR helper and its namespace (when registry.type is ecr)",
        "the ingress Elastic IPs",
        HUB_NAMESPACE,
        HUB_DATABASE,
    ),
    "gcp": (
        "the GKE cluster",
        "the Artifact Registry repository (when registry.type is artifact-registry)",
        "the ingress address",
        HUB_NAMESPACE,
        HUB_DATABASE,
    ),
    "existing": (HUB_NAMESPACE, HUB_DATABASE),
}
# The cluster of an `existing` stack is not the stack's: nothing of it is deleted, or protected.
NOT_PROTECTED = {"existing": "Your cluster itself is not this stack's: destroy never deletes it."}
# Pulumi.yaml declares binderhub:protect `type: boolean`: Pulumi then takes only the strings
# "true" and "false" for it and stops `pulumi up`/`preview`/`destroy` on anything else with
# "Stack '<stack>' with configuration key 'protect' must be of type 'boolean'", before the
# program runs (pulumi/pulumi sdk/go/common/workspace/project.go ValidateConfigValue, called by
# ValidateStackConfigAndApplyProjectConfig). The program's own parser (pydantic's lax bool)
# would take yes/no/on/off/1/0 too, but never gets to see them.
PROTECT_VALUES = ("true", "false")
# Environment variables holding credentials that a tool's error message could repeat.
SECRET_VARIABLES = (
    "PULUMI_ACCESS_TOKEN",
    "PULUMI_CONFIG_PASSPHRASE",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "ARM_CLIENT_SECRET",
    "GOOGLE_CREDENTIALS",
)
# Query parameters of a backend URL that carry a secret (postgres://host/db?password=...).
SECRET_PARAMETER = re.compile(r"password|passwd|pwd|secret|token", re.IGNORECASE)
# Shorter known secrets are not scrubbed as substrings: they would blank out ordinary text (a
# password '%2F' decodes to '/'), and a secret that short is no secret.
MIN_SCRUBBED = 3


class RefusedError(Exception):
    """A check failed: the message says what, with which value, and what to do."""


def secret_keys(config_py: Path = ROOT / "config" / "base.py") -> tuple[str, ...]:
    """config.SECRET_KEYS, read from the source: importing config would need the program's
    packages, which are not installed yet (and `make secret` never installs them)."""
    for node in ast.parse(config_py.read_text()).body:
        # SECRET_KEYS = (...), or with an annotation
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == "SECRET_KEYS":
            try:
                keys = ast.literal_eval(value)
            except ValueError:
                break
            if isinstance(keys, tuple) and all(isinstance(key, str) for key in keys):
                return keys
    raise RefusedError(f"{config_py} has no SECRET_KEYS tuple of strings: cannot tell which secrets the program reads")


def check_arguments(argv: list[str]) -> tuple[str, str, str | None]:
    """(stack, action, secret key or None) from `STACK ACTION [KEY]`; KEY only for `secret`."""
    if len(argv) not in (2, 3) or argv[1] not in ACTIONS:
        raise RefusedError(f"usage: up.py STACK {'|'.join(ACTIONS)} [KEY], got {argv!r}")
    stack, action = argv[0], argv[1]
    key = argv[2] if len(argv) == 3 else None
    if not STACK_NAME.fullmatch(stack):
        raise RefusedError(
            f"STACK={stack!r} is not a stack name: use 1-100 letters, digits, '-', '_' or '.' "
            f"(stacks here: {', '.join(stack_names())})"
        )
    if not (ROOT / f"Pulumi.{stack}.yaml").is_file():
        raise RefusedError(f"no Pulumi.{stack}.yaml: stacks here are {', '.join(stack_names())}")
    if action != "secret":
        if key:
            raise RefusedError(f"KEY={key!r} is only for `make secret`")
        return stack, action, None
    keys = secret_keys()
    if key not in keys:
        raise RefusedError(f"KEY={key or ''!r} is not a secret this program reads: use one of {', '.join(keys)}")
    return stack, action, key


def stack_names() -> list[str]:
    return sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in ROOT.glob("Pulumi.?*.yaml"))


def pulumi(
    *args: str, env: Mapping[str, str] | None = None, may_prompt: bool = False
) -> subprocess.CompletedProcess[str]:
    """A Pulumi command whose output we read: captured, with no stdin, so that it answers or fails
    instead of prompting (a login, a new stack).

    `may_prompt`: the command may have to ask for something only the user can give (a new
    stack's passphrase). At a terminal it then gets the terminal, stdin, stdout and stderr
    alike: Pulumi prompts only when its stdin is a terminal (cmdutil.Interactive), writes the
    prompt to stdout and its retry notices ("passphrases do not match") to stderr. Its output is
    then the user's to read, not ours: the result's stdout and stderr are empty.
    """
    if may_prompt and sys.stdin.isatty():
        return subprocess.run(["pulumi", *args], env=env, cwd=ROOT, text=True, check=False)
    return subprocess.run(
        ["pulumi", *args], env=env, cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )


def split_userinfo(url: str) -> tuple[str, str, str | None, str] | None:
    """(`scheme://`, user, password or None, what follows the `@`) of a URL with user info, else None.

    The user info is everything between `://` and the URL's LAST `@`: a password may hold an `@`
    (`state:p@ss@db`), and also an unencoded `/`, `?` or `#`, at which urllib.parse.urlsplit
    would end the netloc (`state:pa/ss@db` gives netloc `state:pa`, and the password's tail in
    the path). A path or query with an `@` in it is masked with the password: too much, never
    too little. The user is what precedes the first `:`, the password all that follows it.
    """
    scheme = urllib.parse.urlsplit(url).scheme
    prefix = f"{scheme}://"
    if not scheme or not url.startswith(prefix) or "@" not in url[len(prefix) :]:
        return None
    userinfo, _, rest = url[len(prefix) :].rpartition("@")
    user, colon, password = userinfo.partition(":")
    return prefix, user, password if colon else None, rest


def shown(url: str) -> str:
    """A backend URL fit to print: its password (postgres://user:password@...), whole, and the
    values of secret-named query parameters (?password=...) are replaced by `***`."""
    parts = split_userinfo(url)
    if parts is not None and parts[2] is not None:
        prefix, user, _, rest = parts
        url = f"{prefix}{user}:***@{rest}"
    return re.sub(
        r"([?&][^=&#]*=)([^&#]*)",
        lambda match: match.group(1) + "***" if SECRET_PARAMETER.search(match.group(1)) else match.group(0),
        url,
    )


def url_secrets(url: str) -> list[str]:
    """A URL's secrets (its password, the values of secret-named query parameters), each as
    written and percent-decoded: a tool's error message may repeat either form."""
    parts = split_userinfo(url)
    written = [parts[2]] if parts is not None and parts[2] else []
    query = urllib.parse.urlsplit(url).query
    written += [value for name, value in re.findall(r"([^=&#]*)=([^&#]*)", query) if SECRET_PARAMETER.search(name)]
    return [form for value in written if value for form in (value, urllib.parse.unquote_plus(value))]


class Scrubber:
    """Replaces every known secret in text the wrapper prints with `***`.

    Known: the values of SECRET_VARIABLES, the file PULUMI_CONFIG_PASSPHRASE_FILE names, the
    passwords of PULUMI_BACKEND_URL and of the backend `pulumi login` recorded, and the access
    tokens in Pulumi's credentials.json. Longest first, so that a secret containing another is
    masked whole; secrets shorter than MIN_SCRUBBED are left (see there).
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SCRUBBED}, key=len, reverse=True)

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> "Scrubber":
        secrets = [env.get(name, "") for name in SECRET_VARIABLES]
        secrets += url_secrets(env.get("PULUMI_BACKEND_URL", ""))
        passphrase_file = env.get("PULUMI_CONFIG_PASSPHRASE_FILE")
        if passphrase_file:
            # Unreadable, Pulumi will say so and there is nothing to hide; Pulumi trims the content.
            with contextlib.suppress(OSError, UnicodeDecodeError):
                secrets.append(Path(passphrase_file).read_text().strip())
        credentials = _read_credentials(env, strict=False)
        current = credentials.get("current")
        if isinstance(current, str):
            secrets += url_secrets(current)
        tokens = credentials.get("accessTokens")
        if isinstance(tokens, dict):
            secrets += [token for token in tokens.values() if isinstance(token, str)]
        return cls(secrets)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def _credentials_file(env: Mapping[str, str]) -> Path:
    """Where `pulumi login` records its logins: $PULUMI_HOME/credentials.json (default ~/.pulumi)."""
    home = Path(env["PULUMI_HOME"]) if env.get("PULUMI_HOME") else Path.home() / ".pulumi"
    return home / "credentials.json"


def _read_credentials(env: Mapping[str, str], *, strict: bool) -> dict[str, object]:
    """credentials.json as a mapping ({} when there is none). An unreadable file raises
    RefusedError when `strict`, else reads as {}."""
    credentials = _credentials_file(env)
    try:
        data = json.loads(credentials.read_text()) if credentials.exists() else {}
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as problem:
        if strict:
            raise RefusedError(f"cannot read Pulumi's login from {credentials}: {problem}") from problem
        return {}
    return data


def logged_in_backend(env: Mapping[str, str]) -> str | None:
    """The backend `pulumi login` recorded, as the CLI finds it: `current` in
    $PULUMI_HOME/credentials.json (default ~/.pulumi); else Pulumi Cloud when PULUMI_ACCESS_TOKEN
    is set (how CI logs in); else None: never logged in (or logged out). Raises RefusedError when the
    file exists but cannot be read: not knowing is no reason to pick a backend."""
    current = _read_credentials(env, strict=True).get("current")
    if isinstance(current, str) and current:
        return current
    return PULUMI_CLOUD if env.get("PULUMI_ACCESS_TOKEN") else None


def _is_local_state(url: str) -> bool:
    """Whether a backend URL is this project's .pulumi-state folder (`pulumi login file://...`)."""
    if not url.startswith("file://"):
        return False
    path = Path(urllib.parse.unquote(url[len("file://") :].split("?", 1)[0])).expanduser()
    return path.resolve() == LOCAL_STATE.resolve()


def choose_backend(env: dict[str, str], stack: str, action: str, say: Callable[[str], None]) -> str:
    """The state backend's URL; sets PULUMI_BACKEND_URL in `env` when the choice is ours.

    PULUMI_BACKEND_URL when set. Otherwise, with a `pulumi login` (credentials.json, or
    PULUMI_ACCESS_TOKEN) and state from an earlier run in .pulumi-state, each may hold this
    stack's deployment: refused, naming both, until PULUMI_BACKEND_URL says which (picking one
    would deploy a second copy from the other's point of view). Else the backend you are logged in
    to, which must answer `pulumi whoami`; else (never logged in) the local folder. A failing
    login is an error, never a reason to use the local folder: that deployed a second copy.
    """
    explicit = env.get("PULUMI_BACKEND_URL")
    current = None if explicit else logged_in_backend(env)
    local = f"file://{LOCAL_STATE}"
    earlier_state = (LOCAL_STATE / ".pulumi").is_dir()
    if current is not None and _is_local_state(current):
        explicit = local  # logged in to this very folder: there is only one backend
    if not explicit and current is not None and earlier_state:
        login = (
            "your `pulumi login`"
            if _read_credentials(env, strict=True).get("current")
            else "PULUMI_ACCESS_TOKEN (a login to Pulumi Cloud)"
        )
        raise RefusedError(
            f"two state backends could hold stack {stack!r}: {shown(current)}, from {login}, and {LOCAL_STATE},\n"
            "  which holds state from an earlier run here. make does not guess: the wrong one would deploy a\n"
            "  second copy of everything. Choose with PULUMI_BACKEND_URL, then rerun:\n"
            f"    PULUMI_BACKEND_URL={local} make {action} STACK={stack}\n"
            f"    PULUMI_BACKEND_URL=<your backend's URL> make {action} STACK={stack}   (the one you logged in to)"
        )
    if not explicit and current is None:
        if not LOCAL_STATE.is_dir() and action in ("preview", "destroy", "smoke"):
            raise RefusedError(
                f"there is no state in {LOCAL_STATE} and you are not logged in to a Pulumi backend: "
                f"nothing is deployed from here to {action}"
            )
        LOCAL_STATE.mkdir(exist_ok=True)
        env["PULUMI_BACKEND_URL"] = local
        why = "your stacks from an earlier run" if earlier_state else "no `pulumi login` found"
        say(f"Using the local state backend {local} ({why})")
        return local
    if explicit == local and "PULUMI_BACKEND_URL" not in env:
        env["PULUMI_BACKEND_URL"] = local
    url = explicit or current or PULUMI_CLOUD
    whoami = pulumi("whoami", env=env)
    if whoami.returncode != 0:
        raise RefusedError(
            f"the Pulumi backend {shown(url)} did not answer `pulumi whoami`:\n{whoami.stderr.strip()}\n"
            f"  Log in again (pulumi login {shown(url)}) or check your network, then rerun. Nothing was changed;\n"
            "  make does not fall back to a local backend, which would deploy a second copy."
        )
    return url


def secrets_provider(backend: str, env: Mapping[str, str]) -> str | None:
    """The provider for a new stack: PULUMI_SECRETS_PROVIDER when set; a passphrase on the local
    file backend; otherwise None, the backend's own default (Pulumi Cloud encrypts itself)."""
    return env.get("PULUMI_SECRETS_PROVIDER") or ("passphrase" if backend.startswith("file://") else None)


def check_passphrase(provider: str | None, env: Mapping[str, str]) -> None:
    """Pulumi prompts for a passphrase only at a terminal: say so before it fails half-way."""
    given = env.get("PULUMI_CONFIG_PASSPHRASE") or env.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if provider == "passphrase" and not given and not sys.stdin.isatty():
        raise RefusedError(
            "secrets are encrypted with a passphrase: export PULUMI_CONFIG_PASSPHRASE "
            "(or PULUMI_CONFIG_PASSPHRASE_FILE)."
        )


def select_stack(stack: str, backend: str, provider: str | None, env: Mapping[str, str], *, create: bool) -> None:
    """Select the stack, creating it only when `create` (for `up` and `secret`)."""
    args = ["stack", "select", "--stack", stack]
    if create:
        args += ["--create"] + (["--secrets-provider", provider] if provider else [])
    # Creating a stack with a passphrase asks for a new one when none is in the environment.
    selected = pulumi(*args, env=env, may_prompt=create)
    if selected.returncode == 0:
        return
    if not create and "no stack named" in selected.stderr:
        raise RefusedError(
            f"there is no stack {stack!r} on the backend {shown(backend)}: nothing is deployed under that name "
            f"here (`make up STACK={stack}` creates it)"
        )
    reason = selected.stderr.strip() or "(Pulumi's message is above)"
    raise RefusedError(f"cannot select stack {stack!r} on {shown(backend)}:\n{reason}")


def read_config(stack: str, env: Mapping[str, str]) -> dict[str, dict[str, object]]:
    """The stack's configuration as the program will see it, from `pulumi config --json`:
    {"binderhub:cloud": {"value": "aws", "secret": false}, ...}; a secret has no "value"."""
    listed = pulumi("config", "--json", "--stack", stack, env=env)
    if listed.returncode != 0:
        raise RefusedError(f"cannot read the configuration of stack {stack!r}:\n{listed.stderr.strip()}")
    try:
        config = json.loads(listed.stdout)
    except ValueError as problem:
        raise RefusedError(f"`pulumi config --json` printed no JSON for stack {stack!r}: {problem}") from problem
    if not isinstance(config, dict):
        raise RefusedError(f"`pulumi config --json` printed no mapping for stack {stack!r}")
    return config


def plain(config: Mapping[str, dict[str, object]], key: str, valid: str) -> str | None:
    """A non-secret value as Pulumi lists it (a string), or None when the key is not set.
    Raises RefusedError for a secret: these keys decide what to check, which needs their value.
    `valid` says what the key takes, for the message."""
    entry = config.get(key)
    if entry is None:
        return None
    value = entry.get("value")
    if entry.get("secret") or not isinstance(value, str):
        raise RefusedError(f"{key} is stored as a secret: it is a plain setting, {valid}.")
    return value


def run_quietly(command: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """A credentials probe: its output (account ids, user names) is not printed, its errors are."""
    return subprocess.run(command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)


def check_existing(stack: str, config: Mapping[str, dict[str, object]], env: Mapping[str, str]) -> None:
    """A kubeconfig where the program looks, as kubectl does (kubeconfig.py): the `binderhub:kubeconfig`
    secret, or one of $KUBECONFIG's files (else ~/.kube/config) that exists."""
    paths = [Path(path) for path in env.get("KUBECONFIG", "").split(os.pathsep) if path]
    paths = paths or [Path.home() / ".kube" / "config"]
    if "binderhub:kubeconfig" not in config and not any(path.is_file() for path in paths):
        raise RefusedError(
            f"stack {stack!r} deploys to an existing cluster but no kubeconfig was found at "
            f"{os.pathsep.join(map(str, paths))}.\n"
            f"  Point KUBECONFIG at your cluster, or: make secret STACK={stack} KEY=kubeconfig < kubeconfig.yaml"
        )


def check_azure(stack: str, config: Mapping[str, dict[str, object]], env: Mapping[str, str]) -> None:
    """kubelogin (the AKS kubeconfig runs it: the cluster takes Entra ID logins only), and an
    `az login` session, or a service principal in ARM_* variables with a login kubelogin can use."""
    if shutil.which("kubelogin", path=env.get("PATH")) is None:
        raise RefusedError(
            "kubelogin is not on PATH: the AKS cluster accepts only Entra ID logins and its kubeconfig runs "
            "`kubelogin get-token`, so the deployment would fail once the cluster exists. Install it: "
            "az aks install-cli (or https://azure.github.io/kubelogin/install.html)"
        )
    if env.get("ARM_CLIENT_ID"):
        # The provider uses ARM_*; kubelogin uses the az login unless AAD_LOGIN_METHOD says otherwise.
        if not env.get("AAD_LOGIN_METHOD") and (
            shutil.which("az", path=env.get("PATH")) is None or run_quietly(["az", "account", "show"], env).returncode
        ):
            raise RefusedError(
                "ARM_CLIENT_ID is set but kubelogin has no login to use: set AAD_LOGIN_METHOD=spn with "
                "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID (or AAD_LOGIN_METHOD=workloadidentity "
                "in GitHub Actions), or run 'az login' (docs/azure.md)."
            )
        return
    if shutil.which("az", path=env.get("PATH")) is None:
        raise RefusedError("no Azure credentials: install the Azure CLI and run 'az login' (or set ARM_CLIENT_ID/...).")
    account = run_quietly(["az", "account", "show"], env)
    if account.returncode != 0:
        raise RefusedError(
            f"no Azure credentials: `az account show` failed:\n{account.stderr.strip()}\n  Run 'az login'."
        )


def check_aws(stack: str, config: Mapping[str, dict[str, object]], env: Mapping[str, str]) -> None:
    """The aws CLI (the EKS kubeconfig runs `aws eks get-token`) and credentials it accepts, asked
    of the CLI itself so that SSO profiles, roles and instance credentials count as they will."""
    if shutil.which("aws", path=env.get("PATH")) is None:
        raise RefusedError(
            "the aws CLI (v2) is not on PATH: the EKS cluster's kubeconfig runs `aws eks get-token`, so the "
            "deployment would fail once the cluster exists. Install it, then run 'aws configure' or 'aws sso login'."
        )
    cluster = config.get("binderhub:cluster", {}).get("objectValue")
    region = cluster.get("region") if isinstance(cluster, dict) else None
    command = ["aws", "sts", "get-caller-identity"] + (["--region", region] if isinstance(region, str) else [])
    identity = run_quietly(command, env)
    if identity.returncode != 0:
        raise RefusedError(
            f"no usable AWS credentials: `aws sts get-caller-identity` failed:\n{identity.stderr.strip()}\n"
            "  Run 'aws configure' or 'aws sso login', or set AWS_PROFILE."
        )


def check_gcp(stack: str, config: Mapping[str, dict[str, object]], env: Mapping[str, str]) -> None:
    """Application default credentials, and the plugin the GKE kubeconfig authenticates with."""
    if shutil.which(GKE_AUTH_PLUGIN, path=env.get("PATH")) is None:
        raise RefusedError(
            f"{GKE_AUTH_PLUGIN} is not on PATH: the GKE cluster's kubeconfig runs it, so the deployment would "
            f"fail once the cluster exists. Install it: gcloud components install {GKE_AUTH_PLUGIN}"
        )
    gcloud = Path(env["CLOUDSDK_CONFIG"]) if env.get("CLOUDSDK_CONFIG") else Path.home() / ".config" / "gcloud"
    if not (
        env.get("GOOGLE_APPLICATION_CREDENTIALS")
        or env.get("GOOGLE_CREDENTIALS")
        or (gcloud / "application_default_credentials.json").is_file()
    ):
        raise RefusedError("no Google Cloud credentials: run 'gcloud auth application-default login'.")


# One check per value of binderhub:cloud (config.StackConfig.cloud; a test keeps the two equal).
TARGET_CHECKS: dict[str, Callable[[str, Mapping[str, dict[str, object]], Mapping[str, str]], None]] = {
    "existing": check_existing,
    "azure": check_azure,
    "aws": check_aws,
    "gcp": check_gcp,
}


def check_target(stack: str, config: Mapping[str, dict[str, object]], env: Mapping[str, str]) -> str:
    """The stack's target (binderhub:cloud), after checking what deploying to it needs."""
    valid = f"one of {', '.join(TARGET_CHECKS)}"
    cloud = plain(config, "binderhub:cloud", valid)
    if cloud not in TARGET_CHECKS:
        found = "no binderhub:cloud" if cloud is None else f"binderhub:cloud to {cloud!r}"
        raise RefusedError(f"Pulumi.{stack}.yaml sets {found}: use {valid}.")
    TARGET_CHECKS[cloud](stack, config, env)
    return cloud


def check_protect_value(stack: str, config: Mapping[str, dict[str, object]]) -> bool:
    """binderhub:protect as Pulumi will take it: True or False. Anything but the strings "true"
    and "false" (see PROTECT_VALUES) is refused here, as Pulumi would refuse it once the packages
    are installed; a secret is refused too, as its value cannot be told."""
    protect = plain(config, "binderhub:protect", "true or false")
    if protect is None:
        return False  # Pulumi.yaml's default
    if protect not in PROTECT_VALUES:
        raise RefusedError(
            f"binderhub:protect is {protect!r} in stack {stack!r}: write true or false. Pulumi.yaml declares it a "
            "boolean, and Pulumi then takes only those two words (not yes/no, on/off or True): it would stop "
            "the run with \"must be of type 'boolean'\"."
        )
    return protect == "true"


def check_unprotected(stack: str, cloud: str, config: Mapping[str, dict[str, object]]) -> None:
    """Refuse to destroy a protected stack (the engine would stop half-way), or one whose
    protection cannot be told; the message names what is protected on `cloud` (PROTECTED)."""
    if not check_protect_value(stack, config):
        return
    protected = "\n".join(f"    - {what}" for what in PROTECTED[cloud])
    aside = f"\n  {NOT_PROTECTED[cloud]}" if cloud in NOT_PROTECTED else ""
    raise RefusedError(
        f"stack {stack!r} is protected (binderhub:protect: true); these refuse deletion:\n{protected}{aside}\n"
        "  To tear it down, lift the protection, apply it, then destroy:\n"
        f"    pulumi config set binderhub:protect false --stack {stack}\n"
        f"    make up STACK={stack}        # changes only the protection flags\n"
        f"    make destroy STACK={stack}"
    )


# pulumi-kubernetes drops an unreachable cluster's objects from the state, instead of failing,
# when this is "true" in its environment (provider.go Configure; Read and Delete then answer
# "deleted"). The providers never set it themselves: `make destroy` sets it only once the cloud
# confirms that the cluster no longer exists (`cluster_gone`).
DELETE_UNREACHABLE = "PULUMI_K8S_DELETE_UNREACHABLE"
# What each cloud's CLI prints when the cluster, or what holds it, does not exist; any other
# failure (no login, no permission, no network, wrong tool) tells nothing.
NOT_FOUND: dict[str, tuple[str, ...]] = {
    # az aks show: "(ResourceNotFound) The Resource ... was not found", or the group is gone
    "azure": ("(ResourceNotFound)", "(ResourceGroupNotFound)"),
    # aws eks describe-cluster: "An error occurred (ResourceNotFoundException) ..."
    "aws": ("(ResourceNotFoundException)",),
    # gcloud container clusters describe: "ResponseError: code=404, message=Not found: ..."
    "gcp": ("code=404",),
}
# How to log in again, per cloud (also what check_azure/check_aws/check_gcp ask for).
LOGIN_HINT = {
    "azure": "az login",
    "aws": "aws sso login, or aws configure",
    "gcp": "gcloud auth login and gcloud auth application-default login",
}


def cluster_query(stack: str, cloud: str, config: Mapping[str, dict[str, object]], env: Mapping[str, str]) -> list[str]:
    """The CLI command that describes the stack's managed cluster, exactly as the program names it.

    The name is the stack's `cluster_name` output; where it lives comes from binderhub:cluster
    (Azure: resourceGroup, else the group is named as the cluster (stacks/azure.py); AWS: region;
    GCP: project, and zone else region). On Azure the subscription is the one the azure-native
    provider picks (azure-native:subscriptionId, else ARM_SUBSCRIPTION_ID, else the az CLI's
    default, which `az` uses too): another subscription would answer "not found" for a live
    cluster. Raises RefusedError when the cluster cannot be named (no such output yet).
    """
    name = stack_outputs(stack, env).get("cluster_name")
    if not isinstance(name, str) or not name:
        raise RefusedError(f"stack {stack!r} has no cluster_name output")
    cluster = config.get("binderhub:cluster", {}).get("objectValue")
    settings: Mapping[str, object] = cluster if isinstance(cluster, dict) else {}
    if cloud == "azure":
        group = settings.get("resourceGroup")
        command = ["az", "aks", "show", "--name", name, "--resource-group", group if isinstance(group, str) else name]
        subscription = config.get("azure-native:subscriptionId", {}).get("value") or env.get("ARM_SUBSCRIPTION_ID")
        return command + (["--subscription", subscription] if isinstance(subscription, str) and subscription else [])
    if cloud == "aws":
        region = settings.get("region", DEFAULT_REGION["aws"])
        if not isinstance(region, str):
            raise RefusedError("binderhub:cluster.region is not a string")
        return ["aws", "eks", "describe-cluster", "--name", name, "--region", region]
    project, location = settings.get("project"), settings.get("zone") or settings.get("region", DEFAULT_REGION["gcp"])
    if not isinstance(project, str) or not isinstance(location, str):
        raise RefusedError("binderhub:cluster.project is not set")
    return ["gcloud", "container", "clusters", "describe", name, "--project", project, "--location", location]


# The config model's defaults (config/clusters.py) for a stack file that leaves them out; a test
# keeps the two equal (this script runs on the standard library alone).
DEFAULT_REGION = {"aws": "us-east-1", "gcp": "us-central1"}


def stack_eks_account(stack: str, env: Mapping[str, str]) -> str | None:
    """The AWS account of the stack's EKS cluster, from its ARN in the state (`pulumi stack
    export`; outputs are read, secrets stay encrypted); None when the state has none."""
    exported = pulumi("stack", "export", "--stack", stack, env=env)
    if exported.returncode != 0:
        return None
    try:
        resources = json.loads(exported.stdout or "{}").get("deployment", {}).get("resources") or []
    except (ValueError, AttributeError):
        return None
    for resource in resources:
        arn = (resource.get("outputs") or {}).get("arn") if isinstance(resource, dict) else None
        if resource.get("type") == "aws:eks/cluster:Cluster" and isinstance(arn, str) and arn.count(":") >= 5:
            return arn.split(":")[4]
    return None


def aws_caller_account(env: Mapping[str, str]) -> str | None:
    """The account of the ambient AWS credentials (`aws sts get-caller-identity`)."""
    answer = run_quietly(["aws", "sts", "get-caller-identity", "--output", "json"], env)
    try:
        account = json.loads(answer.stdout).get("Account") if answer.returncode == 0 else None
    except (ValueError, AttributeError):
        return None
    return account if isinstance(account, str) else None


def cluster_gone(
    stack: str, cloud: str, config: Mapping[str, dict[str, object]], env: Mapping[str, str]
) -> tuple[bool, str]:
    """Whether the cloud says the stack's managed cluster no longer exists, and what was asked:
    (True, command) only on the cloud's own "not found" (NOT_FOUND); (False, what was learnt)
    when the cluster answered, or when nothing could be told (then the reason)."""
    try:
        command = cluster_query(stack, cloud, config, env)
    except RefusedError as problem:
        return False, f"could not ask {cloud} whether the cluster still exists: {problem}"
    shown_command = " ".join(command)
    if shutil.which(command[0], path=env.get("PATH")) is None:
        return False, f"could not run `{shown_command}`: {command[0]} is not on PATH"
    answer = run_quietly(command, env)
    if answer.returncode == 0:
        return False, f"`{shown_command}` found the cluster: it still exists"
    if any(marker in answer.stderr for marker in NOT_FOUND[cloud]):
        if cloud == "aws":
            # Another account's credentials get "not found" for a live cluster too.
            mine, theirs = aws_caller_account(env), stack_eks_account(stack, env)
            if mine is None or mine != theirs:
                return False, (
                    f"`{shown_command}` found no cluster, but your AWS credentials are for account "
                    f"{mine or 'unknown'} and the stack's cluster is in account {theirs or 'unknown'} (its state)"
                )
        return True, shown_command
    return False, f"`{shown_command}` failed without saying the cluster is gone:\n{answer.stderr.strip()}"


def destroy_environment(
    stack: str, cloud: str, config: Mapping[str, dict[str, object]], env: dict[str, str], say: Callable[[str], None]
) -> str | None:
    """Sets DELETE_UNREACHABLE in `env` for a destroy whose managed cluster the cloud says is gone,
    saying so. Returns what to tell the user if the destroy fails (None: nothing to add).

    The destroy then refreshes first (`main`): pulumi-kubernetes' Delete of a Helm Release fails
    on an unreachable cluster whatever DELETE_UNREACHABLE says, its Read honours it
    (provider.go Delete and Read; pulumi/pulumi-kubernetes#2675), so the refresh drops the
    releases, and every other object, before anything is deleted."""
    if DELETE_UNREACHABLE in env:
        say(
            f"{DELETE_UNREACHABLE}={env[DELETE_UNREACHABLE]} is set in your environment: make leaves it as it is "
            '("true" drops the Kubernetes objects of a cluster that does not answer from the state, '
            "deleting nothing)."
        )
        return None
    if cloud not in NOT_FOUND:
        return (
            "If Pulumi says the cluster is unreachable: check that your kubeconfig reaches it. If the cluster "
            f"itself is gone, rerun with {DELETE_UNREACHABLE}=true to drop its objects from the state "
            "(README, Tear down)."
        )
    gone, asked = cluster_gone(stack, cloud, config, env)
    if gone:
        env[DELETE_UNREACHABLE] = "true"
        say(
            f"The cluster no longer exists (`{asked}`: not found): its Kubernetes objects are dropped from the "
            f"state, not deleted ({DELETE_UNREACHABLE}=true and --refresh for this destroy)."
        )
        return None
    return (
        f"If Pulumi says the Kubernetes cluster is unreachable: {asked}, so nothing was dropped from the state.\n"
        "  Check that this machine's public address is in binderhub:cluster.apiAccessCidrs (the API server "
        "answers only those)\n"
        f"  and that your login is current ({LOGIN_HINT[cloud]}), then rerun: make destroy STACK={stack}\n"
        "  (README, Troubleshooting)."
    )


def smoke_settings(config: Mapping[str, dict[str, object]]) -> smoke.Settings:
    """binderhub:smoke as the smoke test will take it; RefusedError for a value it cannot use."""
    try:
        return smoke.settings_from_config(config)
    except smoke.SmokeConfigError as problem:
        raise RefusedError(str(problem)) from problem


def stack_outputs(stack: str, env: Mapping[str, str]) -> dict[str, object]:
    """The stack's outputs (`pulumi stack output --json`). Secret ones read "[secret]": the smoke
    test needs only the URLs and the ingress address, none of them secret."""
    listed = pulumi("stack", "output", "--json", "--stack", stack, env=env)
    if listed.returncode != 0:
        raise RefusedError(f"cannot read the outputs of stack {stack!r}:\n{listed.stderr.strip()}")
    try:
        outputs = json.loads(listed.stdout or "{}")
    except ValueError as problem:
        raise RefusedError(f"`pulumi stack output --json` printed no JSON for stack {stack!r}: {problem}") from problem
    if not isinstance(outputs, dict):
        raise RefusedError(f"`pulumi stack output --json` printed no mapping for stack {stack!r}")
    return outputs


class ScrubbedOutput:
    """The smoke test's report, on stderr with the wrapper's other messages (Pulumi's own output is
    on stdout), through the Scrubber: the smoke test repeats what servers answer."""

    def __init__(self, scrub: Scrubber) -> None:
        self.scrub = scrub

    def write(self, text: str) -> int:
        sys.stderr.write(self.scrub(text))
        return len(text)

    def flush(self) -> None:
        sys.stderr.flush()


def run_smoke_test(stack: str, config: Mapping[str, dict[str, object]], env: Mapping[str, str], scrub: Scrubber) -> int:
    """The smoke test of the deployed stack: 0 passed, 1 failed (its summary is the last line)."""
    outputs = stack_outputs(stack, env)
    # The runner lets it read a secret `binderhub:auth` or a `[secret]` output in memory.
    return smoke.run(outputs, config, ScrubbedOutput(scrub), pulumi=smoke.pulumi_cli(stack, env, str(ROOT)))


def install_program_packages(env: dict[str, str]) -> None:
    """uv.lock's packages without the dev group into .venv, for the program Pulumi runs. Pulumi's
    uv toolchain (Pulumi.yaml) calls uv itself, so the pinned uv goes first on PATH in `env`."""
    found = subprocess.run(["bash", "scripts/uv.sh"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    if found.returncode != 0:
        raise RefusedError("could not install the pinned uv (scripts/uv.sh, output above)")
    env["PATH"] = f"{Path(found.stdout.strip()).parent}{os.pathsep}{env.get('PATH', '')}"
    if subprocess.run(["bash", "scripts/venv.sh", "runtime"], cwd=ROOT, env=env).returncode != 0:
        raise RefusedError("could not install the program's packages into .venv (scripts/venv.sh, output above)")


def main(argv: list[str]) -> int:
    """`up.py STACK ACTION [KEY]`; the exit code of the Pulumi command, or 1 when refused; for
    `up` and `smoke`, the smoke test's (1 when it failed)."""
    env = dict(os.environ)
    scrub = Scrubber.from_environment(env)

    def say(message: str) -> None:
        print(scrub(message), file=sys.stderr)

    try:
        stack, action, key = check_arguments(argv)
        backend = choose_backend(env, stack, action, say)
        provider = secrets_provider(backend, env)
        check_passphrase(provider, env)
        select_stack(stack, backend, provider, env, create=action in ("up", "secret"))
        if action == "secret":
            # The value comes from stdin (or Pulumi's hidden prompt) and goes straight to Pulumi:
            # never read here, never an argument (arguments show in process listings).
            command = ["config", "set", "--secret", "--stack", stack, f"binderhub:{key}"]
            return subprocess.run(["pulumi", *command], cwd=ROOT, env=env).returncode
        config = read_config(stack, env)
        # Checked before anything is installed; preview and destroy never depend on it.
        settings = smoke_settings(config) if action == "up" else None
        if action == "smoke":
            return run_smoke_test(stack, config, env, scrub)
        cloud = check_target(stack, config, env)
        on_failure = None
        if action == "destroy":
            check_unprotected(stack, cloud, config)
            on_failure = destroy_environment(stack, cloud, config, env, say)
        else:
            check_protect_value(stack, config)
            if env.pop(DELETE_UNREACHABLE, None) is not None:
                # The Python SDK would write it into the provider's inputs: kept by every later run.
                say(f"Ignoring {DELETE_UNREACHABLE} from your environment: only make destroy sets it.")
        install_program_packages(env)
    except RefusedError as problem:
        say(f"error: {problem}")
        return 1
    # destroy --run-program: the delete hooks (user volumes, ECR repositories) live in the program.
    command = {"up": ["up"], "preview": ["preview", "--diff"], "destroy": ["destroy", "--run-program"]}[action]
    if action == "destroy" and env.get(DELETE_UNREACHABLE) == "true":
        command.append("--refresh")  # see destroy_environment
    code = subprocess.run(["pulumi", *command, "--stack", stack], cwd=ROOT, env=env).returncode
    if code != 0 and on_failure:
        say(on_failure)
    if settings is None or code != 0:
        return code
    if not settings.enabled:
        say(f"Smoke test skipped: binderhub:smoke.enabled is false (make smoke STACK={stack} runs it).")
        return 0
    say(f"`pulumi up` succeeded; now the smoke test (make smoke STACK={stack} runs it again on its own).")
    try:
        return run_smoke_test(stack, config, env, scrub)
    except RefusedError as problem:
        say(f"error: {problem}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
