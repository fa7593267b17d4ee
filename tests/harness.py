"""Runs the real program (`__main__.py`) under Pulumi's mocks and records what it would create.

`RecordingMonitor` sees every registration's type, name, parent, dependencies, provider(s),
inputs and `additionalSecretOutputs`; it applies those secret outputs (the stock mock monitor
does not) and fails on duplicate URNs (the engine would). `Mocks` answer with realistic
provider outputs; cloud modules (`cloud_mocks/`) add theirs through `resource_mock` /
`call_mock` when `load_cloud_mocks()` imports them (tests/conftest.py does, once per session).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import runpy
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.settings import ROOT, SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from config.base import is_ip

ROOT_DIR = Path(__file__).resolve().parent.parent
PROJECT = "binderhub"
SECRET_SIG = rpc._special_secret_sig
SIG_KEY = rpc._special_sig_key

LOAD_BALANCER_IP = "203.0.113.10"

# --------------------------------------------------------------------------- mock outputs

ResourceMock = Callable[[pulumi_mocks.MockResourceArgs, "RunOptions"], dict[str, Any]]
CallMock = Callable[[pulumi_mocks.MockCallArgs, "RunOptions"], dict[str, Any]]
RESOURCE_MOCKS: dict[str, ResourceMock] = {}
CALL_MOCKS: dict[str, CallMock] = {}


def resource_mock(type_token: str) -> Callable[[ResourceMock], ResourceMock]:
    """Register the outputs a provider would return for `type_token` (beyond the inputs)."""

    def register(fn: ResourceMock) -> ResourceMock:
        RESOURCE_MOCKS[type_token] = fn
        return fn

    return register


def call_mock(token: str) -> Callable[[CallMock], CallMock]:
    def register(fn: CallMock) -> CallMock:
        CALL_MOCKS[token] = fn
        return fn

    return register


def fake_hex(seed: str, length: int = 64) -> str:
    """Deterministic 'random' output, so two runs give identical inputs."""
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


@resource_mock("random:index/randomBytes:RandomBytes")
def _random_bytes(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    raw = bytes.fromhex(fake_hex(args.name, 2 * int(args.inputs["length"])))
    return {"hex": raw.hex(), "base64": base64.b64encode(raw).decode()}


@resource_mock("random:index/randomPassword:RandomPassword")
def _random_password(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    return {"result": fake_hex(args.name, int(args.inputs.get("length", 32)))}


@resource_mock("random:index/randomString:RandomString")
def _random_string(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    return {"result": fake_hex(args.name, int(args.inputs["length"]))}


@resource_mock("kubernetes:helm.sh/v3:Release")
def _helm_release(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    name = args.inputs.get("name") or args.name
    return {
        "status": {
            "name": name,
            "namespace": args.inputs.get("namespace", "default"),
            "chart": args.inputs.get("chart"),
            "version": args.inputs.get("version"),
            "status": "deployed",
            "revision": 1,
        }
    }


@resource_mock("kubernetes:core/v1:Service")
def _service(args: pulumi_mocks.MockResourceArgs, options: RunOptions) -> dict[str, Any]:
    address = options.load_balancer_address
    entry = {"ip": address} if is_ip(address) else {"hostname": address}
    return {"status": {"loadBalancer": {"ingress": [entry]}}}


@resource_mock("kubernetes:helm.sh/v4:Chart")
def _helm_chart(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    return {"resources": []}


@dataclass
class RunOptions:
    load_balancer_address: str = LOAD_BALANCER_IP
    preview: bool = False


class Mocks(pulumi_mocks.Mocks):
    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.calls: list[pulumi_mocks.MockCallArgs] = []

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        mock = RESOURCE_MOCKS.get(args.typ)
        if mock is not None:
            outputs.update(mock(args, self.options))
        # A mock may give the provider's real id (e.g. an ARM path); else a stable fake one.
        resource_id = outputs.pop("id", None) or args.resource_id or f"{args.name}-id"
        return resource_id, outputs

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append(args)
        mock = CALL_MOCKS.get(args.token)
        if mock is None:
            raise AssertionError(f"the program called {args.token}, which the test mocks do not answer")
        return mock(args, self.options), []


# --------------------------------------------------------------------------- recording


ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def new_urn(stack: str, project: str, parent_type: str, type_: str, name: str) -> str:
    """The engine's URN (pulumi/pulumi sdk/go/common/resource/urn.go `NewURN`): the type is
    qualified by the parent's whole qualified type, except under the stack's root resource."""
    qualified = f"{parent_type}${type_}" if parent_type and parent_type != ROOT_STACK_TYPE else type_
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def urn_qualified_type(urn: str) -> str:
    """`a$b$c` of `urn:pulumi:<stack>::<project>::a$b$c::<name>`."""
    return urn.split("::")[2]


def urn_name(urn: str) -> str:
    return urn.split("::", 3)[3]


def urn_stack_project(urn: str) -> tuple[str, str]:
    """(stack, project) of `urn:pulumi:<stack>::<project>::...`."""
    head, project = urn.split("::")[:2]
    return head.removeprefix("urn:pulumi:"), project


@dataclass(frozen=True)
class AliasSpec:
    """One alias of a resource as the SDK sends it to the engine (`alias_pb2.Alias`): an old URN
    whole, or the parts of the old URN that differ from the resource's own (empty: unchanged)."""

    urn: str = ""
    name: str = ""
    type: str = ""
    parent: str = ""  # the old parent, by the URN this run gave it
    no_parent: bool = False  # the old resource sat directly under the stack
    stack: str = ""
    project: str = ""

    @classmethod
    def from_proto(cls, alias: Any) -> AliasSpec:
        if alias.urn:
            return cls(urn=alias.urn)
        spec = alias.spec
        return cls(
            name=spec.name,
            type=spec.type,
            parent=spec.parentUrn,
            no_parent=spec.noParent,
            stack=spec.stack,
            project=spec.project,
        )


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    remote: bool
    inputs: dict[str, Any]
    # The inputs as sent, secret markers left where the program put them (the SDK's
    # deserializer lifts nested secrets to the top-level property, hiding leaks).
    raw_inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: list[str]
    provider: str
    providers: dict[str, str]
    additional_secret_outputs: list[str]
    protect: bool
    ignore_changes: list[str] = field(default_factory=list)
    read: bool = False
    # The URN the Pulumi engine gives this resource (the mock's URNs qualify a type by its parent's
    # own type only and keep the Stack's; the engine uses the whole chain of component types),
    # and its aliases as the program sent them (`engine_takeover` turns them into old URNs).
    engine_urn: str = ""
    aliases: list[AliasSpec] = field(default_factory=list)
    # Resource hook names per lifecycle point, e.g. {"before_delete": ["hub-drain-user-storage"]}.
    hooks: dict[str, list[str]] = field(default_factory=dict)
    # The `transforms` option's functions (the engine applies them to this resource and every
    # descendant, a remote component's included; the mocks do not run them).
    transforms: list[Any] = field(default_factory=list)

    @property
    def provider_urn(self) -> str | None:
        """The provider resource this one is created (and deleted) with: `<urn>::<id>` minus the id."""
        return self.provider.rsplit("::", 1)[0] if self.provider else None

    def uses_provider(self, provider_urn: str) -> bool:
        refs = [self.provider, *self.providers.values()]
        return any(
            ref.split("::")[0:4] == provider_urn.split("::")[0:4] and ref.startswith(provider_urn) for ref in refs
        )


