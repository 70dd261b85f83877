"""deploy/Dockerfile, read as text (no Docker engine here): multi-stage, non-root, and
in step with the package layout, the .dockerignore allowlist and the server's flags."""

from __future__ import annotations

import tomllib

from tests.deploy.files import ROOT, dockerfile_stages, port_of, server_variables


def _packages() -> list[str]:
    """The top-level packages pyproject.toml ships (`stepline*` → `stepline`)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    includes: list[str] = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    return [pattern.rstrip("*") for pattern in includes]


def _copied_sources() -> set[str]:
    sources: set[str] = set()
    for stage in dockerfile_stages():
        for args in stage.all("COPY"):
            words = [word for word in args.split() if not word.startswith("--")]
            if not args.startswith("--from="):
                sources.update(words[:-1])
    return sources


def test_dockerfile__is_multi_stage_and_runtime_copies_from_the_build_stage() -> None:
    build, *_, runtime = dockerfile_stages()
    assert build.name and build is not runtime
    assert f"--from={build.name} /opt/stepline /opt/stepline" in runtime.all("COPY")
    assert not runtime.all("RUN"), "the runtime stage should only copy the built venv"


def test_dockerfile__final_stage_runs_as_a_numeric_non_root_user() -> None:
    users = dockerfile_stages()[-1].all("USER")
    assert users, "the final stage sets no USER, so it runs as root"
    user, _, group = users[-1].partition(":")
    assert user.isdigit() and int(user) != 0, users[-1]
    assert not group or (group.isdigit() and int(group) != 0), users[-1]


def test_dockerfile__serves_on_all_interfaces_at_the_exposed_ports() -> None:
    runtime = dockerfile_stages()[-1]
    env = runtime.env()
    assert runtime.exec_form("CMD") == ["stepline-server", "serve"]
    addresses = [env["STEPLINE_GRPC_ADDRESS"], env["STEPLINE_HTTP_ADDRESS"]]
    assert all(address.startswith("0.0.0.0:") for address in addresses)
    exposed = {int(port) for args in runtime.all("EXPOSE") for port in args.split()}
    assert exposed == {port_of(address) for address in addresses}
    assert {name for name in env if name.startswith("STEPLINE_")} <= server_variables()


def test_dockerfile__copies_every_shipped_package_and_the_examples() -> None:
    sources = _copied_sources()
    assert {*_packages(), "pyproject.toml", "README.md", "examples"} <= sources


def test_dockerignore__lets_every_copied_source_through() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in lines, "an allowlist: exclude everything, then let sources through"
    allowed = {line[1:] for line in lines if line.startswith("!")}
    assert _copied_sources() <= allowed
