"""BinderHub, deployed in one `pulumi up`: load config, build the chosen target, export outputs."""

import pulumi

from config import keep_secret, load_config
from stacks import build_stack

stack_config, stack_secrets = load_config()
outputs = build_stack(stack_config, stack_secrets)
for key, value in outputs.exports().items():
    pulumi.export(key, keep_secret(value))