def _hook_names(request: Any) -> dict[str, list[str]]:
    binding = json_format.MessageToDict(request.hooks, preserving_proto_field_name=True)
    return {point: list(names) for point, names in binding.items() if names}


class DuplicateUrnError(AssertionError):
    pass


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        # mock URN -> the engine's qualified type (`parentType$...$type`), for engine URNs.
        self.qualified_types: dict[str, str] = {}

    def _engine_urn(self, parent: str | None, type_: str, name: str) -> str:
        """The engine's URN rule (pulumi/sdk resource.NewURN): the parent's qualified type, `$`, the type."""
        parent_type = self.qualified_types.get(parent or "")
        return new_urn(pulumi.get_stack(), pulumi.get_project(), parent_type or "", type_, name)

    def _record(self, request: Any, urn: str, state: dict[str, Any], inputs: dict[str, Any], read: bool) -> None:
        self.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=urn,
                parent=request.parent,
                custom=read or bool(request.custom),
                remote=False if read else bool(request.remote),
                inputs=inputs,
                raw_inputs={} if read else json_format.MessageToDict(request.object),
                outputs=state,
                dependencies=[] if read else list(request.dependencies),
                provider=request.provider,
                providers={} if read else dict(request.providers),
                additional_secret_outputs=[] if read else list(request.additionalSecretOutputs),
                protect=False if read else bool(request.protect),
                ignore_changes=[] if read else list(request.ignoreChanges),
                read=read,
                hooks={} if read else _hook_names(request),
                transforms=[] if read else pulumi_mocks._resolve_callbacks(request.transforms),
                engine_urn=self._engine_urn(request.parent, request.type, request.name),
                aliases=[] if read else [AliasSpec.from_proto(alias) for alias in request.aliases],
            )
        )
        self.qualified_types[urn] = self._engine_urn(request.parent, request.type, request.name).split("::")[2]

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC name)
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        if urn in self.resources:
            raise DuplicateUrnError(f"duplicate URN {urn}: the engine would refuse this program")
        _ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object)
        args = pulumi_mocks.MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=inputs,
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
        )
        found_id, state = self.mocks.new_resource(args)
        resource_id = str(found_id)
        # The engine would mark these outputs secret; the stock mock monitor does not.
        for key in request.additionalSecretOutputs:
            if key in state:
                state[key] = rpc.wrap_rpc_secret(rpc.unwrap_rpc_secret(state[key]))
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
        self._record(request, urn, state, inputs, read=False)
        obj = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=obj)

    def ReadResource(self, request: Any) -> Any:  # noqa: N802
        urn = self.make_urn(request.parent, request.type, request.name)
        if urn in self.resources:
            raise DuplicateUrnError(f"duplicate URN {urn}")
        response = super().ReadResource(request)
        state = self.resources[urn].state
        self._record(request, urn, state, {"id": request.id}, read=True)
        return response


