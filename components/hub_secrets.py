"""The hub's generated secrets, from pulumi_random: stable across runs, secret in state."""

import pulumi
import pulumi_random as random

from components.values.settings import HubSecrets


def _token(name: str, opts: pulumi.ResourceOptions | None) -> pulumi.Output[str]:
    # 32 random bytes as hex: the form z2jh documents (`openssl rand -hex 32`) and JupyterHub
    # decodes for cookie and CryptKeeper keys. RandomBytes marks `hex` secret.
    return random.RandomBytes(name, length=32, opts=opts).hex


def generate_hub_secrets(prefix: str, opts: pulumi.ResourceOptions | None = None) -> HubSecrets:
    """One `RandomBytes` per secret, named `<prefix>-<secret>`, each created with `opts`."""
    return HubSecrets(
        proxy_token=_token(f"{prefix}-proxy-token", opts),
        cookie_secret=_token(f"{prefix}-cookie-secret", opts),
        crypt_key=_token(f"{prefix}-crypt-key", opts),
        binder_api_token=_token(f"{prefix}-binder-api-token", opts),
        build_token_secret=_token(f"{prefix}-build-token-secret", opts),
    )
