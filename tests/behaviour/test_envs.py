"""The behaviour tests' environments hold exactly what the deployed images run."""

import re
from pathlib import Path

import pytest

from behaviour.envs import charts_dir

LOCKS = Path(__file__).resolve().parent / "requirements"
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)", re.M)
# A Postgres driver the hub image has and these tests do not use (the hub runs on sqlite);
# it builds only against libpq's headers.
NOT_INSTALLED = {"psycopg2"}


def pins(text: str) -> dict[str, str]:
    return {name.lower().replace("_", "-"): version for name, version in PIN.findall(text)}


def image_pins(pattern: str) -> dict[str, str]:
    found = sorted(charts_dir().glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {charts_dir()}, found {found}"
    return {k: v for k, v in pins(found[0].read_text()).items() if k not in NOT_INSTALLED}


@pytest.mark.parametrize(
    ("lock", "image", "extra"),
    [
        ("hub-4.2.0", "jupyterhub-hub-image-requirements-4.2.0.txt", {}),
        ("hub-4.4.0", "jupyterhub-hub-image-requirements-4.4.0.txt", {}),
        (
            "hub-4.4.0-fancy-profiles",
            "jupyterhub-hub-image-requirements-4.4.0.txt",
            {"jupyterhub-fancy-profiles": "0.7.0"},
        ),
        ("binderhub", "binderhub-image-requirements-*.txt", {}),
    ],
)
def test_each_environment_pins_exactly_its_images_packages(lock: str, image: str, extra: dict[str, str]) -> None:
    locked = pins((LOCKS / f"{lock}.txt").read_text())
    assert locked == {**image_pins(image), **extra}


def test_every_lock_is_hashed() -> None:
    for lock in LOCKS.glob("*.txt"):
        text = lock.read_text()
        assert text.count("--hash=sha256:") >= len(pins(text)), lock.name


def test_the_hub_environments_match_the_pinned_z2jh_versions() -> None:
    from versions import BINDERHUB_BUNDLED_JUPYTERHUB, CHARTS

    names = {lock.stem for lock in LOCKS.glob("*.txt")}
    assert f"hub-{BINDERHUB_BUNDLED_JUPYTERHUB}" in names
    assert f"hub-{CHARTS['jupyterhub'].version}" in names
