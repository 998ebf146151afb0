import re
import tempfile
import tomllib
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import Settings, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_project_config_loads_and_resolves_paths_relative_to_the_file():
    root = Path(__file__).resolve().parent.parent
    settings = load_settings(root / "config.toml")
    assert settings.index.paths == [(root / "../shared/corpus/papers").resolve()]
    assert settings.index.data_dir == (root / ".qa-data").resolve()
    assert settings.store.mode == "embedded"


def test_environment_overrides_any_key(tmp_path, monkeypatch):
    config = write(tmp_path / "c.toml", '[store]\nmode = "embedded"\n[passages]\nmax_words = 200\n')
    monkeypatch.setenv("QA_STORE__MODE", "server")
    monkeypatch.setenv("QA_PASSAGES__MAX_WORDS", "180")
    settings = load_settings(config)
    assert settings.store.mode == "server"
    assert settings.passages.max_words == 180


def test_qa_data_dir_and_qa_config(tmp_path, monkeypatch):
    config = write(tmp_path / "other.toml", '[index]\ndata_dir = "from-file"\n')
    monkeypatch.setenv("QA_CONFIG", str(config))
    assert load_settings().index.data_dir == (tmp_path / "from-file").resolve()
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "from-env"))
    assert load_settings().index.data_dir == (tmp_path / "from-env").resolve()


def test_unknown_key_names_file_and_field(tmp_path):
    config = write(tmp_path / "c.toml", "[store]\nmod = 'server'\n")
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    assert str(config) in str(error.value)
    assert "store.mod: unknown setting" in str(error.value)


def test_unknown_section_and_bad_value(tmp_path):
    config = write(tmp_path / "c.toml", "[stroe]\nmode = 'server'\n[store]\nport = 'eighty'\n")
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    message = str(error.value)
    assert "stroe: unknown setting" in message
    assert "store.port:" in message


def test_bad_environment_override_is_named(tmp_path, monkeypatch):
    config = write(tmp_path / "c.toml", "")
    monkeypatch.setenv("QA_STORE__MODE", "cloud")
    with pytest.raises(ConfigError, match=r"store\.mode"):
        load_settings(config)


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path / "c.toml", "[store\n"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "absent.toml")


def uncommented(config_text: str) -> str:
    """config.toml with every commented-out setting and table header made live."""
    lines = []
    for line in config_text.splitlines():
        match = re.match(r"^# (\[[\w.]+\]|[a-z_0-9]+ = .*)$", line)
        lines.append(match.group(1) if match else line)
    return "\n".join(lines)


def test_config_file_sets_only_what_differs_and_shows_every_default(tmp_path):
    """No key in config.toml restates a default; the commented-out ones show each default truly."""
    root = Path(__file__).resolve().parent.parent
    text = (root / "config.toml").read_text()
    # Beside config.toml, so relative paths in both resolve alike; removed straight after.
    with tempfile.NamedTemporaryFile("w", dir=root, prefix=".defaults-", suffix=".toml") as every_default:
        every_default.write(uncommented(text))
        every_default.flush()
        assert load_settings(root / "config.toml").model_dump() == load_settings(every_default.name).model_dump()
    live = tomllib.loads(text)
    defaults = Settings().model_dump(mode="json")
    restated = [
        f"{section}.{key}"
        for section, values in live.items()
        for key, value in values.items()
        if defaults[section][key] == value
    ]
    assert restated == []
    documented = tomllib.loads(uncommented(text))
    missing = [
        f"{section}.{key}"
        for section, fields in defaults.items()
        for key in fields
        if key not in documented.get(section, {}) and key not in ("upload_dir", "audit_file")  # None: no TOML form
    ]
    assert missing == [], "every setting appears in config.toml, live or as a commented default"


def test_the_default_data_directory_sits_beside_the_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    config = write(tmp_path / "elsewhere" / "c.toml", "[index]\npaths = []\n")
    assert load_settings(config).index.data_dir == (tmp_path / "elsewhere" / ".qa-data").resolve()
