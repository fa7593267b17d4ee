"""ArtifactRegistry: a Docker repository in Artifact Registry, pushed to by one service account.

The pusher may write to this repository only (a repository-level binding, nothing at project
level); its JSON key is BinderHub's registry password, with the fixed username `_json_key`.
Nodes pull with their own service account, so user pods need no image pull secret.

The key is the one long-lived credential here: Google gives user-managed keys no expiry of
their own (an organization policy, iam.serviceAccountKeyExpiryHours, can). It is replaced on
the rotation schedule of components/rotation.py (`registry.credentialLifetimeDays`: the first
`pulumi up` after two thirds of it makes a new key) or when `registry.credentialRotation`
changes; the new key is made and handed to BinderHub before the old one is deleted.
"""

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.cluster.gke import KEEP_ACCOUNT_ID, account_id
from components.registry import RegistrySettings
from components.rotation import rotation_window

WRITER_ROLE = "roles/artifactregistry.writer"
READER_ROLE = "roles/artifactregistry.reader"
# Artifact Registry's username for a service account JSON key (the key itself is the password).
JSON_KEY_USERNAME = "_json_key"


def registry_host(region: str) -> str:
    return f"{region}-docker.pkg.dev"


def token_url(host: str) -> str:
    """Google's registries issue Docker tokens at /v2/token for `service=<host>` (as for gcr.io)."""
    return f"https://{host}/v2/token?service={host}"


def decode_key(private_key: str) -> str:
    """The provider returns the key file base64-encoded; Docker wants the JSON itself."""
    return base64.b64decode(private_key).decode()


@dataclass(frozen=True)
class ArtifactRegistryArgs:
    project: str
    region: str
    repository_id: str  # lowercase letters, digits and '-'
    prefix: str  # image names start with `<prefix>-`
    # IAM members allowed to pull, e.g. "serviceAccount:<node service account>".
    reader_members: Sequence[pulumi.Input[str]] = ()
    # Built images are deleted this long after upload; BinderHub rebuilds them on demand.
    expire_after_days: int | None = 30
    # The pusher key's rotation (registry.credentialLifetimeDays, registry.credentialRotation).
    credential_lifetime_days: int = 90
    credential_rotation: str | None = None
    protect: bool = False
    # Resources to wait for (the project's enabled APIs).
    depends_on: Sequence[pulumi.Resource] = ()


class ArtifactRegistry(pulumi.ComponentResource):
    settings: RegistrySettings
    repository: gcp.artifactregistry.Repository
    pusher_email: pulumi.Output[str]
    url: str

    def __init__(self, name: str, args: ArtifactRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:registry:ArtifactRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        host = registry_host(args.region)
        self.url = f"https://{host}"

        cleanup = (
            [
                gcp.artifactregistry.RepositoryCleanupPolicyArgs(
                    id="expire-built-images",
                    action="DELETE",
                    condition=gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs(
                        tag_state="ANY", older_than=f"{args.expire_after_days * 86400}s"
                    ),
                )
            ]
            if args.expire_after_days
            else None
        )
        self.repository = gcp.artifactregistry.Repository(
            name,
            project=args.project,
            location=args.region,
            repository_id=args.repository_id,
            format="DOCKER",
            description="Images built by BinderHub (repo2docker)",
            cleanup_policies=cleanup,
            cleanup_policy_dry_run=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on), protect=args.protect),
        )

        pusher = gcp.serviceaccount.Account(
            f"{name}-pusher",
            project=args.project,
            account_id=account_id(args.repository_id, "push"),
            display_name=f"BinderHub image pusher for {args.repository_id}",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on), ignore_changes=KEEP_ACCOUNT_ID),
        )
        self.pusher_email = pusher.email
        repository_binding = {
            "project": args.project,
            "location": self.repository.location,
            "repository": self.repository.name,
        }
        writer = gcp.artifactregistry.RepositoryIamMember(
            f"{name}-pusher-writer",
            role=WRITER_ROLE,
            member=pusher.email.apply(lambda email: f"serviceAccount:{email}"),
            **repository_binding,
            opts=child,
        )
        readers = [
            gcp.artifactregistry.RepositoryIamMember(
                f"{name}-reader-{index}",
                role=READER_ROLE,
                member=member,
                **repository_binding,
                opts=child,
            )
            for index, member in enumerate(args.reader_members)
        ]
        # New keepers (a new rotation window, a new credentialRotation) replace the key: the
        # replacement is made first, BinderHub gets it, then the old key is deleted.
        rotation = rotation_window(args.credential_lifetime_days, args.credential_rotation)
        key = gcp.serviceaccount.Key(
            f"{name}-pusher-key", service_account_id=pusher.name, keepers=rotation.keepers, opts=child
        )
        password = pulumi.Output.secret(key.private_key.apply(decode_key))

        self.settings = RegistrySettings(
            kind="artifact-registry",
            # `<host>/<project>/<repository>/<prefix>-<image>`: the repository is BinderHub's extra level.
            image_prefix=pulumi.Output.concat(
                host, "/", args.project, "/", self.repository.repository_id, "/", args.prefix, "-"
            ),
            url=self.url,
            auth_url=self.url,
            token_url=token_url(host),
            username=JSON_KEY_USERNAME,
            password=password,
            nodes_can_pull=True,
            # Builds push as soon as the hub runs: the bindings must exist by then.
            depends_on=[writer, *readers],
        )
        self.register_outputs({"repository": self.repository.id, "url": self.url, "pusher_email": self.pusher_email})
