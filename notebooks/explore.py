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

# %% [markdown]
# # 探索 (exploration)
# Every processed table, one line each. The same library functions the reports use are one import
# away: `pipeline.report_tables`, `pipeline.narrative`, `pipeline.charts`.

# %% tags=["parameters"]
PROCESSED_DIR = "../data/processed"

# %%
from pipeline.report_helpers import read_table

# %%
accidents = read_table(PROCESSED_DIR, "accidents")

# %%
enforcement = read_table(PROCESSED_DIR, "enforcement")

# %%
hazards = read_table(PROCESSED_DIR, "hazards")

# %%
annual_review = read_table(PROCESSED_DIR, "annual_review")

# %%
quarantine = read_table(PROCESSED_DIR, "quarantine")

# %%
warnings = read_table(PROCESSED_DIR, "warnings")

# %%
files = read_table(PROCESSED_DIR, "files")

# %%
monthly_scores = read_table(PROCESSED_DIR, "monthly_scores")

# %%
deductions = read_table(PROCESSED_DIR, "deductions")

# %%
annual_assessment = read_table(PROCESSED_DIR, "annual_assessment")

# %%
monthly_scores.head()
