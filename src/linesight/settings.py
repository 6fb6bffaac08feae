"""Settings: one tree, built once in the CLI and passed down.

Precedence, lowest first: built-in defaults < the TOML file (``--config``, default
``config/linesight.toml``) < ``.env`` < environment variables ``LINESIGHT_<FIELD>`` (nested with
``__``, e.g. ``LINESIGHT_WRITEBACK__MAX_WRITES=50``) < command-line flags.

Tokens never live in the file: each source names the environment variable that holds its token
(``token_env``); the value is read from the environment or ``.env`` into a ``SecretStr`` and is
unwrapped only where a client is built.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from linesight.errors import ConfigError

__all__ = [
    "AnalysisSettings",
    "AzureDevOpsSource",
    "JiraSource",
    "LinkRules",
    "OutputSettings",
    "Settings",
    "SourceSettings",
    "Thresholds",
    "WritebackSettings",
    "load_settings",
]

DEFAULT_CONFIG = Path("config/linesight.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _SourceBase(_Section):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="unique source name")
    url: str = Field(description="base URL of the tracker (no credentials)")
    token_env: str | None = Field(
        default=None, description="name of the environment variable that holds the token"
    )
    token: SecretStr | None = Field(
        default=None, exclude=True, description="filled from token_env; never set in the file"
    )
    kr_field: str | None = Field(default=None, description="custom field holding KR ids (rule 3)")
    team_field: str | None = Field(default=None, description="field that names the team")
    objective_types: tuple[str, ...] = Field(
        default=(), description="item types that are objectives living in this tracker"
    )
    key_result_types: tuple[str, ...] = Field(
        default=(), description="item types that are key results living in this tracker"
    )
    concurrency: int = Field(default=8, ge=1, le=64, description="parallel requests")
    timeout_s: float = Field(default=30.0, gt=0)
    verify_tls: bool = True

    @field_validator("url")
    @classmethod
    def _no_credentials_in_url(cls, value: str) -> str:
        if "@" in value.split("//", 1)[-1].split("/", 1)[0]:
            raise ValueError("put credentials in token_env, not in the URL")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("token", mode="before")
    @classmethod
    def _token_only_from_env(cls, value: object) -> object:
        if value is not None and not isinstance(value, SecretStr):
            raise ValueError("tokens are read from the variable named by token_env, not the file")
        return value


class JiraSource(_SourceBase):
    """A Jira Cloud or Data Center site."""

    kind: Literal["jira"]
    flavour: Literal["cloud", "datacenter"] = "cloud"
    user: str | None = Field(
        default=None, description="account email for Cloud API tokens; unset for a DC PAT"
    )
    projects: tuple[str, ...] = Field(default=(), description="project keys in scope")
    issue_types: tuple[str, ...] = Field(default=(), description="issue types in scope")
    jql: str | None = Field(default=None, description="extra JQL, ANDed with the scope")
    kr_label_prefix: str = Field(default="kr-", description="label prefix naming a KR (rule 2)")
    epic_link_field: str | None = Field(
        default=None, description="legacy Epic Link custom field, e.g. customfield_10014"
    )
    kr_link_types: tuple[str, ...] = Field(
        default=(), description="issue link names that tie work to a KR issue (empty: any)"
    )

    @model_validator(mode="after")
    def _bounded(self) -> JiraSource:
        if not self.projects and not self.jql:
            raise ValueError("a Jira source needs 'projects' or 'jql' to bound its scope")
        return self


class AzureDevOpsSource(_SourceBase):
    """An Azure DevOps organization and project (``url`` is ``https://dev.azure.com/<org>``)."""

    kind: Literal["azure-devops"]
    project: str = Field(description="the team project")
    area_paths: tuple[str, ...] = Field(default=(), description="area paths in scope (UNDER)")
    work_item_types: tuple[str, ...] = Field(default=(), description="work item types in scope")
    wiql: str | None = Field(default=None, description="extra WIQL condition, ANDed with scope")
    kr_tag_prefix: str = Field(default="KR:", description="tag prefix naming a KR (rule 2)")
    kr_link_types: tuple[str, ...] = Field(
        default=(), description="relation types that tie work to a KR work item (empty: any)"
    )


SourceSettings = Annotated[JiraSource | AzureDevOpsSource, Field(discriminator="kind")]


class LinkRules(_Section):
    """The six ways work reaches a key result; all on by default."""

    explicit: bool = True  # 1. `work:` entries on the KR
    label: bool = True  # 2. a label/tag carrying the KR id with the source's prefix
    field: bool = True  # 3. the source's kr_field
    tracker_link: bool = True  # 4. an issue link / relation to a KR living in the tracker
    query: bool = True  # 5. `jql:` / `wiql:` entries on the KR
    hierarchy: bool = True  # 6. children inherit their ancestors' KRs


class Thresholds(_Section):
    """Diagnostic thresholds; defaults from OKR practice."""

    too_many_objectives: int = 15  # error above this many active objectives
    too_many_objectives_warn: int = 12  # warning from this many
    output_krs_share: float = Field(default=0.4, ge=0, le=1)
    score_cluster_low: float = 0.7
    score_cluster_high: float = 0.9
    score_cluster_share: float = Field(default=0.6, ge=0, le=1)
    score_cluster_max_stdev: float = Field(default=0.1, ge=0)
    low_alignment: float = Field(default=0.6, ge=0, le=1)  # aligned share of WIP below this
    on_track_score: float = Field(default=0.7, ge=0)  # a KR at or above this is on track


class AnalysisSettings(_Section):
    wip_level: Literal["leaf", "epic"] = "leaf"
    throughput_window_days: int = Field(default=28, ge=1)
    thresholds: Thresholds = Thresholds()


class WritebackSettings(_Section):
    enabled: bool = False  # `run` writes back only when this or --apply says so
    orphan_label: str = "linesight-orphan"
    comments: bool = True
    kr_comments: bool = False  # also comment on KR items living in a tracker
    max_writes: int = Field(default=500, ge=0)


class OutputSettings(_Section):
    report_formats: tuple[Literal["html", "md", "csv", "json"], ...] = ("html", "md")
    export_formats: tuple[
        Literal["graphml", "gexf", "json", "dot", "mermaid", "cytoscape", "html"], ...
    ] = ("graphml", "html")


class Settings(BaseSettings):
    """The whole configuration. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="LINESIGHT_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    okrs: Path = Path("config/okrs.yaml")
    state_dir: Path = Path(".linesight")
    output_dir: Path = Path("linesight-out")
    sources: tuple[SourceSettings, ...] = ()
    links: LinkRules = LinkRules()
    analysis: AnalysisSettings = AnalysisSettings()
    writeback: WritebackSettings = WritebackSettings()
    output: OutputSettings = OutputSettings()
    log_format: Literal["text", "json"] = "text"

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: tuple[SourceSettings, ...]) -> tuple[SourceSettings, ...]:
        seen: set[str] = set()
        for source in sources:
            if source.name in seen:
                raise ValueError(f"two sources are named '{source.name}'")
            seen.add(source.name)
        return sources

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init kwargs carry the TOML file merged with CLI flags (see load_settings)
        return (env_settings, init_settings)

    def source(self, name: str) -> SourceSettings:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named '{name}' (configured: {known})")

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data, every secret masked."""
        data = self.model_dump(mode="json")
        for raw, source in zip(data["sources"], self.sources, strict=True):
            raw["token"] = "**********" if source.token is not None else None
        return data


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :]
        name, sep, value = stripped.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"{path}:{number}: expected NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _format_validation_error(error: ValidationError, where: str) -> str:
    lines = []
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"] if not str(part).startswith("function-"))
        msg = item["msg"]
        if item["type"] == "extra_forbidden":
            msg = "unknown setting (check the spelling)"
        msg = msg.removeprefix("Value error, ")
        lines.append(f"{where}: {loc or '(top level)'}: {msg}")
    return "\n".join(lines)


