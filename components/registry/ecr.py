"""EcrRegistry: Amazon ECR through the BinderHub container registry helper.

ECR needs a repository per image before the first push, which BinderHub cannot create; the
helper (https://github.com/manics/binderhub-container-registry-helper) does it on demand and
hands build pods short-lived push credentials (`/token`, ECR GetAuthorizationToken), which
BinderHub's `ExternalRegistryHelper` passes to each build: no long-lived registry password.

The helper authenticates to AWS with IRSA: a role only its service account can assume, allowed
to work on repositories under the stack's repository namespace (`<namespace>/`) and nothing
else. Nodes pull with their own role. ECR repositories created at run time are not Pulumi
resources, so a lifecycle policy cannot be attached to them here: an hourly CronJob (its own
IRSA role) puts the expiry policy on every repository under the namespace and tags it as used
by this stack (a claim), and a delete hook on the helper's role removes the stack's
repositories on destroy.

Stacks sharing one account: the namespace is the stack's own unless `registry.prefix` is set
(then it is that prefix, which other stacks may set too). The delete hook removes a repository
only when no other stack claims it, and, in a namespace that is not the stack's own, only when
this stack claimed it: an explicit prefix shared by two stacks never loses the other's images.

Other accounts: the hook runs with whatever AWS credentials `pulumi destroy` has. Before it
deletes anything it asks STS which account those are and compares it with the account of the
helper role being deleted (from its ARN in the stack's state); a different or unknown account
deletes nothing (a warning says so and how to finish by hand). Listing and deleting name that
account's registry explicitly, so no repository of another account is touched.
"""

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.cluster import NODE_PURPOSE_LABEL
from components.cluster.eks import irsa_trust_policy
from components.helm import helm_chart
from components.registry import RegistrySettings
from versions import StackCharts

HELPER_RELEASE = "binderhub-container-registry-helper"
CHART = "binderhub-container-registry-helper"
# fullnameOverride pins the names the chart gives its Service and the port it listens on.
HELPER_SERVICE = HELPER_RELEASE
HELPER_PORT = 8080
HELPER_SERVICE_ACCOUNT = "binderhub-container-registry-helper"
LIFECYCLE_SERVICE_ACCOUNT = "binderhub-ecr-lifecycle"
# Pinned AWS CLI for the lifecycle CronJob.
AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.15.0"
# Repository tags saying which stacks use a repository: `<CLAIM_TAG_PREFIX><project>/<stack>`.
CLAIM_TAG_PREFIX = "binderhub-stack:"
# ECR tag keys: at most 128 characters.
_TAG_KEY_LENGTH = 128
# ECR repository names: path components of lowercase letters and digits joined by '.', '_', '-'.
_NAMESPACE_LENGTH = 100

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
    charts: StackCharts
    prefix: str  # image names: `<repository_namespace>/<prefix>-<slug>`
    # Every repository the helper creates lies under `<repository_namespace>/`.
    repository_namespace: str
    claim_tag: str  # this stack's claim tag key (claim_tag_key)
    # True when no other stack writes under the namespace (derived from project and stack): an
    # unclaimed repository there is this stack's. False for an explicit registry.prefix.
    exclusive_namespace: bool
    expire_after_days: int
    region: str
    partition: str
    account_id: pulumi.Input[str]
    dns_suffix: str  # amazonaws.com (amazonaws.com.cn in China)
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    # The helper's own Kubernetes namespace: it runs before the hub namespace exists, and the IRSA trust
    # conditions name it.
    namespace: str = "binderhub-registry"


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


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def stack_namespace(project: str, stack: str) -> str:
    """The stack's own repository namespace: `<project>-<stack>` as one ECR path component.

    Lowercase letters and digits separated by '-', at most 100 characters. When that loses
    information (upper case, other characters, length), a hash of the exact names is appended,
    so `Dev` and `dev` still get different namespaces.
    """
    exact = f"{project}-{stack}"
    slug = re.sub(r"[^a-z0-9]+", "-", exact.lower()).strip("-") or "binderhub"
    if slug == exact and len(slug) <= _NAMESPACE_LENGTH:
        return slug
    return f"{slug[: _NAMESPACE_LENGTH - 9].rstrip('-')}-{_short_hash(exact)}"


