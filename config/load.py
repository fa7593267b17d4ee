"""Reading the stack's configuration: parse_config (pure) and load_config (from Pulumi)."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, TypeVar, get_args, get_origin

import pulumi
from pydantic import (
    BaseModel,
    TypeAdapter,
    ValidationError,
)

from components.values.overlay import installed_charts, overlay_problems, unchecked_charts
from config.advice import advice
from config.base import NAMESPACE, SECRET_KEYS, ConfigError
from config.git_credentials import git_credential_problems
from config.model import CLOUDS, DEFAULT_REGISTRY, AnyStackConfig, StackConfig
from kubeconfig import KubeconfigError, resolve_kubeconfig
from versions import CHARTS


def _describe(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _format_errors(error: ValidationError) -> list[str]:
    lines = []
    for err in error.errors():
        # The first part of a location is the cloud's model (the union's tag): not a key.
        key = ".".join(str(part) for part in err["loc"][1:])
        where = f"{NAMESPACE}:{key}" if key else NAMESPACE
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            lines.append(f"{where}: required but not set")
        elif (
            err["type"] == "string_type"
            and isinstance(err["input"], (int, float))
            and not isinstance(err["input"], bool)
        ):
            # `pulumi config set --path` stores 1.30 as the number 1.3: say to write it as text.
            lines.append(
                f"{where}: {message} (got the number {err['input']!r}: "
                "write it as text in quotes in the stack file, e.g. '1.30')"
            )
        elif err["type"] != "value_error":
            lines.append(f"{where}: {message} (got {_describe(err['input'])})")
        elif isinstance(err["input"], dict):  # a rule across several keys: the keys are named in it
            lines += [f"{where}: {part}" for part in message.split("\n")]
        else:
            lines.append(f"{where}: {_describe(err['input'])} {message}")
    return lines


def _control_characters(value: Any, key: str) -> list[str]:
    """One line per string (or map key) under `key` holding a control or invisible format character.

    Every string here ends up in a name, host, URL, label, header or file; a `\\n` or a zero-width
    space there breaks it far from the stack file (`namespace: "binderhub\\n"`).
    """
    if isinstance(value, dict):
        problems = []
        for name, item in value.items():
            problems += _control_characters(str(name), f"{key} (a key)") + _control_characters(item, f"{key}.{name}")
        return problems
    if isinstance(value, list):
        return [line for i, item in enumerate(value) for line in _control_characters(item, f"{key}[{i}]")]
    if isinstance(value, str):
        bad = sorted({c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")})
        if bad:
            shown = ", ".join(f"U+{ord(c):04X}" for c in bad)
            return [f"{NAMESPACE}:{key}: {_describe(value)} contains a control character ({shown}); remove it"]
        # A user name, client id or registry login with a space around it never matches.
        if value != value.strip():
            return [f"{NAMESPACE}:{key}: {_describe(value)} has spaces around it; remove them"]
    return []


def parse_config(
    raw: dict[str, Any],
    secrets: set[str] | frozenset[str] = frozenset(),
    secret_marked: set[str] | frozenset[str] = frozenset(),
) -> StackConfig[Any]:
    """Validate the stack's `binderhub:` values (plain keys) and which secret keys are set.

    raw: key -> value as Pulumi hands them over (structured keys already parsed from JSON).
    secrets: the secret keys (SECRET_KEYS) that are set. secret_marked: plain keys the user set
    with `--secret`; their values never appear in an error message.
    Raises ConfigError listing every problem as `binderhub:<key>: <value> <what is valid>`.
    """
    # Pulumi.yaml declares optional strings with "" as default: "" means unset.
    data = {k: v for k, v in raw.items() if k not in SECRET_KEYS and v != ""}
    # Helm values are the charts' to judge (a hub.extraConfig snippet is lines of Python).
    problems = [line for key, value in data.items() if key != HELM_VALUES for line in _control_characters(value, key)]
    problems += [
        f"{NAMESPACE}:{key}: set with --secret, but its value becomes public names, hosts or cloud resource names "
        "that cannot be kept secret; set it without --secret"
        for key in sorted(secret_marked)
        if key in data and not _may_be_secret(key, data)
    ]
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(_redact(problems, data, secret_marked)))
    cloud = data.get("cloud")
    if cloud not in CLOUDS:
        # Checked first: which model the rest is read with depends on it.
        valid = ", ".join(repr(name) for name in list(CLOUDS)[:-1]) + f" or {list(CLOUDS)[-1]!r}"
        shown = "required but not set" if cloud is None else f"{_describe(cloud)} is not a target: use {valid}"
        raise ConfigError(f"invalid configuration:\n  {NAMESPACE}:cloud: {shown}")
    data.setdefault("cluster", {})
    if "registry" not in data and cloud in DEFAULT_REGISTRY:
        data["registry"] = {"type": DEFAULT_REGISTRY[cloud]}
    try:
        stack = _STACK_ADAPTER.validate_python(data, context={"secrets": set(secrets)})
    except ValidationError as error:
        lines = _redact(_format_errors(error), data, secret_marked)
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
    # Once the rest is valid: which charts the stack installs, and their versions, come from it.
    problems = overlay_problems(stack, stack.helm_values)
    installed = installed_charts(stack)
    problems += [
        f"{NAMESPACE}:charts.{chart}: this stack does not install {chart}, so its version does nothing "
        f"(it installs {', '.join(sorted(installed))})"
        for chart in sorted(set(stack.charts) - installed)
    ]
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(_redact(problems, data, secret_marked)))
    return stack


_STACK_ADAPTER: TypeAdapter[StackConfig[Any]] = TypeAdapter(AnyStackConfig)


HELM_VALUES = "helmValues"
# Plain keys that may be set with --secret: their values reach only Helm values, Kubernetes
# Secrets and outputs, which keep_secret() marks secret. The registry only when it is not the
# cloud's own (whose prefix names cloud resources). Helm values whole, since
# `pulumi config set --secret --path binderhub:helmValues...` marks the whole key secret.
_SECRET_CAPABLE = {
    "auth": lambda value: True,
    "registry": lambda value: _registry_type(value) in ("dockerhub", "custom"),
    HELM_VALUES: lambda value: True,
}


def _registry_type(value: Any) -> Any:
    return value.get("type") if isinstance(value, dict) else None


def _may_be_secret(key: str, data: dict[str, Any]) -> bool:
    check = _SECRET_CAPABLE.get(key)
    return check is not None and check(data[key])


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value] if isinstance(value, str) and value else []


def _redact(lines: list[str], data: dict[str, Any], secret_marked: set[str] | frozenset[str]) -> list[str]:
    """`lines` with each value of a secret-marked key replaced where it is quoted (messages quote
    the values they show), so the key names and the rest of the message stay readable."""
    hidden = sorted({leaf for key in secret_marked for leaf in _leaves(data.get(key))}, key=len, reverse=True)
    for leaf in hidden:
        quoted = {repr(leaf), json.dumps(leaf), f"'{leaf}'", f'"{leaf}"'}
        for form in sorted(quoted, key=len, reverse=True):
            lines = [line.replace(form, "[secret]") for line in lines]
    return lines


def _known_keys() -> set[str]:
    return {field.alias or name for name, field in StackConfig.model_fields.items()} | set(SECRET_KEYS)


def _structured_keys() -> set[str]:
    """Keys whose values are maps or lists (Pulumi passes them to the program as JSON text)."""
    return {field.alias or name for name, field in StackConfig.model_fields.items() if _structured(field.annotation)}


def _structured(annotation: Any) -> bool:
    if isinstance(annotation, TypeVar):  # the cluster: a model per cloud
        return True
    origin = get_origin(annotation) or annotation
    if origin in (dict, list) or (isinstance(origin, type) and issubclass(origin, BaseModel)):
        return True
    return any(_structured(arg) for arg in get_args(annotation))


# Secret keys whose value is one line (a password or token sent in an HTTP header); the
# kubeconfig is a document, gitCredentials lines of git's credential format (checked by
# config.git_credentials).
_ONE_LINE_SECRETS = tuple(key for key in SECRET_KEYS if key not in ("kubeconfig", "gitCredentials"))


@dataclass(frozen=True)
class StackSecrets:
    """Secret config values, as Pulumi secret Outputs (None when unset).

    kubeconfig: on cloud `existing`, always set: the `binderhub:kubeconfig` secret or the ambient
    kubeconfig, cut down to the one context the stack uses (see kubeconfig.resolve_kubeconfig).
    """

    kubeconfig: pulumi.Output[str] | None = None
    registry_password: pulumi.Output[str] | None = None
    oauth_client_secret: pulumi.Output[str] | None = None
    github_token: pulumi.Output[str] | None = None
    gitlab_token: pulumi.Output[str] | None = None
    git_credentials: pulumi.Output[str] | None = None  # as the user wrote it (config.git_credentials)


def _configured_keys() -> list[str]:
    # The engine passes config in the environment; tests set it in the runtime's map.
    configured = set(pulumi.runtime.get_config_env()) | set(pulumi.runtime.config.CONFIG.get())
    return sorted(k.split(":", 1)[1] for k in configured if k.startswith(NAMESPACE + ":"))


def _secret_marked_keys() -> set[str]:
    """Plain (non-SECRET_KEYS) keys whose value the stack file stores encrypted."""
    return {
        key
        for key in _configured_keys()
        if key not in SECRET_KEYS and pulumi.runtime.is_config_secret(f"{NAMESPACE}:{key}")
    }


# A stack name that names cloud resources as it is: lowercase letters, digits and '-'.
_PLAIN_STACK_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


def stack_name_problems(cfg: StackConfig[Any], stack: str, project: str) -> list[str]:
    """Why `stack`'s cloud resource names would be shared with another stack's, if they would.

    The managed clouds name the cluster (and on GCP the registry repository and address) after
    `<project>-<stack>`, lowercased and cut to the cloud's limit (GKE 40, AKS 54 characters):
    `team.a` and `team-a`, `Prod` and `prod`, or two long names alike at the start, would share
    them, and the second stack's `pulumi up` would fail or take over the first's.
    """
    if cfg.cloud == "existing":
        return []
    problems = []
    if not _PLAIN_STACK_NAME.fullmatch(stack):
        problems.append(
            f"stack {stack!r}: on cloud {cfg.cloud!r} the stack name names cloud resources, where it is "
            "lowercased and its other characters become '-', so another stack could share them: use a stack "
            "name of lowercase letters, digits and '-'"
        )
    # Derived names only: an explicit GKE name, or an AKS cluster in a resource group of its own
    # (AKS names are unique per group), cannot meet another stack's.
    limits = {
        "gcp": (40, "GKE", "cluster.name", cfg.cloud == "gcp" and cfg.cluster.name is None),
        "azure": (54, "AKS", "cluster.resourceGroup", cfg.cloud == "azure" and cfg.cluster.resource_group is None),
    }
    limit, what, key, derived = limits.get(cfg.cloud, (0, "", "", False))
    if derived and len(f"{project}-{stack}") > limit:
        hint = f"set binderhub:{key} or use"
        problems.append(
            f"stack {stack!r}: {project}-{stack} is longer than the {limit}-character limit of {what} names, so it "
            f"would be cut and could equal another stack's: {hint} a stack name of at most "
            f"{limit - len(project) - 1} characters"
        )
    return problems


def load_config() -> tuple[StackConfig[Any], StackSecrets]:
    """Read `binderhub:*` from the stack; raise ConfigError before anything is created.

    Secrets are read once, as plain text, only to check them (never echoed); they leave here
    as Pulumi secret Outputs.
    """
    config = pulumi.Config(NAMESPACE)
    all_keys = _configured_keys()
    problems = [
        f"{NAMESPACE}:{k}: unknown key; valid keys: {', '.join(sorted(_known_keys()))}"
        for k in sorted(set(all_keys) - _known_keys())
    ]
    structured = _structured_keys()
    raw: dict[str, Any] = {}
    plain: dict[str, str] = {}
    for key in all_keys:
        value = config.get(key)
        if key in SECRET_KEYS:
            if value is not None:
                plain[key] = value
            if value is not None and not pulumi.runtime.is_config_secret(f"{NAMESPACE}:{key}"):
                problems.append(
                    f"{NAMESPACE}:{key}: stored in plain text in the stack file; store it encrypted: "
                    f"pulumi config set --secret {NAMESPACE}:{key} (or make secret KEY={key})"
                )
            continue
        if key in structured and value is not None and value[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                problems.append(f"{NAMESPACE}:{key}: {_describe(value)} is not a valid map or list")
        raw[key] = value
    for key in _ONE_LINE_SECRETS:
        if key in plain and (plain[key] != plain[key].strip() or _control_characters(plain[key], key)):
            problems.append(
                f"{NAMESPACE}:{key}: the secret has surrounding spaces, a line break or a control character "
                "(often a trailing newline from a file); set it again without"
            )
    if "gitCredentials" in plain:
        problems += [f"{NAMESPACE}:gitCredentials: {line}" for line in git_credential_problems(plain["gitCredentials"])]
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    stack_config = parse_config(raw, set(plain), _secret_marked_keys())
    problems = stack_name_problems(stack_config, pulumi.get_stack(), pulumi.get_project())
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    for message in advice(stack_config, set(plain)):
        pulumi.log.warn(message)
    for chart in unchecked_charts(stack_config, stack_config.helm_values):
        pulumi.log.warn(
            f"{NAMESPACE}:{HELM_VALUES}.{chart}: not checked before the run: the program carries {chart}'s "
            f"schema for {CHARTS[chart].version} (versions.py), not for {stack_config.charts[chart]} "
            "(binderhub:charts); Helm checks the values at install, after the resources before it exist"
        )
    kubeconfig = plain.get("kubeconfig")
    if stack_config.cloud == "existing":
        try:
            kubeconfig = resolve_kubeconfig(kubeconfig, stack_config.cluster.context)
        except KubeconfigError as error:
            raise ConfigError(f"invalid configuration:\n  {error}") from None

    def secret(value: str | None) -> pulumi.Output[str] | None:
        return None if value is None else pulumi.Output.secret(value)

    return stack_config, StackSecrets(
        kubeconfig=secret(kubeconfig),
        registry_password=secret(plain.get("registryPassword")),
        oauth_client_secret=secret(plain.get("oauthClientSecret")),
        github_token=secret(plain.get("githubToken")),
        gitlab_token=secret(plain.get("gitlabToken")),
        git_credentials=secret(plain.get("gitCredentials")),
    )


def keep_secret(value: Any) -> Any:
    """`value`, as a Pulumi secret if it holds a string from a plain key the user set with --secret.

    For Helm values and stack outputs, where those keys' values flow (_SECRET_CAPABLE): a value
    derived from a secret string (an image prefix holding a secret registry username) contains
    it, so it is found by substring. Outputs are checked when they resolve.
    """
    config = pulumi.Config(NAMESPACE)
    hidden: list[str] = []
    for key in _secret_marked_keys():
        text = config.get(key) or ""
        try:
            hidden += _leaves(json.loads(text))
        except json.JSONDecodeError:
            hidden.append(text)
    hidden = [leaf for leaf in hidden if leaf]
    if not hidden:
        return value

    def holds_secret(resolved: Any) -> bool:
        return any(secret in leaf for leaf in _leaves(resolved) for secret in hidden)

    if isinstance(value, pulumi.Output):
        return value.apply(lambda v: pulumi.Output.secret(v) if holds_secret(v) else v)
    return pulumi.Output.secret(value) if holds_secret(value) else value