# --------------------------------------------------------------------------- results


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def unwrap(value: Any) -> Any:
    """A plain copy of an input document, secrets unwrapped (to validate or compare)."""
    if is_secret(value):
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def find_plain(value: Any, needle: str, path: str = "") -> list[str]:
    """Paths where `needle` appears in a document outside a secret wrapper."""
    if is_secret(value):
        return []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in find_plain(v, needle, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in find_plain(v, needle, f"{path}[{i}]")]
    return [path] if isinstance(value, str) and needle in value else []


@dataclass
class StackOutput:
    value: Any
    secret: bool


@dataclass
class ProgramRun:
    registrations: list[Registration]
    outputs: dict[str, StackOutput]
    calls: list[pulumi_mocks.MockCallArgs]
    error: BaseException | None = None
    # What the program logged at warning level (pulumi.log.warn): shown in `pulumi preview`.
    warnings: list[str] = field(default_factory=list)

    def of_type(self, type_token: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_token} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.registrations if r.urn == urn)

    def chart(self, release_name: str) -> Registration:
        """The v4 Chart or v3 Release deploying `release_name`."""
        found = [
            r
            for r in self.registrations
            if r.type in ("kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Release")
            and r.inputs.get("name") == release_name
        ]
        assert len(found) == 1, f"expected one release {release_name!r}, found {len(found)}"
        return found[0]

    def depends_on(self, reg: Registration, target: Registration) -> bool:
        """True if the engine would create `target` before `reg`.

        What the engine sees: `reg`'s own dependencies (explicit and through its inputs),
        transitively, where depending on a component means depending on everything inside it.
        A component's `depends_on` does not reach the resources created inside it, and a
        sibling's dependencies are not `reg`'s.
        """
        by_urn = {r.urn: r for r in self.registrations}
        children: dict[str, list[str]] = {}
        for r in self.registrations:
            if r.parent:
                children.setdefault(r.parent, []).append(r.urn)
        pending = [*reg.dependencies, *([reg.provider_urn] if reg.provider_urn else [])]
        seen: set[str] = set()
        while pending:
            urn = pending.pop()
            if urn in seen:
                continue
            seen.add(urn)
            if urn == target.urn:
                return True
            current = by_urn.get(urn)
            if current is not None:
                pending.extend(current.dependencies)
                if current.provider_urn:  # a resource also waits for its provider
                    pending.append(current.provider_urn)
            pending.extend(children.get(urn, []))
        return False


