"""AcrRegistry: an Azure Container Registry the nodes pull from and BinderHub pushes to.

Image expiry (`registry.expireAfterDays`, like ECR's lifecycle policy and Artifact Registry's
cleanup policy): an ACR Task runs `acr purge` once a day inside the registry, deleting the tags
of BinderHub's repositories last updated more than N days ago and the manifests left untagged
(BinderHub rebuilds an image on its next launch). ACR's retention policy is no substitute: it
only deletes untagged manifests, and only on the Premium tier.
"""

import base64
import re
import shlex
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure
import pulumi_azuread as azuread
import pulumi_random as random

from components.registry import RegistrySettings
from components.rotation import rotation_window

# Built-in roles (same GUIDs in every tenant).
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
# The purge runs daily (UTC, ACR timer triggers' cron); a run may take up to an hour.
PURGE_SCHEDULE = "0 3 * * *"
PURGE_TIMEOUT_SECONDS = 3600
PURGE_TASK_NAME = "binderhub-purge"
# ACR names: 5-50 alphanumerics, unique across Azure. The random suffix supplies uniqueness.
_SUFFIX_LENGTH = 8
_MAX_BASE_LENGTH = 50 - _SUFFIX_LENGTH


def registry_name_base(*parts: str) -> str:
    """The readable start of the registry name: alphanumerics only, lower case, length-capped."""
    base = re.sub(r"[^a-z0-9]", "", "".join(parts).lower())[:_MAX_BASE_LENGTH]
    return base or "binderhub"


def purge_filter(project: str, prefix: str) -> str:
    """`acr purge --filter` for BinderHub's images: `<repository regex>:<tag regex>`.

    The repositories BinderHub pushes are `<project>/<prefix>-<slug>` (the image prefix it is
    given); acr-cli matches the regex anywhere in a name (regexp2 `MatchString`, Azure/acr-cli
    `GetMatchingRepos`), so it is anchored to leave other repositories in the registry alone.
    `project` and `prefix` are image path components (letters, digits, `.`, `_`, `-`): escaped,
    they match themselves.
    """
    return f"^{re.escape(f'{project}/{prefix}-')}.*:.*"


def purge_command(project: str, prefix: str, days: int) -> str:
    """The ACR Task step: delete tags older than `days` days, then the manifests left untagged."""
    return f"acr purge --filter {shlex.quote(purge_filter(project, prefix))} --ago {days}d --untagged"


def purge_task_yaml(command: str) -> str:
    """An ACR Task (v1.1.0 YAML) of one `cmd` step; `acr` is ACR's alias for its acr-cli image,
    which authenticates to the registry the task runs in on its own."""
    return (
        "version: v1.1.0\n"
        "steps:\n"
        f"  - cmd: {command}\n"
        "    disableWorkingDirectoryOverride: true\n"
        f"    timeout: {PURGE_TIMEOUT_SECONDS}\n"
    )


def _role_definition_id(role_guid: str) -> pulumi.Output[str]:
    """A built-in role's id in the deployment's subscription (the form Azure returns, so no diff)."""
    subscription = azure.authorization.get_client_config_output().subscription_id
    return pulumi.Output.concat(
        "/subscriptions/", subscription, "/providers/Microsoft.Authorization/roleDefinitions/", role_guid
    )


@dataclass(frozen=True)
class AcrRegistryArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    # The AKS nodes' (kubelet) identity: the only input that waits for the cluster.
    kubelet_object_id: pulumi.Input[str]
    name_base: str  # alphanumerics, see registry_name_base
    prefix: str = "binder"  # image name prefix (registry.prefix)
    project: str = "binder"  # the repository level BinderHub expects before the image name
    sku: str = "Basic"
    protect: bool = False  # the registry only (images are the state worth keeping)
    expire_after_days: int = 30  # registry.expireAfterDays
    credential_lifetime_days: int = 90  # registry.credentialLifetimeDays: the push password's life
    credential_rotation: str | None = None  # registry.credentialRotation: a new value replaces it now


