"""One builder per target (`stacks/<cloud>.py`); only the chosen cloud's SDK is imported."""

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from config import ConfigError, StackConfig, StackSecrets
from stacks.platform import StackOutputs

Builder = Callable[[StackConfig[Any], StackSecrets], StackOutputs]


def build_stack(cfg: StackConfig[Any], secrets: StackSecrets) -> StackOutputs:
    module = f"stacks.{cfg.cloud}"
    if importlib.util.find_spec(module) is None:
        raise ConfigError(f"binderhub:cloud: {cfg.cloud!r} is not implemented yet")
    builder: Builder = importlib.import_module(module).build
    return builder(cfg, secrets)
