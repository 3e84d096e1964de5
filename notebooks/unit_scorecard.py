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
UNIT_ID = "T01"
PERIOD = "2020-03"
PROCESSED_DIR = "../data/processed"
RULEBOOK = "../rules/rulebook-2020.toml"

# %%
# 单位成绩单 (unit scorecard), rendered with the monthly circular. Every number comes from the
# pipeline library; this notebook only lays the sections out.
from pipeline import report_helpers as rh
from pipeline import report_scorecard as scorecard

# %%
data = rh.load_tables(PROCESSED_DIR, RULEBOOK)

# %%
scorecard.title(data, UNIT_ID, PERIOD)

# %% [markdown]
# ## 一、本月成绩

# %%
scorecard.overview(data, UNIT_ID, PERIOD)

# %% [markdown]
# ## 二、指标与目标

# %%
scorecard.indicators(data, UNIT_ID, PERIOD)

# %% [markdown]
# ## 三、组内位置

# %%
scorecard.position(data, UNIT_ID, PERIOD)

# %%
scorecard.trend_chart(data, UNIT_ID, PERIOD)

# %% [markdown]
# ## 四、扣分明细（每项扣分的规则与来源记录）

# %%
scorecard.deductions(data, UNIT_ID, PERIOD)

# %%
rh.provenance(data, {"UNIT_ID": UNIT_ID, "PERIOD": PERIOD, "PROCESSED_DIR": PROCESSED_DIR, "RULEBOOK": RULEBOOK}, RULEBOOK)
