from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import load_settings


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
