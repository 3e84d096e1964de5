"""Every chart builds from the processed tables and draws its Chinese labels with the CJK font."""

from __future__ import annotations

import io
import warnings

import pytest
import report_fixtures as fx
from matplotlib.figure import Figure

from pipeline import charts
from pipeline import report_tables as rt


@pytest.fixture(scope="module")
def tables():
    units = rt.units_frame(fx.monthly_scores())
    annual = rt.robustness_marks(rt.with_names(fx.annual_assessment(), units))
    return fx.monthly_scores(), annual


def _draw(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a failure
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_every_chart_draws(tables, caplog):
    scores, annual = tables
    figures = [
        charts.component_bars(scores, "2020-03"),
        charts.indicator_heatmap(rt.indicator_matrix(scores, "2020-03")),
        charts.rank_trends(rt.rank_history(scores, "2020-03", 6)),
        charts.annual_breakdown(annual, 2020),
        charts.robustness_intervals(annual, 2020),
    ]
    with caplog.at_level("WARNING", logger="matplotlib.font_manager"):
        for fig in figures:
            assert isinstance(fig, Figure)
            assert _draw(fig).startswith(b"\x89PNG")
    assert not caplog.records, [r.getMessage() for r in caplog.records]  # e.g. "findfont: … bold"


def test_highlighted_trend(tables):
    scores, _ = tables
    fig = charts.rank_trends(rt.rank_history(scores, "2020-03", 6), highlight="T05")
    assert _draw(fig).startswith(b"\x89PNG")


def test_component_bars_one_panel_per_group_best_on_top(tables):
    scores, _ = tables
    fig = charts.component_bars(scores, "2020-03")
    territorial, members = fig.axes[:2]
    assert territorial.get_title(loc="left") == "属地单位" and members.get_title(loc="left") == "成员单位"
    labels = [t.get_text() for t in territorial.get_yticklabels()]
    assert labels[-1] == "南湖办事处" and labels[0] == "高新区管理处"


def test_heatmap_uses_the_indicator_table_when_present(tables):
    scores, _ = tables
    indicators = fx.monthly_scores()[["unit_id", "period"]].assign(
        item="random_share", label="双随机检查占比", points=1.5, max_points=3.0)
    matrix = rt.indicator_matrix(scores, "2020-03", indicators)
    assert list(matrix.columns) == ["双随机检查占比"] and matrix.iloc[0, 0] == 0.5
    assert matrix.index[0] == "南湖办事处"


def test_empty_inputs_give_a_message_not_an_error():
    fig = charts.component_bars(fx.monthly_scores(), "2021-01")
    assert "无得分数据" in fig.axes[0].texts[0].get_text()
