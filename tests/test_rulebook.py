"""The scoring rulebook: the 2020 file as data, and every way a bad file is refused."""

from __future__ import annotations

import hashlib

import pytest

from factories import RULEBOOK_2020, edited_rulebook, rulebook
from pipeline.errors import InputError
from pipeline.rulebook import load_rulebook, parse_rulebook, rulebook_for_year


def test_2020_rulebook_holds_the_spec_numbers():
    book = rulebook()
    assert book.version == "2020.1"
    assert book.sha256 == hashlib.sha256(RULEBOOK_2020.read_bytes()).hexdigest()
    assert [(c.key, c.points) for c in book.components] == [("A", 40), ("B", 30), ("C", 30)]
    a = book.component("A")
    assert {i.key: (i.points, i.target) for i in a.items} == {
        "inspection_frequency": (6, 2.0), "case_filing": (3, 0.10), "random_inspection": (3, 0.5),
        "file_review": (8, None), "three_systems": (8, None), "hazard_discovery": (6, 1.0),
        "penalty_rate": (6, 1.0)}
    assert [d.points for d in a.deductions] == [2, 1, 0.5]
    assert [d.points for d in book.component("B").deductions] == [1, 3, 5]
    assert book.component("C").start == 30
    assert book.major_decision_fine_wan == 5.0 and book.late_report_hours == 1.0
    assert (book.top_n, book.bottom_n, book.decimals) == (3, 3, 2)
    assert book.ranking_group_of() == {"办事处": "属地单位", "管理处": "属地单位", "成员单位": "成员单位"}
    annual = book.annual
    assert [annual.points_of(p) for p in ("enforcement", "hazards", "accidents", "key_work", "bonus")] \
        == [30, 25, 30, 15, 5]
    assert annual.window_start == "01-01"
    assert [(g.grade, g.min_total, g.top_share) for g in annual.grades] == [
        ("优秀", 90, 0.30), ("良好", 80, None), ("合格", 60, None)]
    assert [(v.key, v.min_count) for v in annual.veto] == [
        ("major_accident", 1), ("three_larger_accidents", 3), ("concealed_accident", 1)]
    assert [(y.key, y.min_count) for y in annual.yellow_card] == [("two_larger_accidents", 2)]
    assert (book.robustness.perturbation, book.robustness.draws) == (0.25, 2000)


def refused(*edits: tuple[str, str]) -> str:
    with pytest.raises(InputError) as caught:
        edited_rulebook(*edits)
    return str(caught.value)


def test_a_typo_in_a_key_is_refused_naming_the_key_path():
    message = refused(("points = 6\ntarget = 2.0", "weigth = 6\ntarget = 2.0"))
    assert "monthly.components.A.items[0].weigth" in message
    assert "未知键" in message and "unknown key" in message


def test_items_that_do_not_add_up_to_their_component_are_refused():
    # 比力度's first item 6 -> 7: A's items add up to 41, and 比力度's to 13.
    message = refused(("points = 6\ntarget = 2.0", "points = 7\ntarget = 2.0"))
    assert "monthly.components.A" in message and "41" in message and "40" in message
    assert "monthly.components.A.groups.比力度" in message


def test_components_that_do_not_add_up_to_100_are_refused():
    message = refused(('label = "事故控制"\npoints = 30\nstart = 30', 'label = "事故控制"\npoints = 35\nstart = 30'))
    assert "monthly" in message and "105" in message


def test_annual_parts_that_do_not_add_up_are_refused():
    message = refused(('label = "重点工作"\npoints = 15', 'label = "重点工作"\npoints = 20'))
    assert "annual" in message and "105" in message


def test_unknown_indicator_is_refused_and_the_known_ones_listed():
    message = refused(('indicator = "filed_share"', 'indicator = "filed_shares"'))
    assert "monthly.components.A.items[1].indicator" in message and "filed_shares" in message
    assert "random_share" in message


def test_missing_grade_bands_are_refused():
    text = RULEBOOK_2020.read_text(encoding="utf-8")
    start = text.index("[[annual.grades]]")
    end = text.index("# ---", start)
    with pytest.raises(InputError, match=r"annual\.grades"):
        parse_rulebook((text[:start] + text[end:]).encode(), "no-grades.toml")


def test_missing_required_key_and_wrong_type_are_refused():
    assert "缺少必填键“version”" in refused(('version = "2020.1"\n', ""))
    assert "monthly.components.A.points" in refused(("points = 40", 'points = "四十"'))


def test_unknown_condition_column_and_bad_window_are_refused():
    assert "recordd" in refused(("where = { recorded = false }", "where = { recordd = false }"))
    assert "window_start" in refused(('window_start = "01-01"', 'window_start = "12-15"'))


def test_invalid_toml_and_missing_file_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="TOML"):
        parse_rulebook(b"version = ", "broken.toml")
    with pytest.raises(InputError, match="rulebook-1999.toml"):
        load_rulebook(tmp_path / "rulebook-1999.toml")


def test_rulebook_for_year_picks_same_year_else_latest_earlier_else_earliest(tmp_path):
    for year in (2019, 2021):
        (tmp_path / f"rulebook-{year}.toml").write_text("", encoding="utf-8")
    (tmp_path / "rulebook-draft.toml").write_text("", encoding="utf-8")  # not a year: ignored
    assert rulebook_for_year(tmp_path, 2021).name == "rulebook-2021.toml"
    assert rulebook_for_year(tmp_path, 2020).name == "rulebook-2019.toml"
    assert rulebook_for_year(tmp_path, 2030).name == "rulebook-2021.toml"
    assert rulebook_for_year(tmp_path, 2010).name == "rulebook-2019.toml"
    with pytest.raises(InputError):
        rulebook_for_year(tmp_path / "empty", 2020)


def test_the_project_rules_folder_has_a_rulebook_for_2020():
    assert rulebook_for_year(RULEBOOK_2020.parent, 2020) == RULEBOOK_2020


def test_rule_columns_are_the_clean_tables_columns():
    """The rulebook check reads the models' fields from schemas.py's source (no pandera import);
    they must be exactly what the models declare."""
    from pipeline import rulebook_check
    from pipeline.schemas import Accidents, Enforcement, Hazards, columns_of

    columns = rulebook_check.event_columns()
    assert columns["inspections"] == set(columns_of(Enforcement))
    assert columns["overdue_hazards"] == set(columns_of(Hazards))
    assert columns["accidents"] == set(columns_of(Accidents)) | {"role"}