@dataclass
class Takeover:
    """What the engine makes of a run's resources against the state of an earlier deployment.

    `taken`: old URN -> engine URN of the resource that takes it over (by its own URN or an
    alias), i.e. the live object is kept and updated in place. `read`: old URN -> engine URN of
    the read (`.get`) resource standing where it stood (a read carries no aliases; the engine
    drops an old read from the state without deleting anything: DeleteStep skips `External`).
    `conflicts`: what the engine would refuse (an old URN claimed twice).
    """

    taken: dict[str, str] = field(default_factory=dict)
    read: dict[str, str] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)


def engine_takeover(registrations: list[Registration], olds: set[str]) -> Takeover:
    """Match a run's resources, in registration order, with the old state's URNs `olds`, as the
    engine's step generator does (pulumi/pulumi pkg/resource/deploy/step_generator.go:
    `generateSteps`, `generateAliases`, `collapseAliasToUrn`, `inheritedChildAlias`).

    A resource is looked up by its own URN, then by its aliases in order; the first found wins.
    Its aliases: each of its alias specs completed with its current name, type and parent (a
    spec naming a parent that itself matched an alias uses that parent's old URN; a parent that
    is the stack means none); then, only if its parent matched an old URN through an alias,
    that one parent alias applied to it, and to each of its own aliases: the child's type under
    the parent's old qualified type, its name with the parent's new name prefix replaced by the
    parent's old name (`{name}-suffix` children follow a renamed parent).
    """
    by_mock = {r.urn: r for r in registrations}
    matched: dict[str, str] = {}  # mock URN -> the old URN it matched through an alias (sg.aliases)
    result = Takeover()

    def parent_engine_urn(mock_parent: str) -> str:
        parent = by_mock.get(mock_parent)
        return parent.engine_urn if parent is not None else ""  # not recorded: the stack's root, i.e. none

    def collapse(reg: Registration, spec: AliasSpec) -> str:
        if spec.urn:
            return spec.urn
        if spec.parent:
            parent = matched.get(spec.parent) or parent_engine_urn(spec.parent)
        else:
            parent = parent_engine_urn(reg.parent)
        name, type_ = spec.name or reg.name, spec.type or reg.type
        if parent and not spec.no_parent:  # resource.CreateURN: the parent's URN minus its name, `$`, the type
            return f"{parent[: parent.rfind('::')]}${type_}::{name}"
        stack, project = urn_stack_project(reg.engine_urn)
        return new_urn(spec.stack or stack, spec.project or project, "", type_, name)

    def inherited(reg: Registration, child_type: str, child_name: str, parent_alias: str) -> str:
        parent_name = urn_name(parent_engine_urn(reg.parent))
        if child_name.startswith(parent_name):
            child_name = urn_name(parent_alias) + child_name[len(parent_name) :]
        return new_urn(*urn_stack_project(reg.engine_urn), urn_qualified_type(parent_alias), child_type, child_name)

    for reg in registrations:
        own = [collapse(reg, spec) for spec in reg.aliases]
        aliases = list(own)
        parent_alias = matched.get(reg.parent)
        if parent_alias is not None:
            aliases.append(inherited(reg, reg.type, reg.name, parent_alias))
            for alias in own:
                aliases.append(inherited(reg, urn_qualified_type(alias).split("$")[-1], urn_name(alias), parent_alias))
        if reg.read:
            # Where a registered resource would stand; only to account for an old read there.
            for urn in [reg.engine_urn, *aliases]:
                if urn in olds:
                    result.read.setdefault(urn, reg.engine_urn)
                    break
            continue
        for urn in [reg.engine_urn, *dict.fromkeys(aliases)]:
            if urn not in olds:
                continue
            if urn in result.taken:
                result.conflicts.append(f"{urn} is claimed by {result.taken[urn]} and {reg.engine_urn}")
            result.taken[urn] = reg.engine_urn
            if urn != reg.engine_urn:
                matched[reg.urn] = urn
            break
    return result


