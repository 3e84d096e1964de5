"""The circular's auto-written summary: counts and names come from the tables."""

from __future__ import annotations

import pandas as pd
import report_fixtures as fx

from pipeline import narrative
from pipeline import report_tables as rt


def _summary(period="2020-03", **changes):
    tables = {"monthly_scores": fx.monthly_scores(), "accidents": fx.accidents(), "hazards": fx.hazards(),
              "submissions": fx.submissions(), **changes}
    return narrative.circular_summary(period, tables["monthly_scores"], tables["accidents"], tables["hazards"],
                                      submissions=tables["submissions"])


def test_accidents_and_changes():
    text = _summary()[0]
    assert "2020年3月，全区共发生生产安全事故2起、死亡1人" in text
    assert "迟报1起" in text
    assert "与上月（1起、死亡0人）相比，事故起数增加1起（上升100.0%），死亡人数增加1人" in text
    assert "去年同月（2019年3月）无数据" in text  # 2019 not covered: no comparison, not "zero"


def test_same_month_last_year_compared_when_covered():
    scores = fx.monthly_scores()
    last_year = scores.assign(period=scores["period"].str.replace("2020", "2019"))
    accidents = fx.accidents()
    old = accidents.iloc[[1, 1, 1]].copy()
    old["occurred_at"] = pd.to_datetime(["2019-03-02", "2019-03-09", "2019-03-30"]).astype("datetime64[us]")
    old["deaths"] = pd.array([1, 2, 0], dtype="Int64")
    text = _summary(monthly_scores=pd.concat([last_year, scores]), accidents=pd.concat([old, accidents]))[0]
    assert "与去年同月（3起、死亡3人）相比，事故起数减少1起（下降33.3%），死亡人数减少2人（下降66.7%）" in text


def test_a_month_without_accidents():
    assert _summary("2020-01")[0].startswith("2020年1月，全区未发生生产安全事故。")


def test_leaders_trailers_and_movers_per_group():
    paragraphs = _summary()
    territorial = next(p for p in paragraphs if p.startswith("【属地单位】"))
    assert "前3名为：南湖办事处（92.00分）、东湖办事处（90.00分）、城北办事处（85.00分），予以表扬" in territorial
    assert "后3名为：凤凰办事处（83.00分）、青山办事处（77.00分）、高新区管理处（69.00分），予以通报" in territorial
    assert "排名上升最多的是凤凰办事处（上升2位）" in territorial
    assert "下降最多的是青山办事处（下降2位）" in territorial
    members = next(p for p in paragraphs if p.startswith("【成员单位】"))
    assert "各单位排名均持平" in members


def test_without_honour_column_small_groups_are_halved():
    scores = fx.monthly_scores().drop(columns=["honour"])
    members = next(p for p in _summary(monthly_scores=scores) if p.startswith("【成员单位】"))
    assert "第1名为：区应急管理局（93.00分），予以表扬" in members
    assert "末位为：区交通运输局（55.00分），予以通报" in members


def test_first_month_has_no_movers():
    territorial = next(p for p in _summary("2020-01") if p.startswith("【属地单位】"))
    assert "本月为首次排名" in territorial


def test_overdue_major_hazards_at_month_end():
    text = next(p for p in _summary() if "重大隐患" in p)
    assert text.startswith("截至2020年3月31日，全区逾期未整改重大隐患2项")
    assert "东湖办事处（1项）" in text and "青山办事处（1项）" in text
    assert "其中挂牌督办1项" in text


def test_overdue_counts_as_of_that_month_not_the_data_end():
    # In January neither 重大 hazard was due yet.
    assert "无逾期未整改重大隐患" in next(p for p in _summary("2020-01") if "重大隐患" in p)


def test_missing_submissions_named_with_their_tables():
    assert _summary()[-1] == "2020年3月未收到以下1个单位的报表：区交通运输局（执法检查、隐患排查），请督促报送。"
    assert _summary("2020-02")[-1] == "2020年2月各单位报表均已收到。"


def test_missing_submissions_sentence_skipped_without_a_table():
    paragraphs = narrative.circular_summary("2020-03", fx.monthly_scores(), fx.accidents(), fx.hazards())
    assert not any("报表" in p for p in paragraphs)


def test_derived_submissions_when_the_runner_wrote_none():
    derived = rt.submissions_from_data(fx.enforcement(), fx.hazards(), rt.units_frame(fx.monthly_scores()))
    missing = rt.missing_submissions("2020-03", rt.units_frame(fx.monthly_scores()), derived)
    assert list(missing["unit_id"]) == ["D03"]
