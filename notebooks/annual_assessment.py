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
YEAR = "2020"
PROCESSED_DIR = "../data/processed"
RULEBOOK = "../rules/rulebook-2020.toml"
EXCEL_PATH = None  # `make annual` sets it: where this run writes the Excel attachment

# %%
# 年度考核报告 (year-end assessment), rendered by `make annual`. Every number comes from the
# pipeline library; this notebook only lays the sections out.
from pipeline import export
from pipeline import report_annual as annual
from pipeline import report_helpers as rh

# %%
data = rh.load_tables(PROCESSED_DIR, RULEBOOK)

# %%
rh.title("安全生产考核报告", YEAR)

# %%
rh.provenance(data, {"YEAR": YEAR, "PROCESSED_DIR": PROCESSED_DIR, "RULEBOOK": RULEBOOK}, RULEBOOK)

# %% [markdown]
# ## 一、总体情况

# %%
annual.overview(data, YEAR)

# %% [markdown]
# ## 二、考核得分与等级

# %%
annual.assessment_tables(data, YEAR)

# %% [markdown]
# ## 三、一票否决与黄牌警告

# %%
annual.vetoes(data, YEAR)

# %% [markdown]
# ## 四、分项得分

# %%
annual.breakdown_chart(data, YEAR)

# %% [markdown]
# ## 五、各月排名轨迹

# %%
annual.trajectory_chart(data, YEAR)

# %% [markdown]
# ## 六、名次稳健性

# %%
annual.robustness_chart(data, YEAR)

# %% [markdown]
# ## 七、与上年比较

# %%
annual.year_on_year(data, YEAR)

# %%
# 附件：Excel 工作簿 (the Excel attachment: assessment, monthly ranks, deductions), from the tables
# above; `make annual` puts it beside the HTML once the whole report is made.
if EXCEL_PATH:
    export.write_annual_workbook(EXCEL_PATH, data, YEAR, RULEBOOK)
