"""The ECR delete hook acts only in the stack's own AWS account (issue #19 item 4).

`pulumi destroy` runs the hook with whatever credentials are ambient. The clients here are
boto3's own, with botocore's Stubber in place of the network: every request the hook makes is
checked against the service model and against the parameters it must carry, and a request
nobody expected fails the test. So "deletes nothing" means no ECR request was made at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pulumi
import pytest
from botocore.stub import Stubber

from components.registry.ecr import AwsClients, claim_tag_key, ecr_repositories_hook

STACK_ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REGION = "eu-west-1"
ME = claim_tag_key("binderhub", "aws")
HELPER_ROLE_ARN = f"arn:aws:iam::{STACK_ACCOUNT}:role/registry-helper-1a2b3c4"


class Stubbed:
    """Real boto3 STS and ECR clients (dummy keys, no network) behind Stubbers."""

    def __init__(self) -> None:
        session = boto3.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="example", region_name=REGION)
        self.sts: Any = session.client("sts")
        self.ecr: Any = session.client("ecr")
        self.sts_stub = Stubber(self.sts)
        self.ecr_stub = Stubber(self.ecr)
        self.regions: list[str] = []

    def clients(self, region: str) -> AwsClients:
        self.regions.append(region)
        return AwsClients(sts=self.sts, ecr=self.ecr)

    def caller(self, account: str) -> None:
        self.sts_stub.add_response(
            "get_caller_identity",
            {"UserId": "AIDAEXAMPLE", "Account": account, "Arn": f"arn:aws:iam::{account}:user/deployer"},
            {},
        )


@pytest.fixture
def aws() -> Iterator[Stubbed]:
    stubbed = Stubbed()
    with stubbed.sts_stub, stubbed.ecr_stub:
        yield stubbed
        stubbed.sts_stub.assert_no_pending_responses()
        stubbed.ecr_stub.assert_no_pending_responses()


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_, **__: said.append(message))
    monkeypatch.setattr(pulumi.log, "info", lambda *_, **__: None)
    return said


def destroy_helper_role(aws: Stubbed, old_outputs: dict[str, Any] | None) -> None:
    """Run the hook as the engine does after deleting the helper's role."""
    hook = ecr_repositories_hook("registry", REGION, "binder", ME, False, clients=aws.clients)
    hook.callback(
        pulumi.ResourceHookArgs(
            urn="urn:pulumi:aws::binderhub::binderhub:registry:EcrRegistry$aws:iam/role:Role::registry-helper",
            id="registry-helper-1a2b3c4",
            name="registry-helper",
            type="aws:iam/role:Role",
            old_outputs=old_outputs,
        )
    )


def test_credentials_of_another_account_delete_nothing(aws: Stubbed, warnings: list[str]) -> None:
    aws.caller(OTHER_ACCOUNT)  # and no ECR response: any ECR request fails the test
    destroy_helper_role(aws, {"arn": HELPER_ROLE_ARN})
    assert aws.regions == [REGION]
    (warning,) = warnings
    assert OTHER_ACCOUNT in warning and STACK_ACCOUNT in warning
    assert "aws ecr delete-repository" in warning  # how to finish by hand


def test_an_unknown_stack_account_deletes_nothing(aws: Stubbed, warnings: list[str]) -> None:
    aws.caller(STACK_ACCOUNT)
    destroy_helper_role(aws, None)  # no outputs in the state to tell the account by
    assert len(warnings) == 1 and "kept" in warnings[0]


def test_the_stacks_account_deletes_its_repositories_in_its_own_registry(aws: Stubbed, warnings: list[str]) -> None:
    aws.caller(STACK_ACCOUNT)
    arn = f"arn:aws:ecr:{REGION}:{STACK_ACCOUNT}:repository/"
    repository = {"registryId": STACK_ACCOUNT, "repositoryUri": f"{STACK_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/x"}
    aws.ecr_stub.add_response(
        "describe_repositories",
        {
            "repositories": [
                {**repository, "repositoryName": "binder/binder-mine", "repositoryArn": arn + "binder/binder-mine"},
                {**repository, "repositoryName": "team/other", "repositoryArn": arn + "team/other"},
            ]
        },
        {"registryId": STACK_ACCOUNT},  # the stack's registry named, not the caller's default
    )
    aws.ecr_stub.add_response(
        "list_tags_for_resource",
        {"tags": [{"Key": ME, "Value": "in-use"}]},
        {"resourceArn": arn + "binder/binder-mine"},
    )
    aws.ecr_stub.add_response(
        "delete_repository",
        {"repository": {**repository, "repositoryName": "binder/binder-mine"}},
        {"repositoryName": "binder/binder-mine", "force": True, "registryId": STACK_ACCOUNT},
    )
    destroy_helper_role(aws, {"arn": HELPER_ROLE_ARN, "name": "registry-helper-1a2b3c4"})
    assert warnings == []
