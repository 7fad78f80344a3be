"""Readers for the environment files (Dockerfile, compose, devcontainer, flake, locks).

Small and strict on purpose: the tests check the files as the tools read them, so the
readers only do what those tools do (line continuations, JSON with comments, compose's
`${VAR:-default}` and `!reset`), nothing more.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DEVCONTAINER = ROOT / ".devcontainer" / "devcontainer.json"


# -- Dockerfile ---------------------------------------------------------------------------------
@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


@dataclass
class Dockerfile:
    args: dict[str, str]
    stages: dict[str, Stage]

    @property
    def default_stage(self) -> Stage:
        return list(self.stages.values())[-1]

    def base_of(self, stage: Stage) -> str:
        """The image a stage starts from, with build arguments and stage names resolved."""
        base = re.sub(r"\$\{(\w+)\}", lambda m: self.args[m.group(1)], stage.base)
        return self.base_of(self.stages[base]) if base in self.stages else base


def read_dockerfile(path: Path = ROOT / "Dockerfile") -> Dockerfile:
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "FROM":
            base, _, name = rest.partition(" AS ")
            current = stages[name] = Stage(name=name, base=base)
        elif current is None:
            if keyword == "ARG":
                key, _, value = rest.partition("=")
                args[key] = value
        else:
            current.instructions.append((keyword, rest))
    return Dockerfile(args=args, stages=stages)


def shell_commands(run: str) -> list[list[str]]:
    """The commands of a RUN line joined by ``&&``, each without its redirections."""
    lexer = shlex.shlex(run, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    redirect = False
    for token in lexer:
        if token == "&&":
            commands.append([])
        elif token in (">", ">>", "<"):
            redirect = True
        elif redirect:
            redirect = False
        else:
            commands[-1].append(token)
    return commands


# -- compose ------------------------------------------------------------------------------------
class Reset:
    """Compose's ``!reset`` tag: the attribute is removed from the merged model."""


class _ComposeLoader(yaml.SafeLoader):  # type: ignore[misc]
    pass


_ComposeLoader.add_constructor("!reset", lambda loader, node: Reset())


def load_compose(path: Path = COMPOSE) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(path.read_text(), Loader=_ComposeLoader)  # noqa: S506 - a SafeLoader subclass with one extra tag
    return data


def merged_services(*paths: Path) -> dict[str, dict[str, Any]]:
    """The services of several compose files merged in order (the mapping rules suffice here)."""
    services: dict[str, dict[str, Any]] = {}
    for path in paths:
        for name, service in (load_compose(path).get("services") or {}).items():
            target = services.setdefault(name, {})
            for key, value in service.items():
                if isinstance(value, Reset):
                    target.pop(key, None)
                else:
                    target[key] = value
    return services


_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def interpolate(value: str, environ: dict[str, str] | None = None) -> str:
    """``${VAR}`` / ``${VAR:-default}`` as compose resolves them (an empty environment by default)."""
    env = environ or {}
    return _VARIABLE.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), value)


def command_of(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else str(command).split()


def healthcheck_of(service: dict[str, Any]) -> str:
    """The shell command of a ``CMD-SHELL`` health check."""
    test: list[str] = service["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL", test
    assert len(test) == 2, test
    return test[1]


def container_ports(service: dict[str, Any]) -> set[int]:
    return {int(str(port).rsplit(":", 1)[-1]) for port in service.get("ports", [])}


# -- JSON with comments (devcontainer.json, launch.json) -----------------------------------------
def read_jsonc(path: Path) -> Any:
    """JSON whose comments are whole lines starting with ``//`` (the style these files keep)."""
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("//")]
    return json.loads("\n".join(lines))


# -- hash-locked requirements -------------------------------------------------------------------
@dataclass(frozen=True)
class Pin:
    version: str
    marker: str
    hashes: frozenset[str]


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]*?))?\s*\\?$")


def read_lock(text: str) -> dict[str, Pin]:
    """``name==version [; marker]`` followed by ``--hash=`` lines, as ``uv pip compile`` writes."""
    pins: dict[str, Pin] = {}
    name = version = marker = ""
    hashes: set[str] = set()

    def close() -> None:
        if name:
            pins[name] = Pin(version, marker, frozenset(hashes))

    for line in text.splitlines():
        if match := _PIN.match(line):
            close()
            name, version, marker = match.group(1).lower(), match.group(2), match.group(3) or ""
            hashes = set()
        elif (stripped := line.strip()).startswith("--hash="):
            hashes.add(stripped.removeprefix("--hash=").rstrip(" \\"))
    close()
    return pins
