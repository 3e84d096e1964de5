"""Every chart builds from the processed tables as one well-formed SVG whose panels, labels and
values say what the data says."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
import report_fixtures as fx

from pipeline import charts, svg
from pipeline import report_tables as rt

NS = {"s": "http://www.w3.org/2000/svg"}


@pytest.fixture(scope="module")
def tables():
    units = rt.units_frame(fx.monthly_scores())
    annual = rt.robustness_marks(rt.with_names(fx.annual_assessment(), units))
    return fx.monthly_scores(), annual


def parse(chart: svg.Svg) -> ET.Element:
    root = ET.fromstring(str(chart))  # well-formed, or this raises
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "http" not in str(chart).replace("http://www.w3.org/2000/svg", "")  # nothing fetched
    return root


def panel_labels(root: ET.Element) -> dict[str, list[str]]:
    return {g.get("data-group"): [t.text for t in g.iterfind(".//s:text[@class='label']", NS)]
            for g in root.iterfind(".//s:g[@class='panel']", NS)}


def test_every_chart_is_wellformed_svg(tables):
    scores, annual = tables
    charts_made = [
        charts.component_bars(scores, "2020-03"),
        charts.indicator_heatmap(rt.indicator_matrix(scores, "2020-03")),
        charts.rank_trends(rt.rank_history(scores, "2020-03", 6)),
        charts.annual_breakdown(annual, 2020),
        charts.robustness_intervals(annual, 2020),
    ]
    for chart in charts_made:
        root = parse(chart)
        assert root.find("s:title", NS).text == chart.title
        assert float(root.get("width")) > 0 and float(root.get("height")) > 0


def test_component_bars_one_panel_per_group_best_on_top(tables):
    scores, _ = tables
    root = parse(charts.component_bars(scores, "2020-03"))
    panels = panel_labels(root)
    assert list(panels) == ["属地单位", "成员单位"]
    assert panels["属地单位"][0] == "南湖办事处" and panels["属地单位"][-1] == "高新区管理处"
    # Each unit's total is printed at the end of its bar, with 2 decimals.
    values = [t.text for t in root.iterfind(".//s:text[@class='value']", NS)]
    assert f"{scores.loc[scores['period'] == '2020-03', 'score'].max():.2f}" in values


def test_bar_segments_are_proportional_to_the_points(tables):
    scores, _ = tables
    root = parse(charts.component_bars(scores, "2020-03"))
    first = next(root.iterfind(".//s:g[@class='panel']", NS))
    bars = [r for r in first.iterfind("s:rect", NS)][:3]  # the top unit's A, B, C
    top = rt.ranked(scores, "2020-03").iloc[0]
    widths = [float(r.get("width")) for r in bars]
    assert widths[0] / widths[1] == pytest.approx(float(top["A"]) / float(top["B"]), rel=0.02)


def test_heatmap_cells_show_percent_and_unassessed():
    matrix = pd.DataFrame({"双随机检查占比": [0.5, np.nan], "处罚率": [1.0, 0.0]}, index=["南湖办事处", "东湖办事处"])
    root = parse(charts.indicator_heatmap(matrix))
    texts = [t.text for t in root.iterfind(".//s:g[@class='cells']/s:text", NS)]
    assert texts == ["南湖办事处", "50%", "100%", "东湖办事处", "未评", "0%"]
    fills = [r.get("fill") for r in root.iterfind(".//s:g[@class='cells']/s:rect", NS)]
    assert fills[1] == svg.RED_YELLOW_GREEN[-1] and fills[3] == svg.RED_YELLOW_GREEN[0] and fills[2] == "#eeeeee"


def test_heatmap_uses_the_indicator_table_when_present(tables):
    scores, _ = tables
    indicators = fx.monthly_scores()[["unit_id", "period"]].assign(
        item="random_share", label="双随机检查占比", points=1.5, max_points=3.0)
    matrix = rt.indicator_matrix(scores, "2020-03", indicators)
    assert list(matrix.columns) == ["双随机检查占比"] and matrix.iloc[0, 0] == 0.5
    assert matrix.index[0] == "南湖办事处"


def test_highlighted_trend_draws_that_unit_last_and_in_red(tables):
    scores, _ = tables
    root = parse(charts.rank_trends(rt.rank_history(scores, "2020-03", 6), highlight="T05"))
    series = list(root.iterfind(".//s:g[@class='panel'][@data-group='属地单位']/s:g[@class='series']", NS))
    assert series[-1].get("data-unit") == "T05"
    assert series[-1].find("s:polyline", NS).get("stroke") == charts.HIGHLIGHT
    assert all(s.find("s:polyline", NS).get("stroke") == charts.FADED for s in series[:-1])


def test_rank_one_is_drawn_at_the_top():
    history = pd.DataFrame({"unit_id": ["T01", "T02"], "name": ["甲", "乙"], "period": ["2020-03", "2020-03"],
                            "rank": [1, 2], "ranking_group": ["属地单位", "属地单位"]})
    root = parse(charts.rank_trends(history))
    y = {g.get("data-unit"): float(g.find("s:circle", NS).get("cy")) for g in root.iterfind(".//s:g[@class='series']", NS)}
    assert y["T01"] < y["T02"]


def test_robustness_marks_non_robust_units(tables):
    _, annual = tables
    root = parse(charts.robustness_intervals(annual, 2020))
    labels = [t for t in root.iterfind(".//s:text[@class='label']", NS)]
    flagged = set(annual.loc[annual["non_robust"].fillna(False).astype(bool), "name"])
    for label in labels:
        assert ("（不稳健）" in label.text) == (label.text.replace("（不稳健）", "") in flagged)
        assert (label.get("fill") == charts.NON_ROBUST) == ("（不稳健）" in label.text)


def test_data_text_is_escaped():
    history = pd.DataFrame({"unit_id": ["T01"], "name": ['<script>alert("x")</script>&'], "period": ["2020-03"],
                            "rank": [1], "ranking_group": ["属地单位"]})
    chart = charts.rank_trends(history)
    assert "<script>" not in str(chart) and "&lt;script&gt;" in str(chart)
    parse(chart)


def test_empty_inputs_give_a_message_not_an_error():
    root = parse(charts.component_bars(fx.monthly_scores(), "2021-01"))
    assert "无得分数据" in root.find(".//s:text[@class='message']", NS).text


def test_colour_scale_and_ticks():
    assert svg.colour_scale(0) == svg.RED_YELLOW_GREEN[0] and svg.colour_scale(1) == svg.RED_YELLOW_GREEN[-1]
    assert svg.colour_scale(-3) == svg.RED_YELLOW_GREEN[0] and svg.colour_scale(7) == svg.RED_YELLOW_GREEN[-1]
    assert svg.colour_scale(0.5) == svg.RED_YELLOW_GREEN[5]  # the middle anchor exactly
    assert svg.ticks(0, 100, 6) == [0, 20, 40, 60, 80, 100]
    assert svg.ticks(0, 1, 5) == [0, 0.25, 0.5, 0.75, 1.0]
    assert svg.text_width("南湖ab", 10) == pytest.approx(2 * 10 + 2 * 6)
