"""Where a stack is assembled: the chosen cloud's `build` (`stacks/<cloud>.py`, the only module
importing that cloud's SDK) returns its `Target`, and `deploy_platform` puts the shared platform
on it."""

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from config import ConfigError, StackConfig, StackSecrets
from stacks.platform import StackOutputs, deploy_platform
from stacks.target import Target

Builder = Callable[[StackConfig[Any], StackSecrets], Target]


def build_stack(cfg: StackConfig[Any], secrets: StackSecrets) -> StackOutputs:
    target = _builder(cfg.cloud)(cfg, secrets)
    return deploy_platform(cfg, secrets, target)


def _builder(cloud: str) -> Builder:
    """`stacks/<cloud>.py`'s `build(cfg, secrets) -> Target`, imported by name (config.CLOUDS lists the clouds)."""
    module = f"stacks.{cloud}"
    if importlib.util.find_spec(module) is None:
        raise ConfigError(f"binderhub:cloud: {cloud!r} is not implemented yet")
    return importlib.import_module(module).build
