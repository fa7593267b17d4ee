"""The hub's generated secrets, from pulumi_random: stable across runs, secret in state."""

import pulumi
import pulumi_random as random

from components.values.settings import HubSecrets


def _token(name: str, parent: pulumi.Resource | None) -> pulumi.Output[str]:
    # 32 random bytes as hex: the form z2jh documents (`openssl rand -hex 32`) and JupyterHub
    # decodes for cookie and CryptKeeper keys. RandomBytes marks `hex` secret.
    return random.RandomBytes(name, length=32, opts=pulumi.ResourceOptions(parent=parent)).hex


def generate_hub_secrets(prefix: str, parent: pulumi.Resource | None = None) -> HubSecrets:
    return HubSecrets(
        proxy_token=_token(f"{prefix}-proxy-token", parent),
        cookie_secret=_token(f"{prefix}-cookie-secret", parent),
        crypt_key=_token(f"{prefix}-crypt-key", parent),
        binder_api_token=_token(f"{prefix}-binder-api-token", parent),
        build_token_secret=_token(f"{prefix}-build-token-secret", parent),
    )
