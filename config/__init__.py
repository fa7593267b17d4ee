"""The stack's configuration (namespace `binderhub:`): typed, validated, loaded once.

The model is the contract: every key, its type, default and description live in
`config.model` / `config.clusters` (descriptions are the fields' docstrings); the JSON schema
(`docs/config.schema.json`) and the README's configuration table are generated from it by
`python -m config.reference` and checked for drift by the tests.

- `config.base`: the error type, value rules (DNS names, URLs, addresses, Let's Encrypt names) and the `Model` base.
- `config.clusters`: each cloud's cluster model.
- `config.model`: every other key, the rules across keys, and the one list of clouds (`CLOUDS`).
- `config.load`: `parse_config` (pure: a dict in, a stack config or a `ConfigError` out) and
  `load_config` (reads `pulumi.Config` before any resource is registered).
"""

from config.base import NAMESPACE, SECRET_DESCRIPTIONS, SECRET_KEYS, ConfigError
from config.clusters import (
    AwsClusterConfig,
    AzureClusterConfig,
    ExistingClusterConfig,
    GcpClusterConfig,
    ManagedClusterConfig,
)
from config.load import StackSecrets, keep_secret, load_config, parse_config
from config.model import (
    AUTH_KEYS,
    CLOUDS,
    CLUSTER_MODELS,
    DEFAULT_REGISTRY,
    REGISTRY_CLOUDS,
    REGISTRY_KEYS,
    RESERVED_NAMESPACES,
    AnyStackConfig,
    AuthConfig,
    AwsStack,
    AzureStack,
    CloudName,
    CorsConfig,
    CullConfig,
    ExistingStack,
    FancyProfilesConfig,
    GcpStack,
    HostsConfig,
    IngressConfig,
    NamedServersConfig,
    RegistryConfig,
    StackConfig,
    TlsConfig,
)

__all__ = [
    "AUTH_KEYS",
    "CLOUDS",
    "CLUSTER_MODELS",
    "DEFAULT_REGISTRY",
    "NAMESPACE",
    "REGISTRY_CLOUDS",
    "REGISTRY_KEYS",
    "RESERVED_NAMESPACES",
    "SECRET_DESCRIPTIONS",
    "SECRET_KEYS",
    "AnyStackConfig",
    "AuthConfig",
    "AwsClusterConfig",
    "AwsStack",
    "AzureClusterConfig",
    "AzureStack",
    "CloudName",
    "ConfigError",
    "CorsConfig",
    "CullConfig",
    "ExistingClusterConfig",
    "ExistingStack",
    "FancyProfilesConfig",
    "GcpClusterConfig",
    "GcpStack",
    "HostsConfig",
    "IngressConfig",
    "ManagedClusterConfig",
    "NamedServersConfig",
    "RegistryConfig",
    "StackConfig",
    "StackSecrets",
    "TlsConfig",
    "keep_secret",
    "load_config",
    "parse_config",
]