def stack_file_config(stack: str) -> dict[str, Any]:
    """What the CLI would hand the program once the user filled in the file's placeholders."""
    return fill_in_placeholders(committed_stack_config(stack))


def committed_stack_config(stack: str) -> dict[str, Any]:
    """What the CLI would hand the program: Pulumi.yaml defaults, then the stack's file as committed."""
    project = yaml.safe_load((ROOT_DIR / "Pulumi.yaml").read_text())
    values: dict[str, Any] = {
        key: decl["default"]
        for key, decl in (project.get("config") or {}).items()
        if isinstance(decl, dict) and "default" in decl
    }
    stack_doc = yaml.safe_load((ROOT_DIR / f"Pulumi.{stack}.yaml").read_text()) or {}
    for key, value in (stack_doc.get("config") or {}).items():
        namespace, _, name = key.partition(":")
        assert namespace == PROJECT, f"Pulumi.{stack}.yaml sets {key}: only binderhub:* keys are read"
        assert not (isinstance(value, dict) and "secure" in value), f"Pulumi.{stack}.yaml holds a secret ({key})"
        values[name] = value
    return values


# Values in the committed stack files that a user must replace (the program refuses them until
# then), as a user would fill them in: (key path, placeholder, filled-in value).
PLACEHOLDERS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("domain",), "example.org", "example.edu"),
    (("tls", "email"), "you@example.org", "binder-admin@example.edu"),
    (("registry", "username"), "your-docker-id", "binderdev"),
)


def fill_in_placeholders(values: dict[str, Any]) -> dict[str, Any]:
    """`values` with each placeholder replaced by what a user would write there."""
    filled = json.loads(json.dumps(values))
    for path, placeholder, value in PLACEHOLDERS:
        parent: Any = filled
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and parent.get(path[-1]) == placeholder:
            parent[path[-1]] = value
    return filled


def stack_files() -> list[str]:
    return sorted(p.name.split(".")[1] for p in ROOT_DIR.glob("Pulumi.*.yaml"))


def _config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


AMBIENT_KUBE_TOKEN = "ambient-kube-token-0123456789"
KUBECONFIG: str | None = f"""apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {{server: "https://203.0.113.1:6443", certificate-authority-data: "TEST-CA"}}
contexts:
- name: lab
  context: {{cluster: lab, user: admin}}
current-context: lab
users:
- name: admin
  user: {{token: "{AMBIENT_KUBE_TOKEN}"}}
"""


