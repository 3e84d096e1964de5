# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
UNIT_IDS = ["T01"]
PERIOD = "2020-03"
PROCESSED_DIR = "../data/processed"
RULEBOOK = "../rules/rulebook-2020.toml"

# %%
# 单位成绩单 (unit scorecards), rendered with the monthly circular: one page per unit in UNIT_IDS,
# all from this one kernel (`make report` writes each page to its own HTML file). Every number comes
# from the pipeline library; this notebook only lays the sections out.
from pipeline import report_helpers as rh
from pipeline import report_scorecard as scorecard

# %%
data = rh.load_tables(PROCESSED_DIR, RULEBOOK)


# %%
def page(unit_id: str) -> list:
    """One unit's scorecard, section by section."""
    return [
        scorecard.title(data, unit_id, PERIOD),
        rh.heading("一、本月成绩", 2),
        scorecard.overview(data, unit_id, PERIOD),
        rh.heading("二、指标与目标", 2),
        scorecard.indicators(data, unit_id, PERIOD),
        rh.heading("三、组内位置", 2),
        scorecard.position(data, unit_id, PERIOD),
        scorecard.trend_chart(data, unit_id, PERIOD),
        rh.heading("四、扣分明细（每项扣分的规则与来源记录）", 2),
        scorecard.deductions(data, unit_id, PERIOD),
        rh.provenance(data, {"UNIT_ID": unit_id, "PERIOD": PERIOD, "PROCESSED_DIR": PROCESSED_DIR,
                             "RULEBOOK": RULEBOOK}, RULEBOOK),
    ]


# %%
rh.show_pages(UNIT_IDS, page)
