"""Every configuration the suite deploys under the mocks, and each one's run, evaluated once.

A `Variant` is a stack configuration a user could write (`binderhub:*` keys without the
prefix), the secrets set beside it and the Helm charts it should deploy. `VARIANTS` holds the
committed stack files (named after their stack) and every shape, auth, registry and target
variant the tests look at; `tests/test_invariants.py` checks the shared invariants on all of
them, other modules read behaviour from them by name:

    run = deploy("existing-tls")      # the ProgramRun, evaluated once per test process

Runs are cached per process and shared between modules: treat a `ProgramRun` as read-only.
A configuration the program must refuse is not a variant; evaluate it with `harness.Program`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness import AMBIENT_KUBE_TOKEN, Program, ProgramRun, RunOptions, stack_file_config, stack_files

# The private repositories: a self-hosted GitLab, and the git server gitCredentials names, whose
# password holds `\t` (repo2docker's credential helper would take it for a tab).
PRIVATE_GITLAB_HOST = "gitlab.example.org"
PRIVATE_GIT_HOST = "git.example.org"
PRIVATE_GIT_USER = "binder-bot"
PRIVATE_GIT_PASSWORD = "gitpw-0123\\t456789abcdef"
PRIVATE_REPOS = {"gitlab": {"hostname": PRIVATE_GITLAB_HOST}}
PRIVATE_REPO_SECRETS = ("gitlabToken", "gitCredentials")
# One value per secret name, used by every variant: tests search for these and none may
# appear outside a secret wrapper anywhere.
GIVEN_KUBE_TOKEN = "given-kube-token-42"
SECRET_VALUES = {
    "registryPassword": "dckr_pat_0123456789abcdef",
    "oauthClientSecret": "oauth-client-secret-abcdef0123",
    "githubToken": "ghp_0123456789abcdefghijklmnop",
    "gitlabToken": "glpat-0123456789abcdefghij",
    # git's credential format, as read from a file (a trailing newline)
    "gitCredentials": (
        f"protocol=https\nhost={PRIVATE_GIT_HOST}\nusername={PRIVATE_GIT_USER}\npassword={PRIVATE_GIT_PASSWORD}\n"
    ),
    "kubeconfig": (
        "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
        "clusters:\n- name: lab\n  cluster: {server: 'https://198.51.100.7:6443'}\n"
        "contexts:\n- name: lab\n  context: {cluster: lab, user: admin}\n"
        f"users:\n- name: admin\n  user: {{token: {GIVEN_KUBE_TOKEN}}}\n"
    ),
}
# Credentials that reach the cluster: the only ones a (secret) stack output may carry.
KUBE_TOKENS = (GIVEN_KUBE_TOKEN, AMBIENT_KUBE_TOKEN)

MANAGED_CLOUDS = ("azure", "aws", "gcp")

# Charts by their versions.py name.
NGINX = "nginx-ingress"
CERT_MANAGER = "cert-manager"
OPENEBS = "localpv-provisioner"
ECR_HELPER = "binderhub-container-registry-helper"
AUTOSCALER = "cluster-autoscaler"  # every EKS cluster's
CLASSIC = ("binderhub",)  # BinderHub with its bundled JupyterHub
SERVICE = ("binderhub-service", "jupyterhub")  # BinderHub as a service of a separate z2jh hub
MONITORING = ("prometheus", "grafana")  # binderhub:monitoring (on in Pulumi.prod.yaml)


@dataclass(frozen=True)
class Variant:
    """One deployable configuration.

    `config`: the stack config as the CLI hands it over (no `binderhub:` prefix).
    `secrets`: names of the secrets set (values from `SECRET_VALUES`).
    `charts`: the Helm charts (versions.py names) this configuration should install.
    `stack`: the Pulumi stack name (resource names derive from it).
    """

    name: str
    config: dict[str, Any]
    secrets: tuple[str, ...]
    charts: frozenset[str]
    stack: str = "test"
    _runs: dict[bool, ProgramRun] = field(default_factory=dict, compare=False, repr=False)

    @property
    def cloud(self) -> str:
        return str(self.config.get("cloud", "existing"))

    @property
    def managed(self) -> bool:
        """On a cluster this program creates (AKS, EKS, GKE), not on an existing one."""
        return self.cloud in MANAGED_CLOUDS

    @property
    def secret_values(self) -> dict[str, str]:
        return {name: SECRET_VALUES[name] for name in self.secrets}

    @property
    def auth_type(self) -> str:
        return str((self.config.get("auth") or {}).get("type", "none"))

    def program(self, preview: bool = False) -> Program:
        """A fresh evaluation of this variant (for a test that needs its own, uncached run)."""
        return Program(self.config, self.secret_values, stack=self.stack, options=RunOptions(preview=preview))

    def run(self, preview: bool = False) -> ProgramRun:
        """The program's run for this variant, evaluated on first use in this process."""
        if preview not in self._runs:
            self._runs[preview] = self.program(preview).run()
        return self._runs[preview]


