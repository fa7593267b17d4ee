"""scripts/fill_chart_cache.py: GitHub CI's chart cache has what the behaviour tests read."""

import io
import os
import sys
import tarfile
from pathlib import Path

import pytest
from behaviour.envs import charts_dir

from harness import ROOT_DIR
from versions import BINDERHUB_COMMIT, CHARTS, GRAFANA_DASHBOARDS_COMMIT

sys.path.insert(0, str(ROOT_DIR / "scripts"))
import fill_chart_cache

FAKE_HELM = """#!/usr/bin/env bash
# helm pull <chart> --version <v> --destination <dir> [--repo <r>]: log, and save an empty tgz
echo "$*" >> "$HELM_LOG"
chart=${2##*/}; version=$4; dest=$6
: > "$dest/$chart-$version.tgz"
"""


def github_archive() -> bytes:
    """A GitHub source archive of binderhub: everything under `binderhub-<sha>/`."""
    out = io.BytesIO()
    with (
        tarfile.open(charts_dir() / f"binderhub-python-{BINDERHUB_COMMIT[:8]}.tar.gz") as package,
        tarfile.open(fileobj=out, mode="w:gz") as archive,
    ):
        for member in package.getmembers():
            data = package.extractfile(member) if member.isfile() else None
            member.name = f"binderhub-{BINDERHUB_COMMIT}/{member.name}"
            archive.addfile(member, data)
        readme = tarfile.TarInfo(f"binderhub-{BINDERHUB_COMMIT}/README.md")
        archive.addfile(readme, io.BytesIO(b""))
    return out.getvalue()


def dashboards_archive() -> bytes:
    """A GitHub source archive of jupyterhub/grafana-dashboards: everything under `<repo>-<sha>/`."""
    out = io.BytesIO()
    with (
        tarfile.open(charts_dir() / f"jupyterhub-grafana-dashboards-{GRAFANA_DASHBOARDS_COMMIT[:8]}.tar.gz") as shared,
        tarfile.open(fileobj=out, mode="w:gz") as archive,
    ):
        for member in shared.getmembers():
            data = shared.extractfile(member) if member.isfile() else None
            member.name = member.name.replace(
                "grafana-dashboards", f"grafana-dashboards-{GRAFANA_DASHBOARDS_COMMIT}", 1
            )
            archive.addfile(member, data)
        noxfile = tarfile.TarInfo(f"grafana-dashboards-{GRAFANA_DASHBOARDS_COMMIT}/noxfile.py")
        archive.addfile(noxfile, io.BytesIO(b""))
    return out.getvalue()


def test_fills_the_cache_the_behaviour_tests_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helm = tmp_path / "bin" / "helm"
    helm.parent.mkdir()
    helm.write_text(FAKE_HELM)
    helm.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helm.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HELM_LOG", str(tmp_path / "helm.log"))
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        if url.startswith("https://codeload.github.com/jupyterhub/grafana-dashboards/"):
            return dashboards_archive()
        return github_archive() if url.startswith("https://codeload.github.com/") else b"pkg==1.0\n"

    cache = tmp_path / "charts"
    fill_chart_cache.fill(cache, fetch)

    # every pinned chart, at its pinned version and repository, under the name the tests look for
    for ref in CHARTS.values():
        assert (cache / f"{ref.chart.rsplit('/', 1)[-1]}-{ref.version}.tgz").exists()
    calls = (tmp_path / "helm.log").read_text().splitlines()
    binderhub = CHARTS["binderhub"]
    assert f"pull binderhub --version {binderhub.version} --destination {cache} --repo {binderhub.repo}" in calls
    # the same file names as ../shared/charts, for every non-chart file the behaviour tests use
    shared = {p.name for p in charts_dir().iterdir() if not p.name.endswith(".tgz")}
    filled = {p.name for p in cache.iterdir() if not p.name.endswith(".tgz")}
    wanted = {
        n
        for n in shared
        if n.startswith(
            ("binderhub-python", "binderhub-image", "jupyterhub-hub-image", "jupyterhub-grafana-dashboards")
        )
    }
    assert filled == wanted
    # BinderHub's package at the archive's root, as behaviour_envs.sh puts it on the path
    with tarfile.open(cache / f"binderhub-python-{BINDERHUB_COMMIT[:8]}.tar.gz") as package:
        names = package.getnames()
    assert "binderhub/app.py" in names and not any(n.startswith(("binderhub-", "README")) for n in names)
    assert all(
        BINDERHUB_COMMIT in url or GRAFANA_DASHBOARDS_COMMIT in url or "zero-to-jupyterhub" in url for url in fetched
    )
    # the dashboards' sources as ../shared/charts holds them: the same files, the same contents
    name = f"jupyterhub-grafana-dashboards-{GRAFANA_DASHBOARDS_COMMIT[:8]}.tar.gz"
    assert _files(cache / name) == _files(charts_dir() / name)


def _files(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}  # type: ignore[union-attr]


def test_the_commit_is_the_one_the_chart_was_built_from() -> None:
    # chart versions end in `.h<first 8 hex of the commit>`
    assert CHARTS["binderhub"].version.endswith(f".h{BINDERHUB_COMMIT[:8]}")