def claim_tag_key(project: str, stack: str) -> str:
    """The tag key by which a stack claims a repository (hashed if ECR's 128 characters do not fit)."""
    key = f"{CLAIM_TAG_PREFIX}{project}/{stack}"
    if len(key) <= _TAG_KEY_LENGTH:
        return key
    return f"{key[: _TAG_KEY_LENGTH - 9]}-{_short_hash(key)}"


def repositories_arn(partition: str, region: str, account_id: str, namespace: str) -> str:
    return f"arn:{partition}:ecr:{region}:{account_id}:repository/{namespace}/*"


def _all(repositories: str) -> str:
    """`arn:...:repository/<namespace>/*` -> `arn:...:repository/*`."""
    return repositories.split(":repository/", 1)[0] + ":repository/*"


# The lifecycle CronJob's script (AWS CLI v2 image; NAMESPACE, CLAIM_TAG, POLICY in its env).
# The listing is read first, so a failed describe-repositories fails the job.
LIFECYCLE_SCRIPT = """set -eu
repositories=$(aws ecr describe-repositories --output text \\
  --query "repositories[?starts_with(repositoryName, '$NAMESPACE/')].[repositoryName,repositoryArn]")
printf '%s\\n' "$repositories" | while read -r name arn; do
  [ -n "$name" ] || continue
  aws ecr put-lifecycle-policy --repository-name "$name" --lifecycle-policy-text "$POLICY" >/dev/null
  aws ecr tag-resource --resource-arn "$arn" --tags "[{\\"Key\\": \\"$CLAIM_TAG\\", \\"Value\\": \\"in-use\\"}]"
done
"""


