"""The four ways in (nix, devcontainer, compose/image, bare venv) use the same versions."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

import tasks
from common.testing.sources import DEFAULT_IMAGE
from tests.env.files import DEVCONTAINER, ROOT, load_compose, read_dockerfile, read_jsonc

FLAKE = (ROOT / "flake.nix").read_text()
LOCK = json.loads((ROOT / "flake.lock").read_text())
PIN = ROOT.parent / "shared" / "nixpkgs-pin.json"
SYSTEMS = ("x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin")


def _python_minor_of_image(image: str) -> str:
    match = re.fullmatch(r"[\w./-]+:(\d+\.\d+)-[\w.-]+", image)
    assert match, image
    return match.group(1)


def test_one_python_minor_everywhere() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    target = pyproject["tool"]["mypy"]["python_version"]
    assert pyproject["project"]["requires-python"] == f">={target}"
    dockerfile = read_dockerfile()
    dev_image = load_compose()["services"]["dev"]["image"]
    nix_python = re.search(r"python = pkgs\.python3(\d+);", FLAKE)
    assert nix_python
    assert {
        _python_minor_of_image(dockerfile.base_of(dockerfile.default_stage)),
        _python_minor_of_image(dev_image),
        f"3.{nix_python.group(1)}",
    } == {target}


def test_one_postgresql_major_everywhere() -> None:
    compose_major = load_compose()["services"]["postgres"]["image"].split(":")[1]
    harness_major = DEFAULT_IMAGE.split(":")[1].split("-")[0]
    nix_postgresql = re.search(r"postgresql = pkgs\.postgresql_(\d+);", FLAKE)
    assert nix_postgresql
    assert {compose_major, harness_major, nix_postgresql.group(1)} == {"17"}


def test_the_flake_has_only_nixpkgs_and_a_shell_for_each_platform() -> None:
    assert re.findall(r"inputs\.(\w+)\.url", FLAKE) == ["nixpkgs"]
    for system in SYSTEMS:
        assert f'"{system}"' in FLAKE
    assert LOCK["version"] == 7
    assert LOCK["nodes"]["root"] == {"inputs": {"nixpkgs": "nixpkgs"}}
    assert set(LOCK["nodes"]) == {"root", "nixpkgs"}


def test_the_lock_records_the_input_flake_nix_names() -> None:
    url = re.search(r'inputs\.nixpkgs\.url = "github:([^/]+)/([^/]+)/([^"]+)";', FLAKE)
    assert url
    owner, repo, ref = url.groups()
    original = LOCK["nodes"]["nixpkgs"]["original"]
    assert original == {"owner": owner, "ref": ref, "repo": repo, "type": "github"}
    locked = LOCK["nodes"]["nixpkgs"]["locked"]
    assert (locked["owner"], locked["repo"], locked["type"]) == (owner, repo, "github")
    assert re.fullmatch(r"[0-9a-f]{40}", locked["rev"])
    assert re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", locked["narHash"])


def test_the_lock_is_the_published_pin() -> None:
    if not PIN.exists():
        pytest.skip(f"{PIN} is not beside this checkout")
    pin = json.loads(PIN.read_text())
    assert LOCK["nodes"]["nixpkgs"]["locked"] == pin["locked"]
    assert LOCK["nodes"]["nixpkgs"]["original"] == pin["original"]


def test_the_shell_hook_builds_the_venv_the_tasks_build() -> None:
    """The hook defers to `invoke setup` and reads the lock file the tasks read."""
    lock = tasks.LOCK_DEV.relative_to(tasks.ROOT).as_posix()
    assert f'"$project_root/{lock}"' in FLAKE
    assert '"$venv/bin/invoke" setup' in FLAKE
    assert f'venv="$project_root/{tasks.VENV.name}"' in FLAKE
    assert "export UV_PYTHON_DOWNLOADS=never" in FLAKE
    assert "export UV_PYTHON=${python}/bin/python3." in FLAKE


def _evaluate_shell(system: str, tmp_path: Path) -> dict[str, object]:
    """devShells.<system>.default against a stand-in nixpkgs that records mkShell's arguments."""
    stub = tmp_path / "nixpkgs.nix"
    stub.write_text(
        """
        let
          lib = {
            genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
            optionalString = cond: s: if cond then s else "";
            makeLibraryPath = ps: builtins.concatStringsSep ":" (map (p: "${p}/lib") ps);
          };
          pkgsFor = system: {
            inherit lib;
            stdenv = {
              hostPlatform.isLinux = builtins.match ".*-linux" system != null;
              cc.cc.lib = "/store/gcc-lib";
            };
            mkShell = args: args;
            python311 = { outPath = "/store/python3-3.11"; name = "python3-3.11"; };
            postgresql_17 = "/store/postgresql-17";
            uv = "/store/uv"; protobuf = "/store/protobuf"; grpcurl = "/store/grpcurl";
            git = "/store/git"; zlib = "/store/zlib";
          };
        in { inherit lib; legacyPackages = lib.genAttrs %s pkgsFor; }
        """
        % ("[ " + " ".join(f'"{s}"' for s in SYSTEMS) + " ]")
    )
    expression = (
        f"let flake = import {ROOT / 'flake.nix'}; "
        f"outputs = flake.outputs {{ self = {{}}; nixpkgs = import {stub}; }}; "
        f'in {{ inherit (outputs.devShells."{system}".default) shellHook; '
        f'packages = map toString outputs.devShells."{system}".default.packages; }}'
    )
    nix = shutil.which("nix-instantiate")
    assert nix is not None
    result = subprocess.run(
        [nix, "--eval", "--strict", "--json", "--expr", expression],
        capture_output=True,
        text=True,
        check=True,
    )
    shell: dict[str, object] = json.loads(result.stdout)
    return shell


@pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="nix is not installed here")
@pytest.mark.parametrize("system", SYSTEMS)
def test_the_dev_shell_evaluates_for_each_platform(system: str, tmp_path: Path) -> None:
    shell = _evaluate_shell(system, tmp_path)
    assert shell["packages"] == [
        "/store/python3-3.11",
        "/store/uv",
        "/store/postgresql-17",
        "/store/protobuf",
        "/store/grpcurl",
        "/store/git",
    ]
    hook = str(shell["shellHook"])
    assert "export UV_PYTHON=/store/python3-3.11/bin/python3.11" in hook
    library_path = "export LD_LIBRARY_PATH=/store/gcc-lib/lib:/store/zlib/lib${LD_LIBRARY_PATH:+"
    assert (library_path in hook) is system.endswith("-linux")
    bash = shutil.which("bash")
    assert bash is not None
    syntax = subprocess.run([bash, "-n"], input=hook, text=True, capture_output=True, check=False)
    assert syntax.returncode == 0, syntax.stderr


def test_the_devcontainer_config_is_the_one_the_checks_read() -> None:
    assert read_jsonc(DEVCONTAINER)["dockerComposeFile"][0] == "../compose.yaml"


#: What names this machine's stand-ins for the base images (a tool beside the project sets
#: them up under the real images' names): never the project's business.
_STAND_IN_MARKERS = ("container-stack", "localhost/postgres", "localhost/python")


def test_the_project_names_the_real_images_never_a_machines_stand_ins() -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("no git")
    listed = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    here = Path(__file__).resolve().relative_to(ROOT).as_posix()  # it names the markers
    named = []
    for name in listed.stdout.decode().split("\0"):
        path = ROOT / name
        if not name or name in (".ci/run", here) or not path.is_file():  # CI sets the tool up
            continue
        text = path.read_bytes().decode(errors="ignore")
        named += [f"{name}: {marker}" for marker in _STAND_IN_MARKERS if marker in text]
    assert named == []
    images = {
        load_compose()["services"]["postgres"]["image"],
        load_compose()["services"]["dev"]["image"],
        read_dockerfile().base_of(read_dockerfile().stages["runtime"]),
    }
    assert images == {
        "postgres:17",
        "mcr.microsoft.com/devcontainers/python:3.11-bookworm",
        "python:3.11-slim-trixie",
    }
