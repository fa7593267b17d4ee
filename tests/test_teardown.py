"""`pulumi destroy`: the delete hooks' own logic (draining user storage, deleting ECR repositories).

The order `pulumi destroy` deletes things in, and what it must not leave behind, is checked on
every stack and variant in test_invariants.py.
"""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pulumi

from components.cleanup import drain_user_workloads, kube_api_from_kubeconfig
from components.registry.ecr import (
    LIFECYCLE_SCRIPT,
    AwsClients,
    claim_tag_key,
    delete_ecr_repositories,
    ecr_repositories_hook,
    lifecycle_policy,
)
from harness import start_unit_runtime

# ------------------------------------------------------------------ the hooks' own logic


class FakeKube:
    """CoreV1Api as the cleanup sees it: pods, claims and volumes the driver deletes later."""

    def __init__(self, namespace: str, volume_deleted_after_polls: int = 1) -> None:
        self.namespace = namespace
        self.pods = {
            "jupyter-alice": "component=singleuser-server",
            "build-repo-abc": "component=binderhub-build",
            "hub-7d9": "component=hub",
        }
        self.claims = {"claim-alice": "pvc-1", "claim-bob": "pvc-2"}
        self.volumes = {
            "pvc-1": (namespace, "Delete"),
            "pvc-2": (namespace, "Retain"),
            "pvc-other": ("elsewhere", "Delete"),
        }
        self.polls_left = volume_deleted_after_polls
        self.deleted: list[str] = []

    @staticmethod
    def _listing(names: list[str]) -> Any:
        return SimpleNamespace(items=[SimpleNamespace(metadata=SimpleNamespace(name=n)) for n in names])

    def list_namespaced_pod(self, namespace: str, label_selector: str = "", **_: Any) -> Any:
        assert namespace == self.namespace
        return self._listing([p for p, label in self.pods.items() if label == label_selector])

    def delete_namespaced_pod(self, name: str, namespace: str, **_: Any) -> None:
        self.deleted.append(f"pod/{name}")
        del self.pods[name]

    def list_namespaced_persistent_volume_claim(self, namespace: str, **_: Any) -> Any:
        return self._listing(list(self.claims))

    def delete_namespaced_persistent_volume_claim(self, name: str, namespace: str, **_: Any) -> None:
        self.deleted.append(f"pvc/{name}")
        del self.claims[name]

    def list_persistent_volume(self, **_: Any) -> Any:
        # The CSI driver deletes released volumes with policy Delete after a while.
        if not self.claims and self.polls_left == 0:
            self.volumes = {k: v for k, v in self.volumes.items() if not (v[0] == self.namespace and v[1] == "Delete")}
        self.polls_left -= 1
        return SimpleNamespace(
            items=[
                SimpleNamespace(
                    metadata=SimpleNamespace(name=name),
                    spec=SimpleNamespace(
                        claim_ref=SimpleNamespace(namespace=ns), persistent_volume_reclaim_policy=policy
                    ),
                )
                for name, (ns, policy) in self.volumes.items()
            ]
        )


def test_drain_deletes_user_and_build_pods_and_claims_then_waits_for_disks() -> None:
    kube = FakeKube("binderhub", volume_deleted_after_polls=2)
    sleeps: list[float] = []
    left = drain_user_workloads(kube, "binderhub", sleep=sleeps.append, clock=lambda: 0.0)
    assert left == []
    assert sorted(kube.deleted) == ["pod/build-repo-abc", "pod/jupyter-alice", "pvc/claim-alice", "pvc/claim-bob"]
    assert "hub-7d9" in kube.pods  # the chart's own pods are the chart's business
    assert len(sleeps) == 2  # waited until the driver had deleted the disk
    assert "pvc-2" in kube.volumes and "pvc-other" in kube.volumes  # retained or not ours


def test_drain_gives_up_after_the_timeout_and_names_what_is_left() -> None:
    kube = FakeKube("binderhub", volume_deleted_after_polls=10**6)
    now = iter(range(0, 10_000, 100))
    left = drain_user_workloads(kube, "binderhub", timeout=600, sleep=lambda _: None, clock=lambda: float(next(now)))
    assert left == ["pvc-1"]


ACCOUNT_ARN = "arn:aws:ecr:us-east-1:123456789012:repository/"
ME = claim_tag_key("binderhub", "aws")
OTHER = claim_tag_key("binderhub", "aws-staging")


