# 安全生产考评分析流水线 — the analyst's front door. `make help` lists the targets.
# The first target run on a fresh machine creates the virtual environment itself.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
RAW := data/raw
PROCESSED := data/processed
REPORTS := reports
MANIFEST := $(PROCESSED)/_manifest.json
RAW_FILES := $(shell find $(RAW) -type f -not -name '.*' 2>/dev/null)
SRC := $(filter-out pipeline/bench.py,$(wildcard pipeline/*.py)) $(wildcard rules/*.toml)
NOTEBOOKS := $(wildcard notebooks/*.py)
PERIOD ?=
YEAR ?=
REPORT_STAMP := $(REPORTS)/.made-monthly-$(or $(PERIOD),latest)
ANNUAL_STAMP := $(REPORTS)/.made-annual-$(or $(YEAR),latest)

.DEFAULT_GOAL := help
.PHONY: help setup sample report annual all process test templates bench clean

help: ## 列出全部命令 (list the targets)
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(VENV_STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test,bench]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

setup: $(VENV_STAMP) ## 建立运行环境 (create the virtual environment; done automatically)

sample: $(VENV_STAMP) ## 生成示例数据到 data/raw (write the deterministic sample data)
	$(PY) -m pipeline.generate --out $(RAW)

# The sample is written only when data/raw holds nothing but the registry.
sample-if-empty: $(VENV_STAMP)
	@if [ -z "$$(find $(RAW) -type f -not -name '.*' -not -name units.csv | head -1)" ]; then \
		echo "data/raw 中没有数据文件,生成示例数据 (no data files: writing the sample)"; \
		$(PY) -m pipeline.generate --out $(RAW); fi

$(MANIFEST): $(VENV_STAMP) $(RAW_FILES) $(SRC)
	$(PY) -m pipeline process --raw $(RAW) --processed $(PROCESSED)
	@touch $@

process: $(VENV_STAMP) sample-if-empty ## 原始数据 → 处理结果表 (raw → processed tables)
	@$(MAKE) --no-print-directory $(MANIFEST)

report: process ## 月度排名通报+单位成绩单 (monthly circular; PERIOD=YYYY-MM, default latest month)
	@$(MAKE) --no-print-directory $(REPORT_STAMP)

$(REPORT_STAMP): $(MANIFEST) $(NOTEBOOKS) $(SRC)
	$(PY) -m pipeline report $(if $(PERIOD),--period $(PERIOD)) --raw $(RAW) --processed $(PROCESSED) --reports $(REPORTS)
	@touch $@

annual: process ## 年度考核报告 (year-end assessment; YEAR=YYYY, default latest year)
	@$(MAKE) --no-print-directory $(ANNUAL_STAMP)

$(ANNUAL_STAMP): $(MANIFEST) $(NOTEBOOKS) $(SRC)
	$(PY) -m pipeline annual $(if $(YEAR),--year $(YEAR)) --raw $(RAW) --processed $(PROCESSED) --reports $(REPORTS)
	@touch $@

all: process ## 每个月的通报和每年的考核,并行生成 (every month and every year, in parallel)
	$(PY) -m pipeline all --raw $(RAW) --processed $(PROCESSED) --reports $(REPORTS)

templates: $(VENV_STAMP) ## 各单位报送模板 (submission templates; PERIOD=YYYY-MM)
	$(PY) -m pipeline templates $(if $(PERIOD),--period $(PERIOD)) --raw $(RAW) --reports $(REPORTS)

test: $(VENV_STAMP) ## 运行全部测试 (run the test suite)
	$(PY) -m pytest -p no:cacheprovider

bench: $(VENV_STAMP) ## 性能基准,写入 docs/benchmarks.md (benchmark; takes several minutes)
	$(PY) -m pipeline.bench

clean: ## 删除生成的表和报告 (remove generated tables and reports; data/raw is kept)
	find $(PROCESSED) $(REPORTS) -mindepth 1 -not -name .gitkeep -delete