class EcrRegistry(pulumi.ComponentResource):
    settings: RegistrySettings
    namespace: k8s.core.v1.Namespace
    role: aws.iam.Role
    auth_token: pulumi.Output[str]
    service_url: str
    image_prefix: pulumi.Output[str]

    def __init__(self, name: str, args: EcrRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:registry:EcrRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Protected with the component under binderhub:protect (deleting it deletes the helper).
        # Created by stacks/aws.py at the stack's root before it moved here: the alias keeps it.
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": args.namespace},
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]),
        )
        host = pulumi.Output.concat(args.account_id, f".dkr.ecr.{args.region}.{args.dns_suffix}")
        repositories = pulumi.Output.from_input(args.account_id).apply(
            lambda account: repositories_arn(args.partition, args.region, account, args.repository_namespace)
        )

        # RandomPassword marks `result` secret; letters and digits only (it goes in a header).
        self.auth_token = random.RandomPassword(f"{name}-helper-token", length=48, special=False, opts=child).result

        self.role = aws.iam.Role(
            f"{name}-helper",
            assume_role_policy=irsa_trust_policy(
                args.oidc_provider_arn, args.oidc_issuer, args.namespace, HELPER_SERVICE_ACCOUNT
            ),
            # Deleted after the helper and the hub (they use it): then no build can create another
            # repository, and the ones created at run time go with the stack.
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    hooks=pulumi.ResourceHookBinding(
                        after_delete=[
                            ecr_repositories_hook(
                                name, args.region, args.repository_namespace, args.claim_tag, args.exclusive_namespace
                            )
                        ]
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
        self.service_url = f"http://{HELPER_SERVICE}.{args.namespace}.svc:{HELPER_PORT}"
        self.release = helm_chart(
            f"{name}-helper",
            args.charts.ref(CHART),
            HELPER_RELEASE,
            self.namespace.metadata.name,
            {
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
            pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

        lifecycle = self._lifecycle(name, args, repositories)

        self.image_prefix = pulumi.Output.concat(host, f"/{args.repository_namespace}/{args.prefix}-")
        self.settings = RegistrySettings(
            kind="ecr",
            # `<host>/<namespace>/<prefix>-<slug>`: every repository lands under `<namespace>/`,
            # the only place the helper's role may write.
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
        """Hourly: on every repository under the namespace (new ones included), put the expiry
        policy and this stack's claim tag (what the delete hook reads)."""
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-lifecycle",
            assume_role_policy=irsa_trust_policy(
                args.oidc_provider_arn, args.oidc_issuer, args.namespace, LIFECYCLE_SERVICE_ACCOUNT
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
                            # it reads names only, changes stay limited to the namespace.
                            {"Effect": "Allow", "Action": "ecr:DescribeRepositories", "Resource": _all(arn)},
                            {
                                "Effect": "Allow",
                                "Action": ["ecr:PutLifecyclePolicy", "ecr:TagResource"],
                                "Resource": arn,
                            },
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
                "namespace": self.namespace.metadata.name,
                "annotations": {"eks.amazonaws.com/role-arn": role.arn},
            },
            opts=child,
        )
        script = LIFECYCLE_SCRIPT
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
                            "nodeSelector": {NODE_PURPOSE_LABEL: "core"},
                            "containers": [
                                {
                                    "name": "lifecycle",
                                    "image": AWS_CLI_IMAGE,
                                    "command": ["/bin/sh", "-c", script],
                                    "env": [
                                        {"name": "AWS_REGION", "value": args.region},
                                        {"name": "NAMESPACE", "value": args.repository_namespace},
                                        {"name": "CLAIM_TAG", "value": args.claim_tag},
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
            metadata={"name": "binderhub-ecr-lifecycle", "namespace": self.namespace.metadata.name},
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account, policy]),
        )


class EcrClient(Protocol):
    """The part of boto3's ECR client the delete hook uses."""

    def get_paginator(self, operation_name: str) -> Any: ...
    def list_tags_for_resource(self, *, resourceArn: str) -> Any: ...  # noqa: N803 (boto3's names)
    def untag_resource(self, *, resourceArn: str, tagKeys: list[str]) -> Any: ...  # noqa: N803
    def delete_repository(self, *, repositoryName: str, force: bool, registryId: str = ...) -> Any: ...  # noqa: N803


class StsClient(Protocol):
    """The part of boto3's STS client the delete hook uses."""

    def get_caller_identity(self) -> Any: ...


@dataclass(frozen=True)
class AwsClients:
    """STS and ECR clients of one credential chain: the account STS names is the one ECR acts in."""

    sts: StsClient
    ecr: EcrClient


def account_of_arn(arn: object) -> str | None:
    """The 12-digit account of an ARN (`arn:<partition>:<service>:<region>:<account>:...`), else None."""
    if not isinstance(arn, str):
        return None
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn" or not re.fullmatch(r"\d{12}", parts[4]):
        return None
    return parts[4]


@dataclass
class RepositoryCleanup:
    """What the delete hook did, by repository name."""

    deleted: list[str] = field(default_factory=list)
    # Claimed by another stack: kept (this stack's claim removed).
    kept_for_others: list[str] = field(default_factory=list)
    # In a namespace other stacks may share, claimed by none yet (created within the hour
    # before the destroy): kept, since it may be another stack's.
    unclaimed: list[str] = field(default_factory=list)


def delete_ecr_repositories(
    ecr: EcrClient, namespace: str, claim_tag: str, exclusive: bool, registry_id: str | None = None
) -> RepositoryCleanup:
    """Delete this stack's repositories under `<namespace>/`, images included.

    A repository is this stack's when it carries `claim_tag` and no other stack's claim tag
    (`CLAIM_TAG_PREFIX...`), or, in an `exclusive` namespace, carries no claim at all. One that
    another stack also claims only loses this stack's claim. `registry_id` (an account id):
    list and delete in that account's registry only (ECR's default is the caller's).
    """
    result = RepositoryCleanup()
    in_registry: dict[str, str] = {} if registry_id is None else {"registryId": registry_id}
    pages: Iterable[dict[str, Any]] = ecr.get_paginator("describe_repositories").paginate(**in_registry)
    for repo in (r for page in pages for r in page.get("repositories", [])):
        name: str = repo["repositoryName"]
        if not name.startswith(namespace + "/"):
            continue
        if registry_id is not None and account_of_arn(repo["repositoryArn"]) != registry_id:
            continue  # ECR answered for another registry: not this stack's
        tags = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"]).get("tags", [])
        claims = {tag["Key"] for tag in tags if tag["Key"].startswith(CLAIM_TAG_PREFIX)}
        if claims - {claim_tag}:
            if claim_tag in claims:
                ecr.untag_resource(resourceArn=repo["repositoryArn"], tagKeys=[claim_tag])
            result.kept_for_others.append(name)
        elif claims or exclusive:
            ecr.delete_repository(repositoryName=name, force=True, **in_registry)
            result.deleted.append(name)
        else:
            result.unclaimed.append(name)
    return result


def ecr_repositories_hook(
    name: str,
    region: str,
    namespace: str,
    claim_tag: str,
    exclusive: bool,
    clients: Callable[[str], AwsClients] | None = None,
) -> pulumi.ResourceHook:
    """An after-delete hook on the helper's role: the repositories the helper created for this
    stack go too, if the ambient credentials are of the stack's account.

    The stack's account is the one in the deleted role's ARN (`old_outputs["arn"]`, from the
    state); the ambient one is STS GetCallerIdentity's. `clients(region)` gives both clients
    (default: one boto3 session, with the user's credentials).
    """

    def delete(args: pulumi.ResourceHookArgs) -> None:
        aws_clients = clients(region) if clients is not None else _boto3_clients(region)
        stack_account = account_of_arn((args.old_outputs or {}).get("arn"))
        ambient: Mapping[str, Any] = aws_clients.sts.get_caller_identity()
        ambient_account = ambient.get("Account")
        manual = (
            f"Delete this stack's repositories under {namespace}/ with the stack's account's credentials: "
            "aws ecr delete-repository --force --repository-name <name>"
        )
        if stack_account is None:
            pulumi.log.warn(f"ECR repositories kept: the stack's AWS account is not known from its state. {manual}")
            return
        if ambient_account != stack_account:
            pulumi.log.warn(
                f"ECR repositories kept: the credentials in use are of AWS account {ambient_account}, "
                f"the stack's repositories are in account {stack_account}. {manual}"
            )
            return
        result = delete_ecr_repositories(aws_clients.ecr, namespace, claim_tag, exclusive, registry_id=stack_account)
        pulumi.log.info(f"deleted {len(result.deleted)} ECR repositories under {namespace}/")
        if result.kept_for_others:
            pulumi.log.info(f"kept {len(result.kept_for_others)} that other stacks also use: {result.kept_for_others}")
        if result.unclaimed:
            pulumi.log.warn(
                f"kept {len(result.unclaimed)} ECR repositories under {namespace}/ that no stack had claimed yet "
                f"(registry.prefix {namespace!r} may be shared): {', '.join(result.unclaimed)}. "
                "Delete the ones no other stack uses: aws ecr delete-repository --force --repository-name <name>"
            )

    return pulumi.ResourceHook(f"{name}-delete-repositories", delete, pulumi.ResourceHookOptions(ignore_errors=True))


def _boto3_clients(region: str) -> AwsClients:
    import boto3  # only needed at teardown

    # One session: STS answers for exactly the credentials ECR then uses.
    session = boto3.Session(region_name=region)
    sts: Any = session.client("sts")  # boto3 clients are generated at run time
    ecr: Any = session.client("ecr")
    return AwsClients(sts=sts, ecr=ecr)
