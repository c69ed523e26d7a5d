"""The build_dataset command: one summary line, config files, and errors as CommandError."""

import json

import pytest
from django.core.management import CommandError, call_command

from modelgen import contracts
from tests.modelgen.builders import make_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("command") / "corpus", songs=3, seconds=10, seed=4)


def test_the_command_builds_a_dataset_in_two_processes_and_prints_one_line(corpus, tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"seed": 9, "scenarios": {"scenarios_per_segment": 1, "hybrid_share": 0}}))
    call_command(
        "build_dataset", corpus=str(corpus), out=str(tmp_path / "d"), config=str(config), jobs=2, verbosity=0
    )
    output = capsys.readouterr().out.strip().splitlines()
    assert len(output) == 1 and output[0].startswith(
        "built 3 scenarios (train 2, valid 0, test 1; 0 hybrids)"
    )
    manifest = contracts.load_manifest(tmp_path / "d")
    assert manifest["dataset"]["seed"] == 9
    saved = json.loads((tmp_path / "d" / "config.json").read_text())
    assert saved["scenarios"]["scenarios_per_segment"] == 1


def test_the_seed_option_overrides_the_config_file(corpus, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"seed": 9, "scenarios": {"scenarios_per_segment": 1, "hybrid_share": 0}}))
    call_command(
        "build_dataset", corpus=str(corpus), out=str(tmp_path / "d"), config=str(config), seed=2, verbosity=0
    )
    assert contracts.load_manifest(tmp_path / "d")["dataset"]["seed"] == 2


def test_a_missing_corpus_is_a_command_error_naming_it(tmp_path):
    with pytest.raises(CommandError, match="nowhere: corpus folder not found"):
        call_command("build_dataset", corpus=str(tmp_path / "nowhere"), out=str(tmp_path / "d"), verbosity=0)
    assert not (tmp_path / "d").exists()


def test_an_unknown_config_setting_is_a_command_error(corpus, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"segment_seconds": 5}))
    with pytest.raises(CommandError, match="unknown settings \\['segment_seconds'\\]"):
        call_command(
            "build_dataset", corpus=str(corpus), out=str(tmp_path / "d"), config=str(config), verbosity=0
        )
