"""Submission tracking (报送情况): who sent which monthly table, when, and whether on time.

Every registry unit owes, for every month, one table per source its group is expected to report
(rulebook `[submissions].expected_sources`; by default 属地单位 report accidents, enforcement and
hazards, 成员单位 enforcement and hazards). A table counts as submitted when the reader recognised
a sheet of that source (status ok) from that unit for that month, even an empty one: an empty sheet
is a zero report (零报告). It is on time when it arrived on or before the deadline day of the
following month (rulebook `deadline_day`, default the 5th, any time of that day).

Arrival is the 填报日期 the unit wrote in the file; without one, the file's modification time. The
written date is what the office's rules ask units to state, the modification time only what the
file system says (it changes when a file is copied), so it is the fallback and the table says which
one was used.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from pipeline.errors import InputError

SOURCES = ("accidents", "enforcement", "hazards", "annual_review")
GROUPS = ("办事处", "管理处", "成员单位")
DEFAULT_EXPECTED: dict[str, tuple[str, ...]] = {
    "办事处": ("accidents", "enforcement", "hazards"),
    "管理处": ("accidents", "enforcement", "hazards"),
    "成员单位": ("enforcement", "hazards"),
}
FROM_REPORT_DATE, FROM_MTIME = "填报日期", "文件修改时间"
ON_TIME, LATE, MISSING = "按时报送", "迟报", "未报送"
COLUMNS = ["unit_id", "name", "source", "period", "submitted", "source_file", "arrived_at",
           "arrived_from", "deadline", "on_time", "status"]
DEFAULT_LABELS = {"accidents": "事故", "enforcement": "执法检查", "hazards": "隐患排查", "annual_review": "年度考评"}
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class SubmissionRules:
    """The rulebook's `[submissions]` section.

    deadline_day: day of the following month by which a month's tables are due (1-28, so every
    month has it). expected_sources: registry group -> sources its units must report; a group
    not listed owes nothing.
    """

    deadline_day: int = 5
    expected_sources: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_EXPECTED))

    def __post_init__(self) -> None:
        day = self.deadline_day
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 28:
            raise InputError(f"[submissions] deadline_day 应为 1–28 的整数,而不是 {day!r}(deadline_day must be 1-28)")
        for group, sources in self.expected_sources.items():
            if group not in GROUPS:
                raise InputError(f"[submissions.expected_sources] 未知的单位类别“{group}”,应为 {' | '.join(GROUPS)}(unknown group)")
            unknown = [sources] if isinstance(sources, str) else [s for s in sources if s not in SOURCES]
            if unknown:
                raise InputError(f"[submissions.expected_sources] “{group}”的报表类型 {unknown} 有误,"
                                 f"应为 {' | '.join(SOURCES)} 组成的列表(unknown source)")

    @classmethod
    def from_mapping(cls, mapping: Mapping | None) -> SubmissionRules:
        """From the parsed TOML section; a missing key takes its default, an unknown key is refused."""
        mapping = dict(mapping or {})
        unknown = sorted(set(mapping) - {"deadline_day", "expected_sources"})
        if unknown:
            raise InputError(f"[submissions] 含未知的键:{'、'.join(unknown)}(unknown key)")
        expected = mapping.get("expected_sources", DEFAULT_EXPECTED)
        if not isinstance(expected, Mapping):
            raise InputError("[submissions] expected_sources 应为“单位类别 = [报表类型…]”的表(must be a table)")
        return cls(
            deadline_day=mapping.get("deadline_day", 5),
            expected_sources={str(g): tuple(s) if not isinstance(s, str) else s for g, s in expected.items()},
        )


def deadline_of(period: str, deadline_day: int) -> pd.Timestamp:
    """The deadline day of the month after `period` (2020-12 -> 2021-01-05)."""
    year, month = int(period[:4]), int(period[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return pd.Timestamp(dt.date(year, month, deadline_day))


def expected_submissions(registry: pd.DataFrame, periods: list[str], rules: SubmissionRules) -> pd.DataFrame:
    """One row per (unit, source, period) owed: registry order, then the rulebook's source order."""
    for period in periods:
        if not PERIOD.match(str(period)):
            raise InputError(f"报送期“{period}”格式应为 YYYY-MM(period must be YYYY-MM)")
    rows = [
        (unit_id, name, source, period)
        for period in sorted(periods)
        for unit_id, name, group in registry[["unit_id", "name", "group"]].itertuples(index=False)
        for source in rules.expected_sources.get(group, ())
    ]
    return pd.DataFrame(rows, columns=["unit_id", "name", "source", "period"], dtype="str")