def deploy(name: str) -> ProgramRun:
    """The run of variant `name`; fails the calling test with the program's error if it failed."""
    run = VARIANTS[name].run()
    assert run.error is None, f"variant {name}: the program failed: {run.error!r}"
    return run


def _variant(name: str, config: dict[str, Any], secrets: tuple[str, ...], *charts: str, stack: str = "test") -> Variant:
    return Variant(name, config, secrets, frozenset(charts), stack)


def _stack(stack: str, secrets: tuple[str, ...], *charts: str, name: str = "", **overrides: Any) -> Variant:
    """A committed stack file, optionally with top-level keys replaced (as `pulumi config set` would)."""
    return _variant(name or stack, {**stack_file_config(stack), **overrides}, secrets, *charts, stack=stack)


def cluster_of(stack: str, **changes: Any) -> dict[str, Any]:
    """The stack file's `binderhub:cluster` with some keys changed (None removes a key)."""
    cluster = dict(stack_file_config(stack)["cluster"])
    for key, value in changes.items():
        if value is None:
            cluster.pop(key, None)
        else:
            cluster[key] = value
    return cluster


REGISTRY = ("registryPassword",)
OAUTH = ("oauthClientSecret",)
BOTH = ("registryPassword", "oauthClientSecret")

# An existing cluster (kubeconfig from the environment) pushing to Docker Hub.
EXISTING: dict[str, Any] = {"cloud": "existing", "registry": {"type": "dockerhub", "username": "alice"}}
HARBOR = {"type": "custom", "url": "https://harbor.example.edu", "username": "robot$ci", "project": "binder"}
# A single Docker Engine node: the one place images can stay where they were built.
SINGLE_DOCKER_NODE = {
    "cloud": "existing",
    "cluster": {"runtime": "docker", "nodes": 1, "externalIPs": ["192.0.2.7"]},
    "builder": "host",
    "registry": {"type": "none"},
}
# The base of the shape x auth variants: HTTPS on a domain.
WITH_DOMAIN: dict[str, Any] = {**EXISTING, "domain": "example.edu", "tls": {"email": "ops@example.edu"}}
AUTH: dict[str, dict[str, Any]] = {
    "anonymous": {"type": "none"},
    "github": {"type": "github", "clientId": "gh-client-id", "allowedOrganizations": ["my-lab"]},
    "generic": {
        "type": "generic",
        "clientId": "binder",
        "authorizeUrl": "https://keycloak.example.edu/realms/lab/protocol/openid-connect/auth",
        "tokenUrl": "https://keycloak.example.edu/realms/lab/protocol/openid-connect/token",
        "userdataUrl": "https://keycloak.example.edu/realms/lab/protocol/openid-connect/userinfo",
        "allowedGroups": ["binder-users"],
        "adminUsers": ["admin"],
    },
}
FANCY_HUB_IMAGE = "quay.io/yuvipanda/z2jh-hub-with-fancy-profiles:z2jh-v4.4.0-fancy-profiles-sha-abc1234"
# The README's worked examples of binderhub:helmValues (section "Helm values overlay"): another
# default user image for the service shape's hub, and a BinderHub option the program does not model.
HELM_VALUES_EXAMPLES: dict[str, Any] = {
    "jupyterhub": {"singleuser": {"image": {"name": "quay.io/jupyter/scipy-notebook", "tag": "2025-03-17"}}},
    "binderhub-service": {"config": {"BinderHub": {"banner_message": "Builds are kept for a week: save your work."}}},
}
AWS_DOCKERHUB = {"type": "dockerhub", "username": "someone", "prefix": "binder-aws"}


