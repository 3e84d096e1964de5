"""The issuing office's name comes from rules/office.toml, for any district."""

from __future__ import annotations

from pipeline import config
from pipeline import report_helpers as rh


def test_the_title_names_the_office_of_the_rules_file(tmp_path, monkeypatch):
    office = tmp_path / "office.toml"
    office.write_text('name = "东山区安全生产委员会办公室"\n', encoding="utf-8")
    monkeypatch.setattr(config, "OFFICE_RULES", office)
    assert '<p class="report-issuer">东山区安全生产委员会办公室</p>' in str(rh.title("安全生产月度排名通报", "2020-03"))


def test_no_office_file_gives_a_generic_name_a_broken_one_stops_the_run(tmp_path):
    import pytest

    from pipeline.errors import InputError

    assert config.office_name(tmp_path / "absent.toml") == config.DEFAULT_OFFICE
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [", encoding="utf-8")
    with pytest.raises(InputError, match="broken.toml"):
        config.office_name(broken)
    empty = tmp_path / "empty.toml"
    empty.write_text('name = "  "\n', encoding="utf-8")
    with pytest.raises(InputError, match="name"):
        config.office_name(empty)


def test_the_shipped_office_file_is_read():
    assert config.office_name() == "南湖新区安全生产委员会办公室"
