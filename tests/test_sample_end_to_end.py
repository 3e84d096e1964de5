"""The whole sample year through `process`: what the generator planted is what the pipeline finds,
and every lost point in `deductions` reconciles exactly with the component scores."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from pipeline.config import RAW_DIR, REGISTRY_NAME, RULES_DIR
from pipeline.generate import write_sample
from pipeline.rulebook import load_rulebook, rulebook_for_year
from pipeline.runner import process


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    raw = tmp_path_factory.mktemp("sample_raw")
    shutil.copy(RAW_DIR / REGISTRY_NAME, raw / REGISTRY_NAME)
    plan = write_sample(raw)
    result = process(raw, tmp_path_factory.mktemp("sample_processed"), progress=lambda _: None, force=True)
    return plan, result.tables


def test_every_row_is_accounted_for_and_the_planted_findings_are_found(sample):
    plan, tables = sample
    files = tables["files"]
    ok = files[files["status"].eq("ok")]
    assert (ok["rows_read"] == ok["clean"] + ok["quarantined"] + ok["nondata"] + ok["duplicates"]).all()
    assert not files["status"].isin(["error", "unrecognised"]).any()
    quarantined_rows = tables["quarantine"].drop_duplicates(["source_file", "source_sheet", "source_row"])
    assert len(quarantined_rows) == sum(plan.bad_rows.values())
    duplicates = tables["warnings"][tables["warnings"]["kind"].eq("重复")]
    assert len(duplicates) == sum(plan.duplicates.values())
    for table, expected in plan.expected_records.items():
        assert len(tables[table]) == expected, table
    accidents = tables["accidents"].set_index("accident_id")
    assert set(accidents.index[accidents["level"].eq("较大")]) == set(plan.larger_accidents)
    assert set(accidents.index[accidents["late_report"].fillna(False).astype(bool)]) == set(plan.late_report_accidents)
    assert set(accidents.index[accidents["concealed"].fillna(False).astype(bool)]) == set(plan.concealed_accidents)


def test_submissions_match_what_the_generator_planted(sample):
    plan, tables = sample
    submissions = tables["submissions"]
    missing = submissions[submissions["status"].eq("未报送")]
    assert set(zip(missing["unit_id"], missing["source"], missing["period"])) == set(plan.missing_submissions)
    late = submissions[submissions["status"].eq("迟报")]
    assert set(zip(late["unit_id"], late["period"])) == {(unit, month) for unit, month, _ in plan.late_submissions}


def test_deductions_reconcile_with_every_component_score(sample):
    """For every unit, month and component: full points - sum of points lost == the score."""
    _, tables = sample
    scores, deductions = tables["monthly_scores"], tables["deductions"]
    full = {year: {c.key: c.points for c in load_rulebook(rulebook_for_year(RULES_DIR, int(year))).components}
            for year in {p[:4] for p in scores["period"]}}
    lost = deductions.groupby(["unit_id", "period", "component"])["points"].sum()
    checked = 0
    for component in ("A", "B", "C"):
        points = pd.Series([full[p[:4]][component] for p in scores["period"]], index=scores.index)
        keys = pd.MultiIndex.from_arrays([scores["unit_id"], scores["period"], pd.Series(component, index=scores.index)])
        taken = lost.reindex(keys, fill_value=0.0).to_numpy()
        assert abs((points.to_numpy() - taken) - scores[component].to_numpy()).max() < 1e-9, component
        checked += len(scores)
    assert checked == 3 * len(scores) > 0
