"""Every hub the suite deploys, run through the real software once per test session.

For each variant that deploys a hub (tests/variants.py: the committed stacks and the shape x auth x
registry variants), in order:
1. the program's run under the mocks (cached by variants.py);
2. its hub releases rendered with the real pinned charts (charts.py);
3. BinderHub started from its rendered Deployment, a repository's build pod created and the
   launch sent to the hub (probes/run_binderhub.py, in BinderHub's image environment);
4. the hub started from its rendered Deployment and the launch BinderHub asked for spawned by
   the hub's own code (probes/run_hub.py, in the hub image's environment).
All variants go through each probe in one process per environment.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from behaviour.charts import Manifest, Rendered, render_release, secret_data
from behaviour.envs import hub_env, run_probes
from behaviour.pods import container_view, materialize
from config import DEFAULT_REGISTRY
from harness import ProgramRun, stack_files, unwrap
from variants import ECR_HELPER, PRIVATE_GIT_HOST, SERVICE, VARIANTS, Variant
from versions import BINDERHUB_BUNDLED_JUPYTERHUB, CHARTS

# The repository every launch builds: GitHub's `binder-examples/requirements` at a fixed commit.
REPO = {
    "provider": "gh",
    "spec": "binder-examples/requirements/HEAD",
    "resolved_spec": "binder-examples/requirements/9c1d4b3e2f8a7d6c5b4a39281706f5e4d3c2b1a0",
    "resolved_ref": "9c1d4b3e2f8a7d6c5b4a39281706f5e4d3c2b1a0",
    "url": "https://github.com/binder-examples/requirements",
    "ref_url": "https://github.com/binder-examples/requirements/tree/9c1d4b3e2f8a7d6c5b4a39281706f5e4d3c2b1a0",
    "build_slug": "binder-examples-requirements",  # GitHubRepoProvider.get_build_slug(): <owner>-<repo>
}
# Specs of private repositories as BinderHub's page sends them (the repository URL-escaped),
# for variants with the private-repository keys (repoProviders, gitCredentials): a project on
# the stack's GitLab, a repository on the host gitCredentials names, and git/ specs that the
# credential must not reach (another host; the host as the start of another name; a user-info
# `@`; plain http). Full commit SHAs: BinderHub resolves other git/ refs with `git ls-remote`.
PRIVATE_SHA = "0123456789abcdef0123456789abcdef01234567"
PRIVATE_REPO_SPECS = {
    "gitlab": {"provider": "gl", "spec": "lab%2Fprivate-project/main"},
    "git-host": {"provider": "git", "spec": f"https%3A%2F%2F{PRIVATE_GIT_HOST}%2Flab%2Fprivate.git/{PRIVATE_SHA}"},
    "other-host": {"provider": "git", "spec": f"https%3A%2F%2Fgit.example.net%2Flab%2Fx/{PRIVATE_SHA}"},
    "longer-name": {"provider": "git", "spec": f"https%3A%2F%2F{PRIVATE_GIT_HOST}.example.net%2Fx/{PRIVATE_SHA}"},
    "user-info": {"provider": "git", "spec": f"https%3A%2F%2F{PRIVATE_GIT_HOST}%40example.net%2Fx/{PRIVATE_SHA}"},
    "plain-http": {"provider": "git", "spec": f"http%3A%2F%2F{PRIVATE_GIT_HOST}%2Flab%2Fprivate.git/{PRIVATE_SHA}"},
}
LOGGED_IN_USER = "alice"
# Another logged-in user, who starts a server from the hub's own page (not through BinderHub):
# what binderhub:helmValues' `singleuser` settings reach (see `_launches`).
HUB_PAGE_USER = "bob"
# repo2docker's default user and home (BinderHub passes --user-name=jovyan): the repository's files.
IMAGE_HOME = "/home/jovyan"
# What the BinderHub images run when the chart gives no arguments (their Dockerfile CMD, after
# `python3 -m binderhub`): binderhub-service's image reads the chart's mounted config file.
IMAGE_DEFAULT_ARGS = {
    "quay.io/2i2c/binderhub-service": ["--config=/etc/binderhub/mounted-secret/binderhub_config.py"],
}


@dataclass
class Deployment:
    """One variant's hub, as the running software sees it."""

    variant: Variant
    run: ProgramRun
    objects: list[Manifest]  # every object the hub releases render, plus the program's own Secrets
    releases: dict[str, Rendered]
    binderhub: dict[str, Any] = field(default_factory=dict)  # run_binderhub.py's result
    hub: dict[str, Any] = field(default_factory=dict)  # run_hub.py's result

    @property
    def service_shape(self) -> bool:
        return "jupyterhub" in self.releases

    @property
    def fancy_profiles(self) -> bool:
        return bool((self.variant.config.get("fancyProfiles") or {}).get("enabled"))

    @property
    def authenticated(self) -> bool:
        return self.variant.auth_type != "none"

    @property
    def private_repos(self) -> bool:
        return has_private_repos(self.variant)

    def private_repo(self, name: str) -> dict[str, Any]:
        """What BinderHub made of PRIVATE_REPO_SPECS[name] (run_binderhub.py's _through_provider)."""
        return next(r for r in self.binderhub["private_repos"] if r["name"] == name)

    @property
    def launch(self) -> dict[str, Any]:
        """The user server the hub spawned for BinderHub's launch."""
        launches = self.hub.get("launches") or []
        assert launches, f"{self.variant.name}: the hub spawned nothing: {self.hub.get('errors')}"
        return launches[0]

    @property
    def launch_options(self) -> dict[str, Any]:
        """The user_options BinderHub posted to the hub for the launch."""
        return next(r["body"] for r in self.binderhub["hub_requests"] if r["method"] == "POST" and r["body"])

    def secret(self, name: str) -> Manifest:
        found = [o for o in self.objects if o.get("kind") == "Secret" and o["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.variant.name}: expected one Secret {name!r}, found {len(found)}"
        return found[0]


def registry_type(variant: Variant) -> str:
    """The registry a variant pushes to: `registry.type`, else its cloud's own."""
    return str((variant.config.get("registry") or {}).get("type", DEFAULT_REGISTRY.get(variant.cloud)))


def has_private_repos(variant: Variant) -> bool:
    """Whether `variant` sets the private-repository keys (repoProviders, gitCredentials)."""
    return bool(variant.config.get("repoProviders")) or "gitCredentials" in variant.secrets


def _signature(variant: Variant) -> tuple[Any, ...]:
    """What decides how the hub and BinderHub behave: shape, login, registry, builder, ingress,
    named servers, the service-shape UI, the operator's Helm values and the private-repository
    keys (not the target's node
    sizes, regions, names or hosts: a cloud reaches the hub's configuration through its registry
    and, on the clusters the program creates, its dedicated pools)."""
    config = variant.config
    auth = config.get("auth") or {}
    return (
        config.get("shape", "classic"),
        auth.get("type", "none"),
        bool(auth.get("passTokens")),
        registry_type(variant),
        config.get("builder", "dind"),
        (config.get("ingress") or {}).get("controller", "nginx"),
        json.dumps(config.get("namedServers") or {}, sort_keys=True),
        config.get("binderUI", True),
        bool((config.get("fancyProfiles") or {}).get("enabled")),
        json.dumps(config.get("helmValues") or {}, sort_keys=True),
        has_private_repos(variant),
        variant.managed,  # dedicated pools: where user and build pods are placed
    )


def hub_variants() -> list[str]:
    """The variants that deploy a hub, one per distinct behaviour signature (committed stacks
    first, so each of them is always in).

    `BEHAVIOUR_VARIANTS` (comma-separated names) narrows the set while working on one.
    """
    wanted = {n for n in os.environ.get("BEHAVIOUR_VARIANTS", "").split(",") if n}
    seen: set[tuple[Any, ...]] = set()
    names = []
    committed = set(stack_files())
    for name, variant in sorted(VARIANTS.items(), key=lambda item: item[0] not in committed):
        if not {"binderhub", *SERVICE} & variant.charts or (wanted and name not in wanted):
            continue
        signature = _signature(variant)
        if signature not in seen:
            seen.add(signature)
            names.append(name)
    return names


def _program_secrets(run: ProgramRun) -> list[Manifest]:
    """Secrets the program creates itself (e.g. the service shape's hub API token)."""
    secrets = []
    for reg in run.of_type("kubernetes:core/v1:Secret"):
        inputs = unwrap(reg.inputs)
        secrets.append(
            {"kind": "Secret", **{k: v for k, v in inputs.items() if k in ("metadata", "data", "stringData")}}
        )
    return secrets


def _workload(objects: list[Manifest], kind: str, name: str) -> Manifest:
    found = [o for o in objects if o.get("kind") == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name!r}, found {[o['metadata']['name'] for o in found]}"
    return found[0]


def _binderhub_workload(deployment: Deployment) -> tuple[Manifest, str]:
    if deployment.service_shape:
        rendered = deployment.releases["binderhub"]
        workload = next(o for o in rendered.of_kind("Deployment") if o["metadata"]["name"].endswith("binderhub"))
        return workload, workload["spec"]["template"]["spec"]["containers"][0]["name"]
    return _workload(deployment.objects, "Deployment", "binder"), "binder"


def _prepare(name: str) -> Deployment:
    variant = VARIANTS[name]
    run = variant.run()
    assert run.error is None, f"variant {name}: the program failed: {run.error!r}"
    releases = {
        r: render_release(run.chart(r))
        for r in (("jupyterhub", "binderhub") if SERVICE[1] in variant.charts else ("binderhub",))
    }
    objects = [o for rendered in releases.values() for o in rendered.objects] + _program_secrets(run)
    return Deployment(variant, run, objects, releases)


@cache
def deployments() -> dict[str, Deployment]:
    """Every hub variant, through both probes (computed once per test process)."""
    scratch = Path(tempfile.mkdtemp(prefix="behaviour-"))
    prepared = {name: _prepare(name) for name in hub_variants()}

    binder_jobs = []
    for name, deployment in prepared.items():
        workload, container = _binderhub_workload(deployment)
        job = materialize(container_view(workload, container, deployment.objects), scratch / name / "binderhub")
        if not job["command"] and not job["args"]:
            image = next(c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == container)
            job["args"] = IMAGE_DEFAULT_ARGS[image["image"].rsplit(":", 1)[0]]
        job.update(
            registry_helper=_registry_helper(deployment),
            home="/root",
            repo=REPO,
            username=LOGGED_IN_USER if deployment.authenticated else None,
            launch_host=f"https://{deployment.variant.name}.binder.test/",
            # BinderHub's own options an overlay sets: the probe reports the values BinderHub took.
            traits=sorted(_binderhub_overlay(deployment.variant).get("BinderHub") or {}),
            private_repos=[{"name": n, **s} for n, s in PRIVATE_REPO_SPECS.items()] if deployment.private_repos else [],
        )
        binder_jobs.append(job)
    binder_results = run_probes(["binderhub"] * len(binder_jobs), "run_binderhub", binder_jobs)
    for deployment, result in zip(prepared.values(), binder_results, strict=True):
        deployment.binderhub = result

    hub_jobs, envs = [], []
    for name, deployment in prepared.items():
        workload = _workload(deployment.objects, "Deployment", "hub")
        job = materialize(container_view(workload, "hub", deployment.objects), scratch / name / "hub")
        job["launches"] = _launches(deployment)
        z2jh = CHARTS["jupyterhub"].version if deployment.service_shape else BINDERHUB_BUNDLED_JUPYTERHUB
        hub_jobs.append(job)
        envs.append(hub_env(z2jh, fancy_profiles=deployment.fancy_profiles))
    for deployment, result in zip(prepared.values(), run_probes(envs, "run_hub", hub_jobs), strict=True):
        deployment.hub = result
    return prepared


def _registry_helper(deployment: Deployment) -> dict[str, Any] | None:
    """The ECR registry helper as rendered: where it listens, the token it requires, and the
    registry its IRSA role reaches (`<account>.dkr.ecr.<region>`; EKS gives the pod AWS_REGION)."""
    if ECR_HELPER not in deployment.variant.charts:
        return None
    rendered = render_release(deployment.run.chart(ECR_HELPER))
    service = rendered.of_kind("Service")[0]
    secret = rendered.of_kind("Secret")[0]
    account_role = rendered.of_kind("ServiceAccount")[0]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    account = account_role.split(":")[4]
    region = deployment.variant.config["cluster"]["region"]
    return {
        "service_url": f"http://{service['metadata']['name']}.{rendered.namespace}.svc:{service['spec']['ports'][0]['port']}",
        "auth_token": secret_data(secret)["auth_token"].decode(),
        "registry": f"https://{account}.dkr.ecr.{region}.amazonaws.com",
    }


def _launches(deployment: Deployment) -> list[dict[str, Any]]:
    """The spawns BinderHub asked the hub for: `POST users/<name>/servers/<server>` with user_options.

    With binderhub:helmValues on a hub with login, also `hub-page`: another user's default server
    started from the hub's own page, which runs the hub's `singleuser` settings.
    """
    launches = []
    for request in deployment.binderhub.get("hub_requests", []):
        parts = request["url"].split("/")
        if request["method"] == "POST" and len(parts) >= 3 and parts[2] == "servers":
            user, server_name = parts[1], "/".join(parts[3:])
            launches.append({"name": "binder", "user": user, "server_name": server_name, "options": request["body"]})
    if deployment.variant.config.get("helmValues") and deployment.authenticated:
        launches.append({"name": "hub-page", "user": HUB_PAGE_USER, "server_name": "", "options": {}})
    return launches


def _binderhub_overlay(variant: Variant) -> dict[str, Any]:
    """BinderHub's traitlets (`config:`) in the variant's binderhub:helmValues, either chart."""
    overlays = variant.config.get("helmValues") or {}
    chart = overlays.get("binderhub-service") or overlays.get("binderhub") or {}
    return chart.get("config") or {}
