"""Starting the hub as its pod does: shared by the hub probes (run_hub.py, run_hub_metrics.py)."""

from __future__ import annotations

import traceback
from typing import Any

import jupyterhub.app


async def initialize_hub(job: dict[str, Any], result: dict[str, Any]) -> jupyterhub.app.JupyterHub | None:
    """JupyterHub.initialize with the container's arguments, as the hub pod starts it; None
    (and the error in result["errors"]) where the hub would exit at start."""
    argv = [*job["command"], *job["args"]]
    assert argv[0] == "jupyterhub", f"the hub container runs {argv}, not jupyterhub"
    app = jupyterhub.app.JupyterHub.instance()
    try:
        await app.initialize(argv[1:])
    except BaseException as exc:  # SystemExit included: the hub would exit at start
        result["errors"].append(f"hub initialize: {exc!r}\n{traceback.format_exc()}")
        return None
    return app
