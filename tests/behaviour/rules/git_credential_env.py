"""What git in a repo2docker build pod reads from BinderHub's GIT_CREDENTIAL_ENV.

Upstream, read from jupyterhub/repo2docker at 808ae6bb: `docker/git-credential-env` (last
changed in a69145fc) is a bash script that prints the variable with `echo -e`, quoted; the
image's Dockerfile installs it and sets `git config --system credential.helper env`. BinderHub
(binderhub/build.py, KubernetesBuildExecutor.submit) sets GIT_CREDENTIAL_ENV on the build
container to the repository provider's `git_credentials`.

Rather than port git's parsing of a helper's answer, this runs the real `git credential fill`
with a helper that does what that script does, so the username and password returned are the
ones git would send. Needs `git` and `bash` on PATH; nothing touches the network.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

# repo2docker's helper: print the variable, interpreting backslash escapes (bash's echo -e).
_HELPER = '#!/bin/bash\necho -e "$GIT_CREDENTIAL_ENV"\n'


def git_reads(credential_env: str, host: str, protocol: str = "https") -> dict[str, str]:
    """The attributes `git credential fill` returns for `protocol://host` when the build pod's
    GIT_CREDENTIAL_ENV is `credential_env` (username and password among them).

    Raises subprocess.CalledProcessError when git gets no complete credential.
    """
    with tempfile.TemporaryDirectory(prefix="git-credential-") as scratch:
        helper = Path(scratch) / "git-credential-env"
        helper.write_text(_HELPER)
        helper.chmod(0o755)
        env = {
            "PATH": f"{scratch}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": scratch,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",  # no prompt when the helper gives nothing: fail instead
            "GIT_CREDENTIAL_ENV": credential_env,
        }
        completed = subprocess.run(
            ["git", "-c", "credential.helper=env", "credential", "fill"],
            input=f"protocol={protocol}\nhost={host}\n\n",
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=30,
        )
    return dict(line.split("=", 1) for line in completed.stdout.splitlines() if "=" in line)
