"""Test session setup: import paths, and every cloud's provider mocks registered once."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def pytest_configure(config: pytest.Config) -> None:
    # Once, before any test module runs the program: what AKS, EKS, GKE, IAM... would return.
    from harness import load_cloud_mocks

    load_cloud_mocks()
