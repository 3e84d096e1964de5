"""The issuing office's name comes from rules/office.toml, for any district."""

from __future__ import annotations

from pipeline import config
from pipeline import report_helpers as rh


def test_the_title_names_the_office_of_the_rules_file(tmp_path, monkeypatch):
    office = tmp_path / "office.toml"
    office.write_text('name = "东山区安全生产委员会办公室"\n', encoding="utf-8")
    monkeypatch.setattr(config, "OFFICE_RULES", office)
    assert '<p class="report-issuer">东山区安全生产委员会办公室</p>' in str(rh.title("安全生产月度排名通报", "2020-03"))


def test_a_missing_or_broken_office_file_gives_a_generic_name(tmp_path):
    assert config.office_name(tmp_path / "absent.toml") == config.DEFAULT_OFFICE
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [", encoding="utf-8")
    assert config.office_name(broken) == config.DEFAULT_OFFICE
    empty = tmp_path / "empty.toml"
    empty.write_text('name = "  "\n', encoding="utf-8")
    assert config.office_name(empty) == config.DEFAULT_OFFICE


def test_the_shipped_office_file_is_read():
    assert config.office_name() == "南湖新区安全生产委员会办公室"
