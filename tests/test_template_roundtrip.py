"""Round trip: a template filled in with valid values reads back through the normal pipeline with
zero quarantined rows and the same values; the unfilled padding rows are counted as non-data."""

from __future__ import annotations

import datetime as dt
import shutil
import tomllib

import pandas as pd

from pipeline.config import INGEST_RULES, RAW_DIR, REGISTRY_NAME
from pipeline.registry import load_registry
from pipeline.runner import process
from pipeline.templates import fill_template, write_templates


def test_filled_template_reads_back_clean(tmp_path):
    rules = tomllib.loads(INGEST_RULES.read_text("utf-8"))
    registry = load_registry(RAW_DIR / REGISTRY_NAME)
    paths = write_templates("2020-03", registry, rules, tmp_path / "templates")
    territorial = next(p for p in paths if "南湖办事处" in p.name)
    department = next(p for p in paths if "住房和城乡建设局" in p.name)
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(RAW_DIR / REGISTRY_NAME, raw / REGISTRY_NAME)
    fill_template(territorial, {
        "accidents": [{"accident_id": "SG-1", "occurred_at": dt.datetime(2020, 3, 4, 9, 30),
                       "reported_at": dt.datetime(2020, 3, 4, 10, 0), "industry": "建筑施工",
                       "enterprise": "甲建筑公司", "deaths": 1, "serious_injuries": 0, "direct_loss_wan": 120.5}],
        "enforcement": [{"record_id": "ZF-1", "inspected_at": dt.date(2020, 3, 5), "enterprise": "乙公司",
                         "mode": "双随机", "hazards_found": 2, "case_filed": "是", "penalized": "是", "fine_wan": 1.5}],
        "hazards": [{"hazard_id": "YH-1", "enterprise": "丙公司", "found_at": dt.date(2020, 3, 2),
                     "deadline": dt.date(2020, 3, 20), "rectified_at": dt.date(2020, 3, 18), "level": "一般"}],
    }, report_date=dt.date(2020, 4, 3), out=raw / territorial.name)
    fill_template(department, {
        "enforcement": [{"record_id": "ZF-2", "inspected_at": dt.date(2020, 3, 9), "enterprise": "丁公司",
                         "mode": "专项", "hazards_found": 0, "case_filed": "否", "penalized": "否"}],
    }, report_date=dt.date(2020, 4, 6), out=raw / department.name)

    result = process(raw, tmp_path / "processed", progress=lambda _: None, score=False)
    tables, files = result.tables, result.files
    assert tables["quarantine"].empty, tables["quarantine"][["source_file", "source_row", "column", "reason"]]
    accident = tables["accidents"].iloc[0]
    assert (accident["unit_id"], accident["department_id"], accident["deaths"]) == ("T01", "D02", 1)
    assert accident["occurred_at"] == pd.Timestamp("2020-03-04 09:30") and accident["late_report"] == False  # noqa: E712
    assert accident["direct_loss_wan"] == 120.5 and accident["level"] == "一般"
    enforcement = tables["enforcement"].set_index("record_id")
    assert enforcement.loc["ZF-1", "unit_id"] == "T01" and enforcement.loc["ZF-2", "unit_id"] == "D02"
    assert enforcement.loc["ZF-1", "fine_wan"] == 1.5 and bool(enforcement.loc["ZF-1", "case_filed"])
    assert enforcement.loc["ZF-2", "mode"] == "专项" and enforcement.loc["ZF-2", "inspected_at"] == pd.Timestamp("2020-03-09")
    hazard = tables["hazards"].iloc[0]
    assert (hazard["unit_id"], hazard["level"], bool(hazard["overdue"])) == ("T01", "一般", False)
    ok = files[files["status"].eq("ok")]
    assert set(ok["reporting_unit_id"]) == {"T01", "D02"}
    assert set(ok["title_period"]) == {"2020-03"}
    assert set(ok.loc[ok["reporting_unit_id"].eq("D02"), "report_date"]) == {pd.Timestamp("2020-04-06")}
    assert (ok["rows_read"] == ok["clean"] + ok["quarantined"] + ok["nondata"] + ok["duplicates"]).all()
    assert not files["status"].isin(["error", "unrecognised"]).any(), files[["source_sheet", "status", "message"]]
