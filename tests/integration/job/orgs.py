"""A generated organisation served by a sandbox, for the job and write-back acceptance tests.

:func:`serve_org` generates a small organisation (Jira Cloud ``cloud``, Jira Data Center ``dc``,
Azure DevOps ``contoso``), starts the sandbox on a free loopback port, and writes
``okrs.yaml`` and ``linesight.toml`` (pointing at that port) into a folder. A
:class:`SandboxOrg` then offers what the tests need on both sides:

- linesight's side: the settings, the OKR file, the CLI as a subprocess (``cli`` / ``spawn``);
- the tracker's side: the request log and state (the same data ``GET /_sandbox/requests`` and
  ``GET /_sandbox/state`` answer), and edits made through the trackers' real REST APIs, the way
  a person in Jira or Azure DevOps makes them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from linesight.model import MANAGED_COMMENT_MARKER, ItemRef
from linesight.okrs import OkrFile, load_okrs
from linesight.sandbox import FaultConfig, SandboxServer
from linesight.sandbox.generator import (
    TOKEN_ENV,
    GeneratedOrg,
    generate_dataset,
    render_settings,
    write_org,
)
from linesight.sandbox.wire import DEFAULT_TOKEN, DEFAULT_USER
from linesight.settings import Settings, load_settings

NOW = datetime(2026, 11, 23, tzinfo=UTC)  # fixes the generated cycle (2026-Q4) and every date
ORPHAN_LABEL = "linesight-orphan"
ADO_PROJECT = "Fabrikam"
SOURCES = ("cloud", "contoso", "dc")
CLI_TIMEOUT_S = 120.0

# Requests that read although they are POSTs (JQL/WIQL searches, batch reads).
_POST_READS = ("/search/jql", "/search", "/bulkfetch", "/approximate-count", "/wiql")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def is_tracker_write(entry: Mapping[str, Any]) -> bool:
    """A request-log entry that changes something in a tracker (PUT/POST/PATCH/DELETE)."""
    path = str(entry["path"]).rstrip("/").casefold()
    if entry["method"] not in _WRITE_METHODS or not path.startswith(("/jira/", "/ado/")):
        return False
    return not path.endswith(_POST_READS) and not path.endswith("/workitemsbatch")


def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, str):
        return ()
    return tuple(tag.strip() for tag in value.split(";") if tag.strip())


def _text(body: Any) -> str:
    return body if isinstance(body, str) else json.dumps(body, sort_keys=True)


@dataclass
class TrackerItem:
    """One item as the tracker holds it: labels/tags, comment texts and the other fields."""

    labels: tuple[str, ...]
    comments: tuple[str, ...]
    fields: dict[str, Any] = field(repr=False)

    @property
    def managed(self) -> list[str]:
        return [c for c in self.comments if MANAGED_COMMENT_MARKER in c]

    @property
    def foreign_comments(self) -> list[str]:
        return [c for c in self.comments if MANAGED_COMMENT_MARKER not in c]


def tracker_items(state: Mapping[str, Any]) -> dict[ItemRef, TrackerItem]:
    """Every item of a ``/_sandbox/state`` answer, by linesight's item ref."""
    items: dict[ItemRef, TrackerItem] = {}
    for name, site in state["jira"].items():
        for issue in site["issues"]:
            fields = issue["fields"]
            container = fields.get("comment")
            comments = container.get("comments", []) if isinstance(container, dict) else []
            items[ItemRef(source=name, key=issue["key"])] = TrackerItem(
                labels=tuple(fields.get("labels") or ()),
                comments=tuple(_text(c.get("body")) for c in comments),
                fields=fields,
            )
    for organization, projects in state["azure_devops"].items():
        for payloads in projects.values():
            for payload in payloads:
                fields = payload["fields"]
                items[ItemRef(source=organization, key=str(payload["id"]))] = TrackerItem(
                    labels=_tags(fields.get("System.Tags")),
                    comments=tuple(_text(c.get("text")) for c in payload.get("comments", ())),
                    fields=fields,
                )
    return items