class FakeEcr:
    """ECR as boto3's client and the AWS CLI see it: repositories (paginated) and their tags."""

    def __init__(self, tags: dict[str, dict[str, str]]) -> None:
        self.tags = {name: dict(repo_tags) for name, repo_tags in tags.items()}  # name -> {key: value}
        self.deleted: list[tuple[str, bool]] = []
        self.policies: dict[str, str] = {}

    @staticmethod
    def _name(arn: str) -> str:
        assert arn.startswith(ACCOUNT_ARN), arn
        return arn.removeprefix(ACCOUNT_ARN)

    def repositories(self) -> list[dict[str, str]]:
        return [{"repositoryName": n, "repositoryArn": ACCOUNT_ARN + n} for n in self.tags]

    def get_paginator(self, operation_name: str) -> Any:
        assert operation_name == "describe_repositories"
        repos = self.repositories()
        pages = [{"repositories": repos[i : i + 2]} for i in range(0, len(repos), 2)]
        return SimpleNamespace(paginate=lambda **query: iter(pages))

    def list_tags_for_resource(self, resourceArn: str) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        return {"tags": [{"Key": k, "Value": v} for k, v in self.tags[self._name(resourceArn)].items()]}

    def tag_resource(self, resourceArn: str, tags: list[dict[str, str]]) -> None:  # noqa: N803
        self.tags[self._name(resourceArn)].update({t["Key"]: t["Value"] for t in tags})

    def untag_resource(self, resourceArn: str, tagKeys: list[str]) -> None:  # noqa: N803
        for key in tagKeys:
            self.tags[self._name(resourceArn)].pop(key, None)

    def delete_repository(self, repositoryName: str, force: bool, registryId: str | None = None) -> None:  # noqa: N803
        self.deleted.append((repositoryName, force))
        del self.tags[repositoryName]


class FakeSts:
    """STS as the delete hook sees it: the account of the ambient credentials."""

    def __init__(self, account: str) -> None:
        self.account = account

    def get_caller_identity(self) -> dict[str, str]:
        return {"Account": self.account}


def shared_namespace_ecr() -> FakeEcr:
    return FakeEcr(
        {
            "binder/binder-mine": {ME: "in-use"},
            "binder/binder-both": {ME: "in-use", OTHER: "in-use", "team": "x"},
            "binder/binder-theirs": {OTHER: "in-use"},
            "binder/binder-new": {},  # created after the last claim run
            "binder-other/x": {ME: "in-use"},  # another namespace, however tagged
            "team/binder": {},
        }
    )


def test_ecr_cleanup_in_a_shared_namespace_deletes_only_what_no_other_stack_uses() -> None:
    ecr = shared_namespace_ecr()
    result = delete_ecr_repositories(ecr, "binder", ME, exclusive=False)
    assert result.deleted == ["binder/binder-mine"]
    assert ecr.deleted == [("binder/binder-mine", True)]  # images included
    assert sorted(result.kept_for_others) == ["binder/binder-both", "binder/binder-theirs"]
    assert ecr.tags["binder/binder-both"] == {OTHER: "in-use", "team": "x"}  # only our claim went
    assert ecr.tags["binder/binder-theirs"] == {OTHER: "in-use"}
    assert result.unclaimed == ["binder/binder-new"] and "binder/binder-new" in ecr.tags
    assert "binder-other/x" in ecr.tags and "team/binder" in ecr.tags


def test_ecr_cleanup_in_the_stacks_own_namespace_also_deletes_unclaimed_repositories() -> None:
    ecr = shared_namespace_ecr()
    result = delete_ecr_repositories(ecr, "binder", ME, exclusive=True)
    assert sorted(result.deleted) == ["binder/binder-mine", "binder/binder-new"]
    assert sorted(result.kept_for_others) == ["binder/binder-both", "binder/binder-theirs"]
    assert result.unclaimed == []


def fake_aws_cli(tmp_path: Path, ecr: FakeEcr) -> tuple[Path, Path]:
    """An `aws` executable answering from `ecr` (its --query evaluated with the CLI's own JMESPath
    library, --output text formatted as the CLI does); returns its folder and its call log."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    state = tmp_path / "ecr.json"
    calls = tmp_path / "calls.jsonl"
    state.write_text(json.dumps({"tags": ecr.tags}))
    program = f"""#!{sys.executable}
import json, sys
import jmespath
args = sys.argv[1:]
state = json.load(open({str(state)!r}))
with open({str(calls)!r}, "a") as log:
    log.write(json.dumps(args) + "\\n")
def option(name):
    return args[args.index(name) + 1]
arn_prefix = {ACCOUNT_ARN!r}
if args[:2] == ["ecr", "describe-repositories"]:
    repos = [{{"repositoryName": n, "repositoryArn": arn_prefix + n}} for n in state["tags"]]
    found = jmespath.search(option("--query"), {{"repositories": repos}})
    assert option("--output") == "text"
    print("\\n".join("\\t".join(row) for row in found))
elif args[:2] == ["ecr", "put-lifecycle-policy"]:
    json.loads(option("--lifecycle-policy-text"))
elif args[:2] == ["ecr", "tag-resource"]:
    name = option("--resource-arn").removeprefix(arn_prefix)
    state["tags"][name].update({{t["Key"]: t["Value"] for t in json.loads(option("--tags"))}})
    json.dump(state, open({str(state)!r}, "w"))
else:
    sys.exit(f"unexpected aws call {{args}}")
