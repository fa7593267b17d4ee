# Command of anonymous Binder servers: JupyterLab when the image has it, else the classic
# notebook server; the arguments BinderSpawner builds are passed through.
import os
import sys

try:
    import jupyterlab  # noqa: F401

    program = "jupyter-lab"
except ImportError:
    program = "jupyter-notebook"
os.execvp(program, [program, *sys.argv[1:]])
