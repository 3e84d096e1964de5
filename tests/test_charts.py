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


def texts(element: ET.Element, cls: str | None = None) -> list[str]:
    """The strings drawn under `element` (outlined text groups carry theirs in data-text)."""
    found = element.iterfind(f".//s:g[@class='{cls}']" if cls else ".//s:g[@data-text]", NS)
    return [g.get("data-text") for g in found]


def panel_labels(root: ET.Element) -> dict[str, list[str]]:
    return {g.get("data-group"): texts(g, "label") for g in root.iterfind(".//s:g[@class='panel']", NS)}


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
    values = texts(root, "value")
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
    cells = [g.get("data-text") for g in root.iterfind(".//s:g[@class='cells']/s:g", NS)]
    assert cells == ["南湖办事处", "50%", "100%", "东湖办事处", "未评", "0%"]
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
    labels = list(root.iterfind(".//s:g[@class='label']", NS))
    flagged = set(annual.loc[annual["non_robust"].fillna(False).astype(bool), "name"])
    assert labels
    for label in labels:
        text = label.get("data-text")
        assert ("（不稳健）" in text) == (text.replace("（不稳健）", "") in flagged)
        assert (label.get("fill") == charts.NON_ROBUST) == ("（不稳健）" in text)


def test_data_text_is_escaped():
    history = pd.DataFrame({"unit_id": ["T01"], "name": ['<script>alert("x")</script>&'], "period": ["2020-03"],
                            "rank": [1], "ranking_group": ["属地单位"]})
    chart = charts.rank_trends(history)
    assert "<script>" not in str(chart) and "&lt;script&gt;" in str(chart)
    parse(chart)


def test_empty_inputs_give_a_message_not_an_error():
    root = parse(charts.component_bars(fx.monthly_scores(), "2021-01"))
    assert "无得分数据" in root.find(".//s:g[@class='message']", NS).get("data-text")


def test_colour_scale_and_ticks():
    assert svg.colour_scale(0) == svg.RED_YELLOW_GREEN[0] and svg.colour_scale(1) == svg.RED_YELLOW_GREEN[-1]
    assert svg.colour_scale(-3) == svg.RED_YELLOW_GREEN[0] and svg.colour_scale(7) == svg.RED_YELLOW_GREEN[-1]
    assert svg.colour_scale(0.5) == svg.RED_YELLOW_GREEN[5]  # the middle anchor exactly
    assert svg.ticks(0, 100, 6) == [0, 20, 40, 60, 80, 100]
    assert svg.ticks(0, 1, 5) == [0, 0.25, 0.5, 0.75, 1.0]
    assert svg.text_width("南湖", 10) == pytest.approx(20)  # CJK glyphs are one em wide in the font
    assert svg.text_width("ab", 10) < svg.text_width("南湖", 10)


def test_chinese_is_drawn_with_the_projects_font_not_the_viewers():
    """Every string is the bundled font's outlines: a machine without a Chinese font shows the
    same chart (SPEC: "a CJK font the project installs itself; no missing-glyph boxes")."""
    history = pd.DataFrame({"unit_id": ["T01"], "name": ["港口物流园管理处"], "period": ["2020-03"],
                            "rank": [1], "ranking_group": ["属地单位"]})
    root = parse(charts.rank_trends(history, "近6个月排名走势"))
    assert root.find(".//s:text", NS) is None  # nothing left to the viewer's fonts
    glyphs = {p.get("id"): p.get("d") for p in root.iterfind("s:defs/s:path", NS)}
    assert len(glyphs) == len(set("港口物流园管理处近6个月排名走势属地单位名次2020-03" + "1")) and all(glyphs.values())
    uses = [u.get("href")[1:] for u in root.iterfind(".//s:use", NS)]
    assert set(uses) == set(glyphs)


def test_printing_swaps_outlines_for_text_at_the_same_place():
    from pipeline import pdf

    chart = charts.rank_trends(pd.DataFrame({"unit_id": ["T01"], "name": ["南湖办事处"], "period": ["2020-03"],
                                             "rank": [1], "ranking_group": ["属地单位"]}), "走势")
    (figure,) = pdf.blocks(f"<html><body>{chart}</body></html>")
    printed = ET.fromstring(figure["svg"])  # standalone SVG, as Typst reads it
    assert printed.get("viewBox") == ET.fromstring(str(chart)).get("viewBox")  # spelled as SVG spells it
    assert printed.find(".//s:use", NS) is None and printed.find(".//s:defs", NS) is None
    label = printed.find(".//s:text[@class='label']", NS)
    outlined = ET.fromstring(str(chart)).find(".//s:g[@class='label']", NS)
    assert label.text == "南湖办事处" and label.get("fill") == outlined.get("fill")
    x, y = outlined.get("transform").split("translate(")[1].split(")")[0].split()
    assert (label.get("x"), label.get("y")) == (x, y)