"""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "aws").write_text(program)
    (bin_dir / "aws").chmod(0o755)
    return bin_dir, calls


def run_lifecycle_job(tmp_path: Path, ecr: FakeEcr, namespace: str, claim_tag: str) -> list[list[str]]:
    """The CronJob's script as its container runs it (`/bin/sh -c`, env from the job); `ecr`
    takes the tags it set. Returns the aws calls it made."""
    bin_dir, calls = fake_aws_cli(tmp_path, ecr)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "NAMESPACE": namespace,
        "CLAIM_TAG": claim_tag,
        "POLICY": lifecycle_policy(30),
    }
    subprocess.run(["/bin/sh", "-c", LIFECYCLE_SCRIPT], env=env, check=True, timeout=60)
    ecr.tags = json.loads((tmp_path / "ecr.json").read_text())["tags"]
    return [json.loads(line) for line in calls.read_text().splitlines()]


def test_the_expiry_job_claims_every_repository_in_its_namespace_and_nothing_else(tmp_path: Path) -> None:
    ecr = FakeEcr({"binder/a": {}, "binder/b": {OTHER: "in-use"}, "binder-x/c": {}, "other/binder/d": {}})
    calls = run_lifecycle_job(tmp_path, ecr, "binder", ME)
    assert sorted(c[c.index("--repository-name") + 1] for c in calls if c[1] == "put-lifecycle-policy") == [
        "binder/a",
        "binder/b",
    ]
    assert ecr.tags == {
        "binder/a": {ME: "in-use"},
        "binder/b": {OTHER: "in-use", ME: "in-use"},
        "binder-x/c": {},
        "other/binder/d": {},
    }


def test_two_stacks_sharing_an_explicit_prefix_never_delete_each_others_images(tmp_path: Path) -> None:
    # Both set registry.prefix: binder (as Pulumi.aws.yaml does), so their repositories share a
    # namespace; each stack's expiry job has run at least once.
    ecr = FakeEcr({"binder/binder-lecture": {}, "binder/binder-lab": {}})
    run_lifecycle_job(tmp_path / "one", ecr, "binder", ME)
    run_lifecycle_job(tmp_path / "other", ecr, "binder", OTHER)
    first = delete_ecr_repositories(ecr, "binder", ME, exclusive=False)
    assert first.deleted == [] and sorted(ecr.tags) == ["binder/binder-lab", "binder/binder-lecture"]
    second = delete_ecr_repositories(ecr, "binder", OTHER, exclusive=False)  # the last user goes
    assert sorted(second.deleted) == ["binder/binder-lab", "binder/binder-lecture"] and ecr.tags == {}


def test_the_delete_hook_asks_the_stacks_region_and_reports(tmp_path: Path) -> None:
    start_unit_runtime()
    ecr = shared_namespace_ecr()
    regions: list[str] = []

    def clients(region: str) -> AwsClients:
        regions.append(region)
        return AwsClients(sts=FakeSts("123456789012"), ecr=ecr)

    hook = ecr_repositories_hook("registry", "eu-west-1", "binder", ME, False, clients=clients)
    assert hook.name == "registry-delete-repositories"
    role = "urn:pulumi:aws::binderhub::binderhub:registry:EcrRegistry$aws:iam/role:Role::registry-helper"
    hook.callback(
        pulumi.ResourceHookArgs(
            urn=role,
            id="registry-helper",
            name="registry-helper",
            type="aws:iam/role:Role",
            old_outputs={"arn": "arn:aws:iam::123456789012:role/registry-helper-1a2b3c4"},
        )
    )
    assert regions == ["eu-west-1"]
    assert ecr.deleted == [("binder/binder-mine", True)]


def test_the_hook_talks_to_the_cluster_of_the_stack_kubeconfig() -> None:
    kubeconfig = """
apiVersion: v1
kind: Config
clusters:
- {name: lab, cluster: {server: "https://203.0.113.10:6443"}}
- {name: other, cluster: {server: "https://198.51.100.1:6443"}}
users:
- {name: admin, user: {client-certificate-data: Y2VydA==, client-key-data: a2V5LXNlY3JldA==}}
contexts:
- {name: lab, context: {cluster: lab, user: admin}}
- {name: other, context: {cluster: other, user: admin}}
current-context: other
"""
    with kube_api_from_kubeconfig(kubeconfig, "lab") as api:
        configuration = api.api_client.configuration  # type: ignore[attr-defined]
        assert configuration.host == "https://203.0.113.10:6443"
        key_file = Path(configuration.key_file)
        assert key_file.read_bytes() == b"key-secret"
        if Path("/dev/shm").is_dir():  # in memory, not on a disk
            assert key_file.is_relative_to("/dev/shm")
    assert not key_file.exists(), "the client key outlived the cleanup"
    with kube_api_from_kubeconfig(kubeconfig, "lab") as again:  # a second teardown step works too
        assert Path(again.api_client.configuration.key_file).exists()  # type: ignore[attr-defined]
