"""Report sections as the notebooks call them (no kernel): the annual report's facts and the
monthly annex, on the tiny fixture."""

from __future__ import annotations

import pytest
import report_fixtures as fx

from pipeline import report_annual as annual
from pipeline import report_helpers as rh
from pipeline import report_monthly as monthly


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return rh.load_tables(fx.write_processed(tmp_path_factory.mktemp("processed")))


def test_annual_overview(data):
    text = str(annual.overview(data, "2020"))
    assert "2020年度共考核9个单位：优秀1个、良好4个、合格3个、不合格1个。" in text
    assert "一票否决1个（青山办事处），黄牌警告1个（高新区管理处）。" in text
    assert "名次不稳健的单位：东湖办事处" in text
    assert "全年共发生生产安全事故3起、死亡1人；2019年无数据，不作同比。" in text


def test_annual_tables_mark_vetoes_and_robustness(data):
    table = annual.assessment_rows(data, "2020")
    row = table.set_index("单位").loc["东湖办事处"]
    assert row["名次稳健性"].startswith("“表扬”名次不稳健")
    assert table.set_index("单位").loc["青山办事处", "一票否决"]
    vetoes = str(annual.vetoes(data, "2020"))
    assert "瞒报谎报事故1起" in vetoes and "较大事故2起" in vetoes


def test_year_on_year_only_when_last_year_exists(data):
    assert "不作同比" in str(annual.year_on_year(data, "2020"))


def test_missing_submissions_annex(data):
    html = str(monthly.missing_submissions(data, "2020-03"))
    assert "未报送" in html and "迟报" in html
    assert "1 个单位有报表未收到" in html


def test_quarantine_and_files_annex(data):
    assert "未知单位" in str(monthly.quarantine_summary(data, "2020-03"))
    detail = str(monthly.quarantine_detail(data, "2020-03"))
    assert "&lt;script&gt;" in detail and "<script>" not in detail
    assert 'class="screen-only"' in detail  # the long list stays out of the PDF
    files = str(monthly.files_summary(data, "2020-03"))
    assert "坏文件.xls" in files and "无法读取 1 个" in files


def test_annex_is_scoped_to_the_month(data):
    # The listed hazard ledgers state March: February's annex leaves their quarantined rows out,
    # keeps the row of a file the files table does not know, and the unreadable file (no month).
    february = str(monthly.quarantine_summary(data, "2020-02"))
    assert "未知单位" not in february and "罚款金额无法识别" in february
    assert "坏文件.xls" in str(monthly.files_summary(data, "2020-02"))




def test_scorecard_indicators_are_named_in_chinese(tmp_path):
    import pandas as pd

    from pipeline import report_scorecard

    data = rh.load_tables(fx.write_processed(tmp_path / "processed"))
    data.tables["indicators"] = pd.DataFrame({
        "unit_id": ["T05", "T05"], "period": ["2020-03", "2020-03"], "component": ["A", "A"],
        "item": ["inspection_frequency", "custom_item"], "label": ["检查频次", None],
        "actual": [0.8, 1.0], "target": [2.0, 1.0], "points": [2.4, 3.0], "max_points": [6.0, 3.0]})
    page = str(report_scorecard.indicators(data, "T05", "2020-03"))
    assert "<td>检查频次</td>" in page and "inspection_frequency" not in page
    assert "<td>custom_item</td>" in page  # no label: the key is the best name there is


def test_scorecard_deductions_name_the_record_at_their_exact_place(tmp_path):
    """Each deduction is described by the clean record at its (file, row) in its component's table;
    a record sharing only the file or only the row number with a deduction is never taken for it."""
    import pandas as pd

    from pipeline import report_scorecard

    data = rh.load_tables(fx.write_processed(tmp_path / "processed"))
    data.tables["enforcement"] = pd.DataFrame({
        "source_file": ["a.xlsx", "a.xlsx", "b.xlsx"], "source_sheet": ["检查", "检查", "检查"],
        "source_row": pd.array([5, 6, 5], dtype="Int64"),
        "inspected_at": pd.to_datetime(["2020-03-02", "2020-03-03", "2020-03-04"]), "enterprise": ["甲公司", "乙公司", "丙公司"]})
    data.tables["hazards"] = pd.DataFrame({
        "source_file": ["a.xlsx"], "source_sheet": ["隐患"], "source_row": pd.array([5], dtype="Int64"),
        "level": ["一般"], "hazard_id": ["H-1"], "deadline": pd.to_datetime(["2020-03-10"]),
        "rectified_at": pd.to_datetime([None])})
    view = pd.DataFrame({
        "分项": ["A", "B", "A", "A", "A", "C"],
        "来源文件": ["a.xlsx", "a.xlsx", "b.xlsx", "b.xlsx", None, "a.xlsx"],
        "来源工作表": ["检查", "隐患", "检查", None, None, "事故"],
        "来源行": pd.array([5, 5, 6, 5, None, 5], dtype="Int64")})
    assert report_scorecard.record_summaries(data, view) == [
        "执法检查 2020-03-02 甲公司",
        "一般隐患 H-1 期限2020-03-10，未整改",
        "",  # b.xlsx has no row 6 (a.xlsx does, and b.xlsx has a row 5)
        "执法检查 2020-03-04 丙公司",  # no sheet named: the file and row suffice
        "",  # no place at all
        "",  # the accidents table has no record there
    ]