def test_a_very_long_name_is_shortened_and_the_bars_keep_their_room(tables):
    scores, _ = tables
    long_name = "区" + "很长很长的单位名称" * 20
    named = scores.assign(name=scores["name"].where(scores["unit_id"] != "T01", long_name))
    root = parse(charts.component_bars(named, "2020-03"))
    labels = texts(root, "label")
    shortened = [label for label in labels if label.endswith("…")]
    assert len(shortened) == 1 and long_name.startswith(shortened[0][:-1])
    assert svg.text_width(shortened[0], charts.LABEL_SIZE) <= charts.LONGEST_LABEL + 0.01
    bars = [float(r.get("width")) for r in root.iterfind(".//s:g[@class='panel']/s:rect", NS)]
    assert bars and min(bars) >= 0 and max(bars) > 100  # the plot was not squeezed to nothing


def test_control_characters_in_data_do_not_break_the_svg():
    history = pd.DataFrame({"unit_id": ["T01"], "name": ["南湖\x0b办事处\x00"], "period": ["2020-03"],
                            "rank": [1], "ranking_group": ["属地单位"]})
    root = parse(charts.rank_trends(history))
    assert texts(root, "label") == ["南湖办事处"]


def test_font_metrics_and_drawn_glyphs_are_kept_between_runs(tmp_path):
    from pipeline.fonts import font_path

    first = svg.Outlines(font_path(), tmp_path)
    drawn = {ch: first.path(ch) for ch in "南湖办事处7"}
    first.save()
    kept = sorted(p.name.rsplit(".", 1)[1] for p in tmp_path.iterdir())
    assert kept == ["glyphs", "lock", "metrics"]
    again = svg.Outlines(font_path(), tmp_path)  # another process, the next run
    assert again.paths == drawn and again._glyph_set is None  # the font's outlines are never opened
    assert (again.units, again.widths, again.glyph_names) == (first.units, first.widths, first.glyph_names)
    assert again.path("南") == drawn["南"] and again._glyph_set is None
    assert again.path("北") and again._glyph_set is not None  # a new character: drawn from the font
    again.save()
    assert "北" in svg.Outlines(font_path(), tmp_path).paths
    # Two processes drawing at once (the two report kernels): each one's new glyphs are kept.
    one, other = svg.Outlines(font_path(), tmp_path), svg.Outlines(font_path(), tmp_path)
    one.path("东"), other.path("西")
    one.save(), other.save()
    assert {"南", "北", "东", "西"} <= set(svg.Outlines(font_path(), tmp_path).paths)


def test_a_damaged_or_foreign_font_cache_entry_is_read_from_the_font_again(tmp_path):
    from pipeline.fonts import font_path

    reference = svg.Outlines(font_path(), tmp_path / "fresh")
    expected = reference.path("湖")
    for damage in (b"", b"not marshal data", None):
        folder = tmp_path / f"damaged-{len(damage) if damage is not None else 'foreign'}"
        kept = svg.Outlines(font_path(), folder)
        kept.path("湖")
        kept.save()
        entries = sorted(folder.glob("*.glyphs")) + sorted(folder.glob("*.metrics"))
        assert len(entries) == 2
        for entry in entries:
            if damage is None:  # well formed, but written for another font file
                import marshal

                key, payload = marshal.loads(entry.read_bytes())
                entry.write_bytes(marshal.dumps(("another font|1|2", payload)))
            else:
                entry.write_bytes(damage)
        outlines = svg.Outlines(font_path(), folder)
        assert outlines.paths == {}  # nothing taken from the damaged entry
        assert outlines.units == reference.units and outlines.widths == reference.widths
        assert outlines.path("湖") == expected


def test_a_font_cache_folder_that_cannot_be_written_is_done_without(tmp_path):
    from pipeline.fonts import font_path

    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    outlines = svg.Outlines(font_path(), blocked / "fonts")
    assert outlines.path("湖") and outlines.advance("湖") > 0
    outlines.save()
    assert blocked.read_text() == "x"