@dataclass
class SandboxOrg:
    """A generated organisation in ``root``, served by ``server``."""

    root: Path
    org: GeneratedOrg
    server: SandboxServer
    http: requests.Session = field(default_factory=requests.Session, repr=False)

    # -- linesight's side -------------------------------------------------------------------

    @property
    def config(self) -> Path:
        return self.root / "linesight.toml"

    @property
    def state_dir(self) -> Path:
        return self.root / ".linesight"

    @property
    def output_dir(self) -> Path:
        return self.root / "linesight-out"

    @property
    def facts(self) -> dict[str, Any]:
        return self.org.facts

    def settings(self, **overrides: Any) -> Settings:
        return load_settings(self.config, overrides=overrides, dotenv=None)

    def okrs(self) -> OkrFile:
        return load_okrs(self.root / "okrs.yaml")

    def point_source_at(self, name: str, url: str) -> None:
        """Rewrite the URL of source ``name`` in ``linesight.toml`` (e.g. at a closed port)."""
        facts = json.loads(json.dumps(self.facts))
        facts["base_url"] = self.server.url
        text = render_settings(facts, self.root)
        blocks = text.split("[[sources]]")
        for index, block in enumerate(blocks):
            if f'name = "{name}"' in block:
                lines = [
                    f'url = "{url}"' if line.startswith("url = ") else line
                    for line in block.splitlines()
                ]
                blocks[index] = "\n".join(lines) + "\n"
        self.config.write_text("[[sources]]".join(blocks), encoding="utf-8")

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a CLI run: the sandbox token, plain wide output, no progress bars."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LINESIGHT_")}
        env.update({TOKEN_ENV: DEFAULT_TOKEN, "NO_COLOR": "1", "COLUMNS": "200", "CI": "1"})
        env.update(extra)
        return env

    def cli(self, *args: str | Path, timeout: float = CLI_TIMEOUT_S) -> Completed:
        """``python -m linesight ARGS`` in ``root`` (so no stray ``.env`` is read)."""
        done = subprocess.run(
            [sys.executable, "-m", "linesight", *map(str, args)],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Completed(done.returncode, done.stdout, done.stderr)

    def spawn(self, *args: str | Path) -> subprocess.Popen[str]:
        """``python -m linesight ARGS`` started in the background, output captured."""
        return subprocess.Popen(
            [sys.executable, "-m", "linesight", *map(str, args)],
            cwd=self.root,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    # -- the tracker's side -----------------------------------------------------------------

    def mark(self) -> int:
        """The current length of the request log: pass it to :meth:`writes` later."""
        return len(self.server.requests())

    def writes(self, since: int = 0) -> list[dict[str, Any]]:
        """The tracker write requests since ``since`` (searches sent as POST excluded)."""
        return [r for r in self.server.requests(since) if is_tracker_write(r)]

    def items(self) -> dict[ItemRef, TrackerItem]:
        return tracker_items(self.server.state())

    def faults(self, **config: Any) -> None:
        """Replace the fault settings through the control endpoint."""
        answer = self.http.post(f"{self.server.url}/_sandbox/faults", json=config, timeout=10)
        answer.raise_for_status()

    def jira(self, name: str, method: str, path: str, body: Any = None) -> requests.Response:
        """A REST call on Jira site ``name`` (v3 on Cloud, v2 on Data Center), as a person."""
        version = "3" if name == "cloud" else "2"
        answer = self.http.request(
            method,
            f"{self.server.url}/jira/{name}/rest/api/{version}/{path}",
            json=body,
            auth=(DEFAULT_USER, DEFAULT_TOKEN),
            timeout=30,
        )
        assert answer.status_code < 300, answer.text
        return answer

    def jira_labels(
        self, name: str, key: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> None:
        ops = [{"add": x} for x in add] + [{"remove": x} for x in remove]
        self.jira(name, "PUT", f"issue/{key}", {"update": {"labels": ops}})

    def jira_comment(self, name: str, key: str, text: str) -> None:
        if name == "cloud":
            body: Any = {
                "type": "doc",
                "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
            }
        else:
            body = text
        self.jira(name, "POST", f"issue/{key}/comment", {"body": body})

    def ado(
        self, method: str, path: str, body: Any = None, *, patch: bool = False
    ) -> requests.Response:
        """A REST call on the Azure DevOps project, as a person (``path`` under ``_apis/``)."""
        version = "7.1-preview.4" if "/comments" in path else "7.1"
        answer = self.http.request(
            method,
            f"{self.server.url}/ado/contoso/{ADO_PROJECT}/_apis/{path}",
            params={"api-version": version},
            data=json.dumps(body),
            headers={
                "Content-Type": "application/json-patch+json" if patch else "application/json"
            },
            auth=("", DEFAULT_TOKEN),
            timeout=30,
        )
        assert answer.status_code < 300, answer.text
        return answer

    def ado_fields(self, key: str, **fields: str) -> None:
        """Set work item fields (``System.State="Closed"``) with a JSON Patch."""
        ops = [{"op": "add", "path": f"/fields/{k}", "value": v} for k, v in fields.items()]
        self.ado("PATCH", f"wit/workitems/{key}", ops, patch=True)

    def ado_tags(self, key: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()) -> None:
        current = self.items()[ItemRef(source="contoso", key=key)].labels
        gone = {t.casefold() for t in remove}
        tags = [t for t in current if t.casefold() not in gone] + list(add)
        self.ado_fields(key, **{"System.Tags": "; ".join(tags)})

    def ado_comment(self, key: str, text: str) -> None:
        self.ado("POST", f"wit/workItems/{key}/comments", {"text": text})


@dataclass(frozen=True, repr=False)
class Completed:
    """What a CLI run left: its exit code and output."""

    code: int
    stdout: str
    stderr: str

    def __repr__(self) -> str:  # what pytest shows when an assertion on a run fails
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def serve_org(
    root: Path, items: int, seed: int, *, faults: FaultConfig | None = None
) -> SandboxOrg:
    """Generate an organisation into ``root`` and serve it; the caller stops the server."""
    for attempt in range(5):
        port = free_port()
        org = generate_dataset(items, seed, now=NOW, base_url=f"http://127.0.0.1:{port}")
        server = SandboxServer(org.dataset, port=port, faults=faults)
        try:
            server.start()
        except OSError:  # someone took the port between free_port() and start()
            if attempt == 4:
                raise
            continue
        write_org(org, root)
        return SandboxOrg(root=root.resolve(), org=org, server=server)
    raise AssertionError("unreachable")