def load_settings(
    config: Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    dotenv: Path | None = Path(".env"),
) -> Settings:
    """Build the settings from the TOML file, ``.env``, the environment and CLI overrides.

    ``config=None`` reads ``config/linesight.toml`` if it exists and the defaults otherwise;
    an explicitly named file must exist. Raises :class:`ConfigError` naming the file and field.
    """
    path = config if config is not None else DEFAULT_CONFIG
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            line = exc.object[: exc.start].count(b"\n") + 1
            raise ConfigError(
                f"{path}:{line}: not UTF-8 text (byte {exc.object[exc.start]:#04x}); "
                "save the file as UTF-8"
            ) from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    elif config is not None:
        raise ConfigError(f"{path}: no such settings file (looked in {path.resolve()})")
    if overrides:
        data = _deep_merge(data, overrides)

    env = dict(_read_dotenv(dotenv) if dotenv is not None else {})
    env.update(os.environ if environ is None else environ)
    sources = data.get("sources")
    # anything but a list (`sources = true`) is left for validation to name
    for source in sources if isinstance(sources, list) else []:
        if not isinstance(source, dict):
            continue
        if "token" in source:
            raise ConfigError(
                f"{path}: sources.{source.get('name', '?')}.token: tokens do not belong in the "
                "file; set token_env to the name of an environment variable"
            )
        var = source.get("token_env")
        if isinstance(var, str) and env.get(var):
            source["token"] = SecretStr(env[var])

    prefixed = {k: v for k, v in env.items() if k.upper().startswith("LINESIGHT_")}
    saved = {k: os.environ.get(k) for k in prefixed}
    try:
        # pydantic-settings reads the process environment; expose .env values for this call only
        os.environ.update(prefixed)
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, str(path))) from None
    except SettingsError as exc:
        # a LINESIGHT_* variable for a list or table that is not JSON (pydantic-settings' rule)
        raise ConfigError(
            f"environment: {exc}; a LINESIGHT_* variable holding a list or a table must be JSON, "
            "e.g. LINESIGHT_OUTPUT__REPORT_FORMATS='[\"html\"]'"
        ) from None
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
    return settings
