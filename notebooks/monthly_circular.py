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
PERIOD = "2020-03"
PROCESSED_DIR = "../data/processed"
RULEBOOK = "../rules/rulebook-2020.toml"
EXCEL_PATH = None  # `make report` sets it: where this run writes the Excel attachment

# %%
# 月度排名通报 (monthly ranking circular), rendered by `make report`. Every number comes from the
# pipeline library; this notebook only lays the sections out.
from pipeline import export
from pipeline import report_helpers as rh
from pipeline import report_monthly as monthly

# %%
data = rh.load_tables(PROCESSED_DIR, RULEBOOK)

# %%
rh.title("安全生产月度排名通报", PERIOD)

# %%
rh.provenance(data, {"PERIOD": PERIOD, "PROCESSED_DIR": PROCESSED_DIR, "RULEBOOK": RULEBOOK}, RULEBOOK)

# %% [markdown]
# ## 一、总体情况

# %%
monthly.summary(data, PERIOD)

# %% [markdown]
# ## 二、综合排名

# %%
monthly.ranking_tables(data, PERIOD)

# %% [markdown]
# ## 三、分项得分

# %%
monthly.component_chart(data, PERIOD)

# %%
monthly.heatmap(data, PERIOD)

# %% [markdown]
# ## 四、排名走势

# %%
monthly.rank_trend_chart(data, PERIOD)

# %% [markdown]
# ## 五、本月事故

# %%
monthly.accident_list(data, PERIOD)

# %% [markdown]
# ## 六、逾期未整改隐患

# %%
monthly.overdue_hazard_list(data, PERIOD)

# %% [markdown]
# ## 附件：数据质量
# ### 各单位报送情况

# %%
monthly.missing_submissions(data, PERIOD)

# %% [markdown]
# ### 隔离的数据行及原因

# %%
monthly.quarantine_summary(data, PERIOD)

# %%
monthly.quarantine_detail(data, PERIOD)

# %% [markdown]
# ### 警告

# %%
monthly.warnings_list(data, PERIOD)

# %% [markdown]
# ### 文件清单

# %%
monthly.files_summary(data, PERIOD)

# %%
# 附件：Excel 工作簿 (the Excel attachment: rankings, components, deductions), from the tables above;
# `make report` puts it beside the HTML and PDF once the whole circular is made.
if EXCEL_PATH:
    export.write_monthly_workbook(EXCEL_PATH, data, PERIOD, RULEBOOK)