@dataclass
class Program:
    """One evaluation of `__main__.py` with the given stack config and secrets."""

    config: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict)
    stack: str = "test"
    options: RunOptions = field(default_factory=RunOptions)

    def run(self) -> ProgramRun:
        if not _CLOUD_MOCKS_LOADED:
            raise RuntimeError("cloud mocks not registered: call harness.load_cloud_mocks() first (conftest.py does)")
        mocks = Mocks(self.options)
        monitor = RecordingMonitor(mocks)
        # A fresh runtime per evaluation: a failed run must not leak tasks into the next one.
        ROOT.set(None)
        runtime: Any = SETTINGS
        runtime.rpc_manager.clear()
        runtime.outputs.clear()
        logged = _WarningLog()
        _RUN_LOG.handlers[:] = [logged]  # one logger for every run: loggers are never freed
        pulumi.runtime.set_mocks(
            mocks,
            project=PROJECT,
            stack=self.stack,
            preview=self.options.preview,
            monitor=monitor,
            logger=_RUN_LOG,
        )
        config = {f"{PROJECT}:{k}": _config_string(v) for k, v in self.config.items()}
        config.update({f"{PROJECT}:{k}": v for k, v in self.secrets.items()})
        pulumi.runtime.set_all_config(config, secret_keys=[f"{PROJECT}:{k}" for k in self.secrets])
        error: BaseException | None = None
        with _ambient_kubeconfig(), _cwd(ROOT_DIR):
            try:
                _sync_await(run_pulumi_func(_run_main))
            except Exception as exc:
                error = exc
        outputs: dict[str, StackOutput] = {}
        root = pulumi.runtime.get_root_resource()
        if error is None and root is not None:
            for name, value in getattr(root, "outputs", {}).items():
                output = pulumi.Output.from_input(value)
                resolved = _sync_await(output.future())
                outputs[name] = StackOutput(resolved, bool(_sync_await(output.is_secret())))
        return ProgramRun(monitor.registrations, outputs, mocks.calls, error, logged.messages)


def _run_main() -> None:
    runpy.run_path(str(ROOT_DIR / "__main__.py"), run_name="__main__")


def run_stack(stack: str, secrets: dict[str, str] | None = None, **overrides: Any) -> ProgramRun:
    config = stack_file_config(stack)
    config.update(overrides)
    return Program(config, secrets or {}, stack=stack).run()


class _cwd:  # noqa: N801
    def __init__(self, path: Path) -> None:
        self.path, self.saved = path, Path.cwd()

    def __enter__(self) -> None:
        os.chdir(self.path)

    def __exit__(self, *_: object) -> None:
        os.chdir(self.saved)


_RUN_LOG = logging.getLogger("binderhub-test-run")
_RUN_LOG.propagate = False  # a run's log goes to its ProgramRun, not to pytest's output


class _WarningLog(logging.Handler):
    """The engine's log of one run (the mock engine writes pulumi.log.* to a Python logger)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _ambient_kubeconfig:  # noqa: N801
    """A throwaway kubeconfig as the ambient one, so no test reads the developer's."""

    def __enter__(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        path = Path(self.dir.name) / "config"
        if KUBECONFIG is not None:  # None: a machine without one (tests patch it)
            path.write_text(KUBECONFIG)
        self.saved = os.environ.get("KUBECONFIG")
        os.environ["KUBECONFIG"] = str(path)

    def __exit__(self, *_: object) -> None:
        if self.saved is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = self.saved
        self.dir.cleanup()


_CLOUD_MOCKS_LOADED: list[str] = []


def load_cloud_mocks() -> None:
    """Register every cloud's mocks (each `cloud_mocks` module registers its own on import).

    Idempotent. Without them a cloud resource would silently echo its inputs as outputs, so
    `Program.run` refuses to start before this ran.
    """
    import importlib
    import pkgutil

    import cloud_mocks

    for module in pkgutil.iter_modules(cloud_mocks.__path__):
        importlib.import_module(f"cloud_mocks.{module.name}")
        if module.name not in _CLOUD_MOCKS_LOADED:
            _CLOUD_MOCKS_LOADED.append(module.name)


def start_unit_runtime(stack: str = "unit") -> None:
    """A Pulumi runtime on the stock mock monitor, to build one component outside the program.

    Unlike `Program.run`, the stock monitor ignores `additionalSecretOutputs`: a unit test can
    check that a component keeps a value secret even when its provider does not say so.
    """
    load_cloud_mocks()
    ROOT.set(None)
    pulumi.runtime.set_mocks(Mocks(RunOptions()), project=PROJECT, stack=stack, preview=False)
