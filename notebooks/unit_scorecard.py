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
# 一、本月成绩；二、指标与目标；三、组内位置；四、扣分明细；报告信息 (report_scorecard.page)
rh.show_pages(UNIT_IDS, lambda unit_id: scorecard.page(data, unit_id, PERIOD, PROCESSED_DIR, RULEBOOK))
