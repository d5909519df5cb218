"""``foreplan tune`` fails fast on what it can check before any model loads."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from foreplan.cli.commands import app

runner = CliRunner()
SHOP = Path(__file__).parents[1] / "examples" / "shop" / "toolkit.toml"


def test_a_missing_toolkit_file_is_one_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["tune", "--toolkit", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert "nope.toml" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_a_folder_of_another_tune_run_is_not_resumed_with_other_settings(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "tune.json").write_text(json.dumps({"toolkit": str(SHOP.resolve()), "teacher": "qwen2.5-coder-1.5b",
                                               "student": "qwen2.5-coder-0.5b", "tasks": 200, "heldout": 0.2,
                                               "seed": 7, "tools": []}))
    result = runner.invoke(app, ["tune", "--toolkit", str(SHOP), "--out", str(out)])
    assert result.exit_code == 1
    assert "holds a tune run with other settings (seed, tools changed)" in " ".join(result.output.split())
    assert sorted(p.name for p in out.iterdir()) == ["tune.json"]
