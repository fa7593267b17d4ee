"""JupyterHub authentication: which authenticator, its traitlets, and who may use BinderHub."""

from typing import Any

import pulumi

from config import AuthConfig

AUTHENTICATOR_CLASSES = {"none": "null", "github": "github", "generic": "generic-oauth"}
AUTHENTICATOR_SECTIONS = {"github": "GitHubOAuthenticator", "generic": "GenericOAuthenticator"}
# The hub's OAuth client for BinderHub (JupyterHub's convention for service `binder`).
BINDER_OAUTH_CLIENT_ID = "service-binder"


def authenticator_config(
    auth: AuthConfig, client_secret: pulumi.Input[str] | None, callback_url: pulumi.Input[str] | None
) -> dict[str, Any]:
    """`hub.config` entries selecting and configuring the authenticator."""
    config: dict[str, Any] = {"JupyterHub": {"authenticator_class": AUTHENTICATOR_CLASSES[auth.type]}}
    if auth.type == "none":
        # Nobody logs in; BinderHub creates a user per anonymous launch through the API. Saying
        # so stops the hub's "No allow config found" warning at every start.
        config["Authenticator"] = {"allow_all": True}
        return config
    settings: dict[str, Any] = {
        "client_id": auth.client_id,
        "client_secret": client_secret,
        "oauth_callback_url": callback_url,
    }
    # oauthenticator 16+ admits nobody unless a rule allows them.
    if auth.allow_all:
        settings["allow_all"] = True
    if auth.allowed_users:
        settings["allowed_users"] = auth.allowed_users
    if auth.admin_users:
        settings["admin_users"] = auth.admin_users
    if auth.type == "github":
        if auth.allowed_organizations:
            settings["allowed_organizations"] = auth.allowed_organizations
            settings["scope"] = ["read:org"]  # to see private organization membership
    else:
        settings.update(
            authorize_url=auth.authorize_url,
            token_url=auth.token_url,
            userdata_url=auth.userdata_url,
            username_claim=auth.username_claim,
            scope=auth.scope,
        )
        if auth.allowed_groups:
            settings.update(
                allowed_groups=auth.allowed_groups,
                manage_groups=True,
                auth_state_groups_key=f"oauth_user.{auth.groups_claim}",
            )
    if auth.pass_tokens:
        settings["enable_auth_state"] = True
    config[AUTHENTICATOR_SECTIONS[auth.type]] = settings
    return config