def received_submissions(files: pd.DataFrame) -> pd.DataFrame:
    """What arrived, one row per (unit_id, source, period): earliest arrival, every file listed.

    A sheet's month is its title_period (title or file name); failing that, the optional
    `data_period` column (the month most of its clean rows fall in). Sheets that could not be
    read (status other than ok), or whose unit, source or month is unknown, submit nothing.
    """
    period = files["title_period"].astype("str")
    if "data_period" in files.columns:
        period = period.fillna(files["data_period"].astype("str"))
    report_date = pd.to_datetime(files["report_date"]).astype("datetime64[us]")
    mtime = pd.to_datetime(files["file_mtime"]).astype("datetime64[us]")
    sheets = pd.DataFrame({
        "unit_id": files["reporting_unit_id"].astype("str"),
        "source": files["source_type"].astype("str"),
        "period": period,
        "source_file": files["source_file"].astype("str"),
        "arrived_at": report_date.fillna(mtime),
        "arrived_from": pd.Series(FROM_REPORT_DATE, index=files.index, dtype="str").where(report_date.notna(), FROM_MTIME),
    })
    ok = files["status"].astype("str").eq("ok").fillna(False).astype(bool)
    sheets = sheets[ok & sheets[["unit_id", "source", "period"]].notna().all(axis=1)]
    sheets = sheets.sort_values(["arrived_at", "source_file"], na_position="last", kind="stable")
    key = ["unit_id", "source", "period"]
    first = sheets.drop_duplicates(key)
    all_files = sheets.drop_duplicates(key + ["source_file"]).groupby(key, sort=False)["source_file"].agg(";".join)
    return first.drop(columns="source_file").join(all_files, on=key)


def track_submissions(files: pd.DataFrame, registry: pd.DataFrame, periods: list[str],
                      rules: SubmissionRules) -> pd.DataFrame:
    """The `submissions` table: every owed (unit_id, source, period) with its arrival and status.

    status is 按时报送 (arrived on or before the deadline day), 迟报 (after it) or 未报送;
    on_time is NA when nothing arrived. When several files carry the same unit, source and month,
    the earliest arrival counts and source_file lists them all, earliest first, `;`-joined.
    """
    owed = expected_submissions(registry, periods, rules)
    received = received_submissions(files)
    table = owed.merge(received, on=["unit_id", "source", "period"], how="left", validate="one_to_one")
    table["submitted"] = table["source_file"].notna().astype(bool)
    table["deadline"] = table["period"].map(lambda p: deadline_of(p, rules.deadline_day)).astype("datetime64[us]")
    arrived = table["arrived_at"].astype("datetime64[us]")
    # On time through the whole deadline day: compare calendar days, not instants.
    on_time = (arrived.dt.normalize() <= table["deadline"]).astype("boolean").mask(~table["submitted"])
    table["arrived_at"] = arrived
    table["on_time"] = on_time
    # A sheet with no time at all (the reader always gives a file time) has the benefit of the doubt.
    status = pd.Series(ON_TIME, index=table.index, dtype="str")
    table["status"] = status.mask(on_time.eq(False).fillna(False), LATE).mask(~table["submitted"], MISSING)
    for column in ("source_file", "arrived_from"):
        table[column] = table[column].astype("str")
    return table[COLUMNS].reset_index(drop=True)


def submission_annex(submissions: pd.DataFrame, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The data-quality annex view: missing and late submissions, with Chinese headers.

    `labels` maps sources to their Chinese names (rules/ingest.toml `label`); 逾期天数 counts
    calendar days past the deadline day.
    """
    labels = {**DEFAULT_LABELS, **(labels or {})}
    late = submissions[submissions["status"].ne(ON_TIME)]
    days = (late["arrived_at"].dt.normalize() - late["deadline"]).dt.days.astype("Int64")
    annex = pd.DataFrame({
        "报送期": late["period"],
        "单位编号": late["unit_id"],
        "单位": late["name"],
        "报表": late["source"].map(lambda s: labels.get(s, s)).astype("str"),
        "报送情况": late["status"],
        "截止日期": late["deadline"].dt.strftime("%Y-%m-%d").astype("str"),
        "报送时间": late["arrived_at"].dt.strftime("%Y-%m-%d %H:%M").astype("str"),
        "时间依据": late["arrived_from"],
        "逾期天数": days.where(late["status"].eq(LATE)),
        "文件": late["source_file"],
    })
    order = annex["报送情况"].map({MISSING: 0, LATE: 1})
    return (annex.assign(_order=order).sort_values(["报送期", "_order", "单位编号", "报表"], kind="stable")
            .drop(columns="_order").reset_index(drop=True))


def source_labels(ingest_rules: Mapping) -> dict[str, str]:
    """Source -> Chinese label from the ingest rulebook (for submission_annex)."""
    return {name: spec.get("label", name) for name, spec in ingest_rules.get("sources", {}).items()}
