"""EcrRegistry: Amazon ECR through the BinderHub container registry helper.

ECR needs a repository per image before the first push, which BinderHub cannot create; the
helper (https://github.com/manics/binderhub-container-registry-helper) does it on demand and
hands build pods short-lived push credentials (`/token`, ECR GetAuthorizationToken), which
BinderHub's `ExternalRegistryHelper` passes to each build: no long-lived registry password.

The helper authenticates to AWS with IRSA: a role only its service account can assume, allowed
to work on repositories under `<prefix>/` and nothing else. Nodes pull with their own role.
ECR repositories created at run time are not Pulumi resources, so a lifecycle policy cannot be
attached to them here: an hourly CronJob (its own IRSA role) puts the expiry policy on every
repository under the prefix, and a delete hook on the helper's role removes them on destroy.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.cluster.eks import irsa_trust_policy
from components.registry import RegistrySettings
from versions import ChartRef

HELPER_RELEASE = "binderhub-container-registry-helper"
# fullnameOverride pins the names the chart gives its Service and the port it listens on.
HELPER_SERVICE = HELPER_RELEASE
HELPER_PORT = 8080
HELPER_SERVICE_ACCOUNT = "binderhub-container-registry-helper"
LIFECYCLE_SERVICE_ACCOUNT = "binderhub-ecr-lifecycle"
# Pinned AWS CLI for the lifecycle CronJob.
AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.15.0"

# What the helper (and, through its tokens, the build pods) may do on our repositories.
REPOSITORY_ACTIONS = [
    "ecr:CreateRepository",
    "ecr:DescribeRepositories",
    "ecr:DescribeImages",
    "ecr:ListImages",
    "ecr:BatchGetImage",
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:GetLifecyclePolicy",
    "ecr:PutLifecyclePolicy",
]


@dataclass(frozen=True)
class EcrRegistryArgs:
    chart: ChartRef
    namespace: pulumi.Input[str]  # where the helper runs (its own namespace)
    namespace_name: str  # the same, as a plain string for the IRSA condition
    prefix: str
    expire_after_days: int
    region: str
    partition: str
    account_id: pulumi.Input[str]
    dns_suffix: str  # amazonaws.com (amazonaws.com.cn in China)
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]


def lifecycle_policy(expire_after_days: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"expire images {expire_after_days} days after push",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": expire_after_days,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    )


def repositories_arn(partition: str, region: str, account_id: str, prefix: str) -> str:
    return f"arn:{partition}:ecr:{region}:{account_id}:repository/{prefix}/*"


def _all(repositories: str) -> str:
    """`arn:...:repository/<prefix>/*` -> `arn:...:repository/*`."""
    return repositories.split(":repository/", 1)[0] + ":repository/*"


class EcrRegistry(pulumi.ComponentResource):
    settings: RegistrySettings
    role: aws.iam.Role
    auth_token: pulumi.Output[str]
    service_url: str
    image_prefix: pulumi.Output[str]

    def __init__(self, name: str, args: EcrRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:registry:EcrRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        host = pulumi.Output.concat(args.account_id, f".dkr.ecr.{args.region}.{args.dns_suffix}")
        repositories = pulumi.Output.from_input(args.account_id).apply(
            lambda account: repositories_arn(args.partition, args.region, account, args.prefix)
        )

        # RandomPassword marks `result` secret; letters and digits only (it goes in a header).
        self.auth_token = random.RandomPassword(f"{name}-helper-token", length=48, special=False, opts=child).result

        self.role = aws.iam.Role(
            f"{name}-helper",
            assume_role_policy=irsa_trust_policy(
                args.oidc_provider_arn, args.oidc_issuer, args.namespace_name, HELPER_SERVICE_ACCOUNT
            ),
            # Deleted after the helper and the hub (they use it): then no build can create another
            # repository, and the ones created at run time go with the stack.
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    hooks=pulumi.ResourceHookBinding(
                        after_delete=[ecr_repositories_hook(name, args.region, args.prefix)]
                    )
                ),
            ),
        )
        policy = aws.iam.RolePolicy(
            f"{name}-helper",
            role=self.role.id,
            policy=repositories.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            # Registry-wide by design: GetAuthorizationToken has no resource scope;
                            # the token only carries this role's repository permissions below.
                            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                            {"Effect": "Allow", "Action": REPOSITORY_ACTIONS, "Resource": arn},
                        ],
                    }
                )
            ),
            opts=child,
        )

        # BinderHub runs in another namespace: the Service's cluster DNS name, not the short one.
        self.service_url = f"http://{HELPER_SERVICE}.{args.namespace_name}.svc:{HELPER_PORT}"
        self.release = k8s.helm.v4.Chart(
            f"{name}-helper",
            chart=args.chart.chart,
            version=args.chart.version,
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=args.chart.repo) if args.chart.repo else None,
            name=HELPER_RELEASE,
            namespace=args.namespace,
            values={
                "fullnameOverride": HELPER_SERVICE,
                "cloud_provider": "amazon",
                "auth_token": self.auth_token,
                # Internal details (account, ARNs) stay in the helper's log, not in responses.
                "return_error_details": False,
                "serviceAccount": {
                    "create": True,
                    "name": HELPER_SERVICE_ACCOUNT,
                    "annotations": {"eks.amazonaws.com/role-arn": self.role.arn},
                },
                "service": {"type": "ClusterIP", "port": HELPER_PORT},
            },
            # The pod must not start before its role may act, or its first calls fail.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

        lifecycle = self._lifecycle(name, args, repositories)

        self.image_prefix = pulumi.Output.concat(host, f"/{args.prefix}/{args.prefix}-")
        self.settings = RegistrySettings(
            kind="ecr",
            # `<host>/<prefix>/<prefix>-<slug>`: every repository lands under `<prefix>/`, the
            # only place the helper's role may write.
            image_prefix=self.image_prefix,
            url=pulumi.Output.concat("https://", host),
            auth_url=pulumi.Output.concat("https://", host),
            registry_class="binderhub.registry.ExternalRegistryHelper",
            binderhub_config={
                "ExternalRegistryHelper": {"service_url": self.service_url, "auth_token": self.auth_token}
            },
            nodes_can_pull=True,
            depends_on=[self.release, lifecycle],
        )
        self.register_outputs({"image_prefix": self.image_prefix, "role_arn": self.role.arn})

    def _lifecycle(self, name: str, args: EcrRegistryArgs, repositories: pulumi.Output[str]) -> pulumi.Resource:
        """Hourly: put the expiry policy on every repository under the prefix (new ones included)."""
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-lifecycle",
            assume_role_policy=irsa_trust_policy(
                args.oidc_provider_arn, args.oidc_issuer, args.namespace_name, LIFECYCLE_SERVICE_ACCOUNT
            ),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-lifecycle",
            role=role.id,
            policy=repositories.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            # Listing all repositories is evaluated against `repository/*`;
                            # it reads names only, changes stay limited to the prefix.
                            {"Effect": "Allow", "Action": "ecr:DescribeRepositories", "Resource": _all(arn)},
                            {"Effect": "Allow", "Action": "ecr:PutLifecyclePolicy", "Resource": arn},
                        ],
                    }
                )
            ),
            opts=child,
        )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-lifecycle",
            metadata={
                "name": LIFECYCLE_SERVICE_ACCOUNT,
                "namespace": args.namespace,
                "annotations": {"eks.amazonaws.com/role-arn": role.arn},
            },
            opts=child,
        )
        script = (
            "set -eu\n"
            "for repo in $(aws ecr describe-repositories --output text "
            "--query \"repositories[?starts_with(repositoryName, '$PREFIX/')].repositoryName\"); do\n"
            '  aws ecr put-lifecycle-policy --repository-name "$repo" --lifecycle-policy-text "$POLICY" >/dev/null\n'
            "done\n"
        )
        # A plain document (typed Any): the same shape as `kubectl explain cronjob.spec`.
        spec: Any = {
            "schedule": "17 * * * *",
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 2,
                    "template": {
                        "spec": {
                            "serviceAccountName": LIFECYCLE_SERVICE_ACCOUNT,
                            "restartPolicy": "Never",
                            "nodeSelector": {"hub.jupyter.org/node-purpose": "core"},
                            "containers": [
                                {
                                    "name": "lifecycle",
                                    "image": AWS_CLI_IMAGE,
                                    "command": ["/bin/sh", "-c", script],
                                    "env": [
                                        {"name": "AWS_REGION", "value": args.region},
                                        {"name": "PREFIX", "value": args.prefix},
                                        {"name": "POLICY", "value": lifecycle_policy(args.expire_after_days)},
                                    ],
                                    "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}},
                                }
                            ],
                        }
                    },
                }
            },
        }
        return k8s.batch.v1.CronJob(
            f"{name}-lifecycle",
            metadata={"name": "binderhub-ecr-lifecycle", "namespace": args.namespace},
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account, policy]),
        )


class EcrClient(Protocol):
    def get_paginator(self, operation_name: str) -> Any: ...
    def delete_repository(self, **kwargs: Any) -> Any: ...


def delete_ecr_repositories(ecr: EcrClient, prefix: str) -> list[str]:
    """Delete every repository under `<prefix>/`, images included; returns their names."""
    pages: Iterable[dict[str, Any]] = ecr.get_paginator("describe_repositories").paginate()
    names = [
        repo["repositoryName"]
        for page in pages
        for repo in page.get("repositories", [])
        if repo["repositoryName"].startswith(prefix + "/")
    ]
    for repository in names:
        ecr.delete_repository(repositoryName=repository, force=True)
    return names


def ecr_repositories_hook(name: str, region: str, prefix: str) -> pulumi.ResourceHook:
    """An after-delete hook: the repositories the registry helper created at run time go too."""

    def delete(args: pulumi.ResourceHookArgs) -> None:
        import boto3  # only needed at teardown

        ecr: Any = boto3.client("ecr", region_name=region)  # boto3 clients are generated at run time
        deleted = delete_ecr_repositories(ecr, prefix)
        pulumi.log.info(f"deleted {len(deleted)} ECR repositories under {prefix}/")

    return pulumi.ResourceHook(f"{name}-delete-repositories", delete, pulumi.ResourceHookOptions(ignore_errors=True))