class AcrRegistry(pulumi.ComponentResource):
    """An ACR, pull access for the nodes, and push credentials scoped to this registry alone.

    Push credentials: azure-native can create an ACR scope-map token but cannot return its
    password (ACR's generateCredentials action is not exposed), and the admin user can do
    anything in the registry. So the builder authenticates as an Entra application + service
    principal (pulumi-azuread) whose password is a Pulumi secret and whose only permission is
    the built-in AcrPush role on this registry: it can push and pull images here and nothing
    else in the subscription. The nodes pull with their own kubelet identity (AcrPull), so user
    pods need no image pull secret.

    The password expires `credential_lifetime_days` after the start of its rotation window
    (components/rotation.py): the first `pulumi up` in the next window, or after
    `credential_rotation` changes, creates a new password, hands it to the hub, then deletes
    the old one. It is the one long-lived secret on Azure: BinderHub pushes with a static
    docker config (username and password), and ACR offers no keyless push for it: a token
    exchanged for an Entra login lasts hours, and nothing in BinderHub renews one.
    """

    registry: azure.containerregistry.Registry
    login_server: pulumi.Output[str]
    client_id: pulumi.Output[str]  # the push application's id: the registry username
    password: pulumi.Output[str]  # secret
    pull_role: azure.authorization.RoleAssignment
    push_role: azure.authorization.RoleAssignment
    purge_task: azure.containerregistry.Task
    settings: RegistrySettings

    def __init__(self, name: str, args: AcrRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:registry:AcrRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        suffix = random.RandomString(
            f"{name}-suffix", length=_SUFFIX_LENGTH, special=False, upper=False, numeric=True, opts=child
        )
        self.registry = azure.containerregistry.Registry(
            f"{name}-acr",
            registry_name=pulumi.Output.concat(args.name_base, suffix.result),
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku=azure.containerregistry.SkuArgs(name=args.sku),
            admin_user_enabled=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.login_server = self.registry.login_server
        registry_id = self.registry.id

        self.pull_role = azure.authorization.RoleAssignment(
            f"{name}-kubelet-pull",
            principal_id=args.kubelet_object_id,
            principal_type="ServicePrincipal",
            role_definition_id=_role_definition_id(ACR_PULL),
            scope=registry_id,
            opts=child,
        )

        application = azuread.Application(
            f"{name}-push-app",
            display_name=f"{args.name_base} registry push",
            sign_in_audience="AzureADMyOrg",
            opts=child,
        )
        principal = azuread.ServicePrincipal(f"{name}-push-sp", client_id=application.client_id, opts=child)
        rotation = rotation_window(args.credential_lifetime_days, args.credential_rotation)
        secret = azuread.ApplicationPassword(
            f"{name}-push-password",
            application_id=application.id,
            display_name="binderhub image builder",
            # Both replace the password when they change (ForceNew); the window changes both.
            end_date=rotation.expires_rfc3339,
            rotate_when_changed=rotation.keepers,
            opts=child,
        )
        self.push_role = azure.authorization.RoleAssignment(
            f"{name}-push",
            principal_id=principal.object_id,
            # Stated explicitly: a brand-new principal may not have replicated yet.
            principal_type="ServicePrincipal",
            role_definition_id=_role_definition_id(ACR_PUSH),
            scope=registry_id,
            opts=child,
        )
        self.client_id = application.client_id
        self.password = pulumi.Output.secret(secret.value)
        self.purge_task = self._purge_task(name, args)

        host = self.login_server
        self.settings = RegistrySettings(
            kind="acr",
            image_prefix=pulumi.Output.concat(host, "/", args.project, "/", args.prefix, "-"),
            url=pulumi.Output.concat("https://", host),
            auth_url=pulumi.Output.concat("https://", host),
            token_url=pulumi.Output.concat("https://", host, "/oauth2/token?service=", host),
            username=self.client_id,
            password=self.password,
            nodes_can_pull=True,
            # Builds push and user pods pull only once the roles exist.
            depends_on=[self.pull_role, self.push_role],
        )
        self.register_outputs(
            {"login_server": self.login_server, "client_id": self.client_id, "password": self.password}
        )

    def _purge_task(self, name: str, args: AcrRegistryArgs) -> azure.containerregistry.Task:
        """The daily `acr purge` (API 2019-06-01-preview, what azure-native 3.29.0 exposes).

        Least privilege: no managed identity and no role assignment. A run logs in to its own
        registry with a token ACR issues for that run (login mode Default) and can reach no
        other resource. A registry switched to ABAC repository permissions gives task runs no
        such access any more; this API version cannot name an identity for the source registry
        (docs/azure.md).
        """
        command = purge_command(args.project, args.prefix, args.expire_after_days)
        return azure.containerregistry.Task(
            f"{name}-purge",
            task_name=PURGE_TASK_NAME,
            registry_name=self.registry.name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            status="Enabled",
            platform=azure.containerregistry.PlatformPropertiesArgs(os="Linux", architecture="amd64"),
            agent_configuration=azure.containerregistry.AgentPropertiesArgs(cpu=2),
            timeout=PURGE_TIMEOUT_SECONDS,
            # No source context (the CLI's `--context /dev/null`): the step is the whole task.
            step=azure.containerregistry.EncodedTaskStepArgs(
                type="EncodedTask",
                encoded_task_content=base64.b64encode(purge_task_yaml(command).encode()).decode(),
            ),
            credentials=azure.containerregistry.CredentialsArgs(
                source_registry=azure.containerregistry.SourceRegistryCredentialsArgs(login_mode="Default")
            ),
            trigger=azure.containerregistry.TriggerPropertiesArgs(
                timer_triggers=[
                    azure.containerregistry.TimerTriggerArgs(name="daily", schedule=PURGE_SCHEDULE, status="Enabled")
                ]
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
