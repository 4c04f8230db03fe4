"""makechat/config.py: file, environment, defaults, and the example file."""

import dataclasses
from pathlib import Path

import pytest

from makechat.config import SETTINGS, Config, ConfigError, config_path, example_config, load_config

ROOT = Path(__file__).resolve().parent.parent


def test_settings_table_matches_config_fields():
    fields = {f.name: f.default for f in dataclasses.fields(Config) if f.name != "source"}
    assert fields == {setting.name: setting.default for setting in SETTINGS}


def test_example_file_documents_every_key():
    assert (ROOT / "makechat.conf.example").read_text() == example_config()


def test_example_file_loads_to_defaults(tmp_path):
    config = load_config({}, path=ROOT / "makechat.conf.example")
    assert config.replace(source="") == Config()


def test_defaults_without_file():
    assert load_config({}, path=None).mongo_uri == "mongodb://localhost:27017/makechat"


def test_file_then_environment_override(tmp_path):
    conf = tmp_path / "makechat.conf"
    conf.write_text("[makechat]\nmongo_uri = mongodb://db:27017/chat\nmax_body = 100\n")
    config = load_config({"MAKECHAT_CONFIG": str(conf), "MAKECHAT_MAX_BODY": "200"})
    assert config.mongo_uri == "mongodb://db:27017/chat"
    assert config.max_body == 200


def test_config_path_prefers_environment(tmp_path):
    conf = tmp_path / "x.conf"
    assert config_path({"MAKECHAT_CONFIG": str(conf)}) == conf


@pytest.mark.parametrize("text", ["[makechat]\nmax_body = lots\n",
                                  "[makechat]\nno_such_key = 1\n",
                                  "[makechat]\nregistration = maybe\n"])
def test_bad_file_raises_config_error(tmp_path, text):
    conf = tmp_path / "makechat.conf"
    conf.write_text(text)
    with pytest.raises(ConfigError):
        load_config({}, path=conf)


def test_bad_environment_value_raises_config_error():
    with pytest.raises(ConfigError):
        load_config({"MAKECHAT_PORT": "eighty"}, path=None)