def _shape(shape: str, login: str, name: str = "", **extra: Any) -> Variant:
    """`shape` ("classic" or "service") with login `login` (a key of AUTH) on WITH_DOMAIN."""
    secrets = BOTH if login != "anonymous" else REGISTRY
    config = {**WITH_DOMAIN, "shape": shape, "auth": AUTH[login], **extra}
    charts = CLASSIC if shape == "classic" else SERVICE
    return _variant(name or f"{shape}-{login}", config, secrets, NGINX, CERT_MANAGER, *charts)


_CATALOGUE = [
    # Grouped by target, each committed stack file first: tests that walk the catalogue in
    # order meet one cloud's SDK at a time.
    # ------------------------------------------------------------ an existing cluster
    _stack("dev", REGISTRY, NGINX, *CLASSIC),
    # The end-to-end workflow's k3s node (.github/workflows/e2e.yml): Docker runtime, no registry.
    _stack("e2e", (), NGINX, *CLASSIC),
    _variant("existing-no-domain", EXISTING, REGISTRY, NGINX, *CLASSIC),
    _variant(
        "existing-tls",
        {**EXISTING, "domain": "example.edu", "tls": {"email": "ops@example.edu"}},
        REGISTRY,
        NGINX,
        CERT_MANAGER,
        *CLASSIC,
    ),
    _variant(
        "existing-tls-staging",
        {**EXISTING, "domain": "example.edu", "tls": {"email": "ops@example.edu", "server": "staging"}},
        REGISTRY,
        NGINX,
        CERT_MANAGER,
        *CLASSIC,
    ),
    _variant(
        "existing-harbor-token-url",
        {
            **EXISTING,
            "registry": {
                "type": "custom",
                "url": "https://harbor.example.edu",
                "tokenUrl": "https://harbor.example.edu/service/token?service=harbor-registry",
                "username": "robot$binder",
                "project": "binder",
            },
        },
        REGISTRY,
        NGINX,
        *CLASSIC,
    ),
    _variant(
        "existing-ingress-class",
        {**EXISTING, "ingress": {"controller": "existing", "className": "traefik", "address": "198.51.100.4"}},
        REGISTRY,
        *CLASSIC,
    ),
    _variant("existing-pink-builder", {**EXISTING, "builder": "pink"}, REGISTRY, NGINX, *CLASSIC),
    _variant(
        "existing-private-repos-cors",
        {**EXISTING, "cors": {"allowOrigin": "*"}, "repoProviders": PRIVATE_REPOS},
        ("registryPassword", "githubToken", *PRIVATE_REPO_SECRETS),
        NGINX,
        *CLASSIC,
    ),
    _variant(
        "existing-given-kubeconfig",
        {**EXISTING, "cluster": {"context": "lab"}},
        ("registryPassword", "kubeconfig"),
        NGINX,
        *CLASSIC,
    ),
    _variant(
        "existing-external-ips",
        {**EXISTING, "cluster": {"externalIPs": ["192.0.2.10", "192.0.2.11"]}},
        REGISTRY,
        NGINX,
        *CLASSIC,
    ),
    # ------------------------------------------------------------ bare metal
    _stack("baremetal", BOTH, NGINX, CERT_MANAGER, OPENEBS, *SERVICE),
    # Login needs HTTPS: without a domain, certificates are for the <ip>.nip.io hosts.
    _stack(
        "baremetal",
        BOTH,
        NGINX,
        OPENEBS,
        CERT_MANAGER,
        *SERVICE,
        name="baremetal-no-domain",
        domain="",
        tls={"enabled": True, "email": "ops@example.edu"},
    ),
    _stack(
        "baremetal",
        BOTH,
        NGINX,
        CERT_MANAGER,
        *SERVICE,
        name="baremetal-host-ports",
        cluster={"externalIPs": ["203.0.113.10"], "exposeIngress": "hostPorts"},
    ),
    _variant(
        "existing-openebs-host-ports",
        {**EXISTING, "cluster": {"storage": "openebs", "externalIPs": ["192.0.2.10"], "exposeIngress": "hostPorts"}},
        REGISTRY,
        NGINX,
        OPENEBS,
        *CLASSIC,
    ),
    _variant(
        "existing-openebs-harbor",
        {"cloud": "existing", "cluster": {"storage": "openebs"}, "registry": HARBOR},
        REGISTRY,
        NGINX,
        OPENEBS,
        *CLASSIC,
    ),
    _variant("existing-harbor", {"cloud": "existing", "registry": HARBOR}, REGISTRY, NGINX, *CLASSIC),
    _variant(
        "existing-docker-node-no-registry",
        {
            "cloud": "existing",
            "cluster": {"runtime": "docker", "nodes": 1},
            "builder": "host",
            "registry": {"type": "none"},
        },
        (),
        NGINX,
        *CLASSIC,
    ),
    _variant("existing-docker-node-external-ip", SINGLE_DOCKER_NODE, (), NGINX, *CLASSIC),
    # ------------------------------------------------------------ shapes x logins
    *(_shape(shape, login) for shape in ("classic", "service") for login in AUTH),
    _shape("service", "github", name="service-github-api-only", binderUI=False),
    _variant(
        "service-private-repos",
        {**WITH_DOMAIN, "shape": "service", "auth": AUTH["github"], "repoProviders": PRIVATE_REPOS},
        (*BOTH, *PRIVATE_REPO_SECRETS),
        NGINX,
        CERT_MANAGER,
        *SERVICE,
    ),
    _shape(
        "service",
        "github",
        name="service-github-fancy-profiles",
        fancyProfiles={"enabled": True, "hubImage": FANCY_HUB_IMAGE},
    ),
    _shape("service", "github", name="service-github-helm-values", helmValues=HELM_VALUES_EXAMPLES),
    _shape(
        "classic",
        "generic",
        name="classic-generic-named-servers",
        namedServers={"enabled": True, "limitPerUser": 3},
        auth={**AUTH["generic"], "passTokens": True},
    ),
    # ------------------------------------------------------------ Azure
    _stack("prod", OAUTH, NGINX, CERT_MANAGER, *CLASSIC, *MONITORING),
    _stack(
        "prod",
        BOTH,
        NGINX,
        CERT_MANAGER,
        *CLASSIC,
        *MONITORING,
        name="prod-dockerhub",
        registry={"type": "dockerhub", "username": "binderbot", "prefix": "binder-prod"},
    ),
    _stack(
        "prod",
        OAUTH,
        NGINX,
        CERT_MANAGER,
        *CLASSIC,
        *MONITORING,
        name="prod-no-domain",
        domain="",
        protect=False,
        tls={"enabled": True, "email": "ops@example.edu"},
    ),
    _variant("azure-minimal", {"cloud": "azure"}, (), NGINX, *CLASSIC),
    # The API for two blocks only, administered by two Entra groups besides the deployer.
    _stack(
        "prod",
        OAUTH,
        NGINX,
        CERT_MANAGER,
        *CLASSIC,
        *MONITORING,
        name="azure-restricted-api",
        cluster=cluster_of(
            "prod",
            apiAccessCidrs=["198.51.100.0/24", "203.0.113.7/32"],
            adminGroupObjectIds=["0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "11111111-2222-4333-8444-555555555555"],
        ),
    ),
    _variant(
        "azure-pinned-version", {"cloud": "azure", "cluster": {"kubernetesVersion": "1.33.2"}}, (), NGINX, *CLASSIC
    ),
    # A resource group of its own: without one, a name this long is refused (it would be cut).
    _variant(
        "azure-long-stack-name",
        {"cloud": "azure", "cluster": {"resourceGroup": "binder-feature-previews"}},
        (),
        NGINX,
        *CLASSIC,
        stack="feature-" + "x" * 70,
    ),
    # ------------------------------------------------------------ AWS
    _stack("aws", (), NGINX, ECR_HELPER, AUTOSCALER, *CLASSIC),
    _stack(
        "aws",
        (),
        NGINX,
        ECR_HELPER,
        AUTOSCALER,
        *CLASSIC,
        name="aws-graviton",
        cluster={"nodeSize": "t4g.large", "userNodeSize": "m7g.2xlarge"},
    ),
    _stack(
        "aws",
        (),
        NGINX,
        ECR_HELPER,
        AUTOSCALER,
        *CLASSIC,
        name="aws-expire-7-days",
        registry={"type": "ecr", "prefix": "binder", "expireAfterDays": 7},
    ),
    _stack("aws", REGISTRY, NGINX, AUTOSCALER, *CLASSIC, name="aws-dockerhub", registry=AWS_DOCKERHUB),
    _stack(
        "aws",
        (),
        NGINX,
        CERT_MANAGER,
        ECR_HELPER,
        AUTOSCALER,
        *CLASSIC,
        name="aws-tls",
        domain="binder.example.edu",
        tls={"enabled": True, "email": "ops@example.edu"},
    ),
    _stack("aws", (), NGINX, ECR_HELPER, AUTOSCALER, *CLASSIC, name="aws-protected", protect=True),
    # ------------------------------------------------------------ GCP
    _stack("gcp", (), NGINX, *CLASSIC),
    # binderhub-service on a cluster the program creates: its build daemons go to the user pool.
    _stack("gcp", (), NGINX, *SERVICE, name="gcp-service", shape="service", userPlaceholders=2),
    _stack(
        "gcp",
        (),
        NGINX,
        *CLASSIC,
        name="gcp-regional",
        cluster=cluster_of("gcp", zone=None, region="europe-west1"),
    ),
    _stack(
        "gcp",
        REGISTRY,
        NGINX,
        *CLASSIC,
        name="gcp-dockerhub",
        registry={"type": "dockerhub", "username": "binderbot", "prefix": "binder"},
    ),
    _stack(
        "gcp",
        (),
        NGINX,
        CERT_MANAGER,
        *CLASSIC,
        name="gcp-tls-protected",
        domain="binder.example.edu",
        tls={"enabled": True, "email": "ops@example.edu", "server": "staging"},
        protect=True,
    ),
    _stack(
        "gcp",
        (),
        NGINX,
        *CLASSIC,
        name="gcp-bigger-nodes",
        cluster=cluster_of(
            "gcp", nodeSize="n2-standard-2", nodeCount=2, userNodeSize="n2-highmem-8", userMinNodes=1, userMaxNodes=12
        ),
    ),
    _stack(
        "gcp",
        (),
        NGINX,
        *CLASSIC,
        name="gcp-regional-user-pool",
        cluster=cluster_of("gcp", zone=None, userMinNodes=4, userMaxNodes=9),
    ),
    _stack(
        "gcp", (), NGINX, *CLASSIC, name="gcp-zone-only", cluster=cluster_of("gcp", zone="europe-west4-b", region=None)
    ),
    _stack(
        "gcp",
        (),
        NGINX,
        *CLASSIC,
        name="gcp-stable-channel",
        cluster=cluster_of("gcp", releaseChannel="stable", kubernetesVersion="1.33.2-gke.1240000"),
    ),
    _stack("gcp", (), NGINX, *CLASSIC, name="gcp-named-cluster", cluster=cluster_of("gcp", name="teaching-binder")),
]

VARIANTS: dict[str, Variant] = {v.name: v for v in _CATALOGUE}


def _check_catalogue() -> None:
    """Refuse a catalogue in which two names mean one evaluation, or a stack file is missing."""
    if len(VARIANTS) != len(_CATALOGUE):
        raise ValueError("two variants share a name")
    for stack in stack_files():
        if stack not in VARIANTS or VARIANTS[stack].config != stack_file_config(stack):
            raise ValueError(
                f"Pulumi.{stack}.yaml needs a variant named {stack!r} in tests/variants.py, as the file is"
            )
    seen: dict[str, str] = {}
    for v in _CATALOGUE:
        key = json.dumps([v.config, v.secrets, v.stack], sort_keys=True)
        if key in seen:
            raise ValueError(f"variants {seen[key]!r} and {v.name!r} are the same evaluation")
        seen[key] = v.name


_check_catalogue()
# The committed Pulumi.<stack>.yaml files, as they are.
STACKS: list[Variant] = [VARIANTS[stack] for stack in stack_files()]
