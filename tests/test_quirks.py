"""Every quirk of SPEC "Raw data", each in a small file, read through the whole `process` at once.

One raw folder holds all the files (one run keeps the suite fast); each file has its own record
ids, units and enterprises so the files cannot interfere, except where a test is about that.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipeline.layout import read_meta
from pipeline.read import read_file

from helpers_raw import (ACCIDENT_HEADER, ENFORCEMENT_HEADER, HAZARD_HEADER, accident, assert_conserved, credit_code, hazard,
                         inspection, record, run_process, submission, write_sheet, write_workbook)

CODE = credit_code("91350100M000100Y4")
MARCH = "2020年3月"

# --- file 1: merged title, 填报 line with full-width colons, messy header, every date/bool/number form ---

QUIRKY_HEADER = ["检查编号", "执法单位", "检查日期", "被检查单位", "统一社会信用代码", "检查方式", "发现 隐患数",
                 "是否立案", "是否处罚", "罚款金额（万元）", "执法公示", "全过程记录", "法制审核"]
QUIRKY_ROWS = [
    ["Q-01", "东湖办事处", "2020-03-05", "企业Q01", CODE, "双随机抽查", "3项", "是", "是", "12.5万元", "√", "Y", "1"],
    ["Q-02", "东湖办", "2020/3/6", "企业Q02", "", "日常检查", "３项", "否", "否", "", "×", "N", "0"],
    ["Q-03", "东湖办事处", "2020.3.7", "企业Q03", "", "专项检查", 2, "有", "有", "5000元", "无", "y", "n"],
    None,  # blank row
    ["Q-04", "东湖办事处", "2020年3月8日", "企业Q04", "", "举报核查", "0", "1", "1", "0.5万", "1", "1", "是"],
    ["Q-05", "东湖办事处", 43898, "企业Q05", "", "双随机", "1个", "0", "0", "", "0", "0", ""],
    ["Q-06", "东湖办事处", dt.datetime(2020, 3, 9), "企业Q06", "", "", "", "", "", "", "", "", ""],
    ["Q-07", "东湖办事处", "２０２０年３月１０日", "企业Q07", "", "", "", "", "", "", "", "", ""],
    ["Q-08", "东湖办事处", dt.datetime(2020, 3, 11, 14, 30), "企业Q08", "", "", "", "", "", "", "", "", ""],
    ["Q-09", "东湖办事处", "2020-03-12 09:15", "企业Q09", "", "", "", "", "", "", "", "", ""],
    ["小计", "", "", "", "", "", "6", "", "", "12.55", "", "", ""],
    ["", "合 计", "", "", "", "", "6", "", "", "12.55", "", "", ""],
    None,
    ["填报人：张三", "", "审核人：李四", "", "联系电话：13812345678"],
    ["注：本表每月5日前报送"],
]
QUIRKY_EXPECTED = {  # record_id: (inspected_at, hazards_found, case_filed, penalized, fine_wan, publicized, recorded, legal_review, mode)
    "Q-01": ("2020-03-05", 3, True, True, 12.5, True, True, True, "双随机"),
    "Q-02": ("2020-03-06", 3, False, False, None, False, False, False, "计划"),
    "Q-03": ("2020-03-07", 2, True, True, 0.5, False, True, False, "专项"),
    "Q-04": ("2020-03-08", 0, True, True, 0.5, True, True, True, "举报核查"),
    "Q-05": ("2020-03-08", 1, False, False, None, False, False, None, "双随机"),
    "Q-06": ("2020-03-09", None, None, None, None, None, None, None, None),
    "Q-07": ("2020-03-10", None, None, None, None, None, None, None, None),
    "Q-08": ("2020-03-11", None, None, None, None, None, None, None, None),
    "Q-09": ("2020-03-12", None, None, None, None, None, None, None, None),
}

# --- file 2: a two-row header with merged group cells, as xlsx, HTML .xls and CSV ---------------------------

TWO_ROW_UPPER = ["检查编号", "执法单位", "检查日期", "被检查单位", "处罚情况", "", "", "公示与记录", ""]
TWO_ROW_LOWER = ["", "", "", "", "是否立案", "是否处罚", "罚款金额(万元)", "执法公示", "全过程记录"]
TWO_ROW_MERGES = [(0, 0, 0, 8), (1, 0, 2, 0), (1, 1, 2, 1), (1, 2, 2, 2), (1, 3, 2, 3), (1, 4, 1, 6), (1, 7, 1, 8)]


def two_row_rows(tag: str) -> list[list]:
    return [
        [f"{tag}-1", "城北办事处", "2020-03-16", f"企业{tag}1", "是", "是", "2.5", "是", "否"],
        [f"{tag}-2", "城北办", "2020年3月17日", f"企业{tag}2", "否", "否", "", "否", "是"],
    ]


# --- file 3: hazards as HTML tables and CSVs in every encoding -----------------------------------------------


def hazard_rows(tag: str, enterprise: str) -> list[list]:
    return [
        hazard(隐患编号=f"{tag}-1", 属地单位="凤凰办事处", 企业名称=enterprise, 发现日期="2020年3月2日", 整改期限="2020-03-20",
               整改完成日期="2020/3/15", 隐患等级="一般隐患", 挂牌督办="否", 来源="企业自查"),
        hazard(隐患编号=f"{tag}-2", 属地单位="凤凰办", 企业名称=enterprise, 发现日期="2020-03-03", 整改期限="2020.4.30",
               整改完成日期="", 隐患等级="重大隐患", 挂牌督办="√", 来源="举报"),
    ]


ENCODED = {  # file name -> (format, byte encoding, declared charset, enterprise with characters the encoding needs)
    "隐患_html_utf8.xls": ("html", "utf-8", "utf-8", "𠮷野家餐饮"),
    "隐患_html_gbk.xls": ("html", "gbk", "gbk", "喆鑫五金厂"),
    "隐患_csv_utf8.csv": ("csv", "utf-8", None, "𠮷祥物流"),
    "隐患_csv_bom.csv": ("csv", "utf-8-sig", None, "镕铸机械"),
    "隐患_csv_gbk.csv": ("csv", "gbk", None, "堃鹏化工"),
    "隐患_csv_gb18030.csv": ("csv", "gb18030", None, "𠮷庆建材"),
    # web-system exports: tab-separated text named .xls; Excel's "web page" .xls with an XML declaration
    "隐患_tsv_gbk.xls": ("tsv", "gbk", None, "制表符导出"),
    "隐患_xml_gb2312.xls": ("xml-html", "gb2312", "gb2312", "网页另存"),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    raw = tmp_path_factory.mktemp("quirks") / "raw"

    title = f"{MARCH}执法检查情况统计表"
    grid = [[title], ["填报单位：东湖办事处　　填报日期：2020年4月2日"], QUIRKY_HEADER] + [r or [] for r in QUIRKY_ROWS]
    write_sheet(raw / "2020年3月执法检查_A.xlsx", grid, merges=[(0, 0, 0, 12), (1, 0, 1, 12)], sheet="执法检查")

    for tag, name, fmt in (("TX", "两行表头.xlsx", "xlsx"), ("TH", "两行表头_网页.xls", "html"), ("TC", "两行表头.csv", "csv")):
        grid = [[f"{MARCH}执法检查情况统计表"], TWO_ROW_UPPER, TWO_ROW_LOWER] + two_row_rows(tag)
        write_sheet(raw / name, grid, fmt=fmt, merges=TWO_ROW_MERGES, sheet="Sheet1", encoding="utf-8")

    for name, (fmt, encoding, charset, enterprise) in ENCODED.items():
        tag = name.split("_", 1)[1].split(".")[0].upper()
        grid, _ = submission(f"{MARCH}隐患排查治理台账", HAZARD_HEADER, hazard_rows(tag, enterprise),
                             unit_line="填报单位:凤凰办事处 填报日期:2020-04-01")
        if fmt == "tsv":
            (raw / name).write_bytes("\r\n".join("\t".join(map(str, row)) for row in grid).encode(encoding))
        elif fmt == "xml-html":
            page = write_sheet(raw / name, grid, fmt="html", encoding=encoding, charset=charset).read_bytes()
            (raw / name).write_bytes(f'<?xml version="1.0" encoding="{charset}"?>\n'.encode() + page)
        else:
            write_sheet(raw / name, grid, fmt=fmt, encoding=encoding, charset=charset)

    # A real BIFF .xls with real date cells and a merged title.
    rows = [
        record(ACCIDENT_HEADER, 事故编号="XLS-1", 发生时间=dt.datetime(2020, 3, 21, 9, 30), 报告时间=dt.datetime(2020, 3, 21, 10, 0),
               属地单位="青山办事处", 所属行业="建筑施工", 事故发生单位="青山建工", 死亡人数=1, 重伤人数=0, 直接经济损失=85.5, 事故级别="一般"),
        record(ACCIDENT_HEADER, 事故编号="XLS-2", 发生时间=dt.date(2020, 3, 22), 报告时间="", 属地单位="青山办",
               所属行业="危险化学品", 事故发生单位="青山化工", 死亡人数="0", 重伤人数="2人", 直接经济损失="3000元"),
    ]
    grid, _ = submission(f"{MARCH}生产安全事故统计表", ACCIDENT_HEADER, rows, unit_line=None)
    write_sheet(raw / "事故_BIFF.xls", grid, merges=[(0, 0, 0, 9)], sheet="事故")

    # Unit names: registry names, aliases, a misspelling.
    rows = [
        inspection(检查编号="U-1", 执法单位="高新处", 被检查单位="企业U1"),
        inspection(检查编号="U-2", 执法单位="区住建局", 被检查单位="企业U2"),
        inspection(检查编号="U-3", 执法单位="高新区管委处", 被检查单位="企业U3"),
        inspection(检查编号="U-4", 执法单位="区应急管理局 ", 被检查单位="企业U4"),
    ]
    grid, _ = submission(f"{MARCH}执法检查", ENFORCEMENT_HEADER, rows, unit_line=None)
    write_sheet(raw / "单位名称.csv", grid, encoding="gbk")

    # Duplicates: the same accident in two months' files, the same hazard in two months' files
    # (once with an id, once by natural key), identical rows in one file, and two hazards with
    # one natural key in one file (two different hazards, both kept).
    for month, deaths in (("3", "0"), ("4", "1")):
        grid, _ = submission(f"2020年{month}月生产安全事故统计表", ACCIDENT_HEADER,
                             [accident(事故编号="DUP-SG-1", 属地单位="港口物流园管理处", 事故发生单位="港口码头公司", 死亡人数=deaths,
                                       发生时间="2020-03-28 10:00", 报告时间="2020-03-28 10:20")], unit_line=None)
        write_sheet(raw / f"事故_2020年{month}月_港口.xlsx", grid)
    for month, done in (("3", ""), ("4", "2020-04-10")):
        rows = [hazard(隐患编号="DUP-YH-1", 属地单位="港口物流园管理处", 企业名称="港口仓储", 发现日期="2020-03-25",
                       整改期限="2020-04-15", 整改完成日期=done),
                hazard(隐患编号="", 属地单位="港口物流园管理处", 企业名称="港口冷库", 发现日期="2020-03-26",
                       整改期限="2020-04-20", 整改完成日期=done)]
        grid, _ = submission(f"2020年{month}月隐患排查治理台账", HAZARD_HEADER, rows, unit_line=None)
        write_sheet(raw / f"隐患_2020年{month}月_港口.csv", grid)
    same = inspection(检查编号="", 执法单位="区交通运输局", 被检查单位="交通企业", 检查日期="2020-03-18")
    twin_a = hazard(隐患编号="TW-1", 属地单位="东湖办事处", 企业名称="双隐患企业", 发现日期="2020-03-19", 整改期限="2020-03-30", 整改完成日期="")
    twin_b = hazard(隐患编号="TW-2", 属地单位="东湖办事处", 企业名称="双隐患企业", 发现日期="2020-03-19", 整改期限="2020-03-30", 整改完成日期="")
    grid, _ = submission(f"{MARCH}执法检查", ENFORCEMENT_HEADER, [same, same, same], unit_line=None)
    write_sheet(raw / "重复行.xlsx", grid)
    grid, _ = submission(f"{MARCH}隐患排查治理台账", HAZARD_HEADER, [twin_a, twin_b], unit_line=None)
    write_sheet(raw / "同键两隐患.xlsx", grid)

    # A workbook whose 汇总 sheet repeats its monthly sheet (no ids): each hazard once.
    rows = [hazard(隐患编号="", 属地单位="青山办事处", 企业名称=f"汇总企业{i}", 发现日期=f"2020-03-0{i}", 整改完成日期="") for i in (1, 2)]
    grid, _ = submission(f"{MARCH}隐患排查治理台账", HAZARD_HEADER, rows, unit_line=None)
    write_workbook(raw / "隐患_含汇总.xlsx", {"3月": grid, "汇总": grid})

    # Personal data: whole columns, and numbers inside free text.
    header = ACCIDENT_HEADER + ["事故类型", "姓名", "身份证号", "联系电话", "住址"]
    rows = [record(header, 事故编号="PD-1", 发生时间="2020-03-29 08:00", 属地单位="南湖办", 所属行业="道路运输",
                   事故发生单位="个体户(联系人13912345678)", 死亡人数="1", 事故类型="车辆伤害,死者身份证110101199003071234",
                   姓名="王五", 身份证号="11010119900307123X", 联系电话="13800001111", 住址="南湖区幸福路1号")]
    grid, _ = submission(f"{MARCH}生产安全事故统计表", header, rows, unit_line=None)
    write_sheet(raw / "事故_个人信息.xlsx", grid)

    result = run_process(raw, raw.parent / "processed")
    assert_conserved(result["files"])
    result.raw = raw
    return result


def rows_of(run, table: str, file_name: str) -> pd.DataFrame:
    frame = run[table]
    return frame[frame["source_file"].eq(file_name)].reset_index(drop=True)


def file_row(run, file_name: str) -> pd.Series:
    files = run["files"]
    match = files[files["source_file"].eq(file_name)]
    assert len(match) == 1, match
    return match.iloc[0]


# --- tests -------------------------------------------------------------------------------------------------


def test_every_file_was_read(run):
    files = run["files"]
    assert files["status"].eq("ok").all(), files[["source_file", "status", "message"]].to_string()


def test_title_unit_line_header_and_values(run):
    name = "2020年3月执法检查_A.xlsx"
    frame = rows_of(run, "enforcement", name).set_index("record_id")
    assert sorted(frame.index) == sorted(QUIRKY_EXPECTED)
    columns = ["inspected_at", "hazards_found", "case_filed", "penalized", "fine_wan", "publicized", "recorded", "legal_review", "mode"]
    for record_id, expected in QUIRKY_EXPECTED.items():
        got = frame.loc[record_id, columns].tolist()
        want = [pd.Timestamp(expected[0]), *expected[1:]]
        assert [None if pd.isna(v) else v for v in got] == want, record_id
    assert set(frame["unit_id"]) == {"T02"} and set(frame["unit"]) == {"东湖办事处"}
    assert frame.loc["Q-01", "credit_code"] == CODE
    # Excel rows: title 1, 填报 line 2, header 3, data from 4; the blank row 7 is skipped.
    assert frame["source_row"].tolist() == [4, 5, 6, 8, 9, 10, 11, 12, 13]
    assert set(frame["source_sheet"]) == {"执法检查"}


def test_non_data_rows_are_counted_not_mixed_with_data(run):
    row = file_row(run, "2020年3月执法检查_A.xlsx")
    assert (row["rows_read"], row["clean"], row["quarantined"], row["nondata"], row["duplicates"]) == (18, 9, 0, 9, 0)
    for kind, count in (("标题", 2), ("表头", 1), ("空行", 2), ("合计", 2), ("页脚", 2)):
        assert f"{kind}{count}" in row["nondata_detail"]
    assert not run["quarantine"]["source_file"].eq("2020年3月执法检查_A.xlsx").any()


def test_unit_and_date_lines_are_read_with_full_width_colons(run):
    row = file_row(run, "2020年3月执法检查_A.xlsx")
    assert row["reporting_unit_id"] == "T02"
    assert row["report_date"] == pd.Timestamp("2020-04-02")
    assert row["title_period"] == "2020-03"


@pytest.mark.parametrize("name, tag", [("两行表头.xlsx", "TX"), ("两行表头_网页.xls", "TH"), ("两行表头.csv", "TC")])
def test_two_row_header_with_merged_group_cells(run, name, tag):
    frame = rows_of(run, "enforcement", name)
    assert frame["record_id"].tolist() == [f"{tag}-1", f"{tag}-2"]
    assert frame["source_row"].tolist() == [4, 5]
    assert frame["unit_id"].tolist() == ["T03", "T03"]
    assert frame["inspected_at"].tolist() == [pd.Timestamp("2020-03-16"), pd.Timestamp("2020-03-17")]
    assert frame["case_filed"].tolist() == [True, False]
    assert frame["penalized"].tolist() == [True, False]
    assert frame["fine_wan"].iloc[0] == 2.5 and pd.isna(frame["fine_wan"].iloc[1])
    assert frame["publicized"].tolist() == [True, False]
    assert frame["recorded"].tolist() == [False, True]
    row = file_row(run, name)
    assert (row["rows_read"], row["clean"], row["nondata"]) == (5, 2, 3)


@pytest.mark.parametrize("name", list(ENCODED))
def test_html_xls_csv_and_tsv_in_every_encoding(run, name):
    _, _, _, enterprise = ENCODED[name]
    tag = name.split("_", 1)[1].split(".")[0].upper()
    frame = rows_of(run, "hazards", name)
    assert frame["hazard_id"].tolist() == [f"{tag}-1", f"{tag}-2"]
    assert frame["enterprise"].tolist() == [enterprise, enterprise]
    assert frame["unit_id"].tolist() == ["T04", "T04"]
    assert frame["level"].tolist() == ["一般", "重大"]
    assert frame["source"].tolist() == ["企业自查", "举报"]
    assert frame["supervised"].tolist() == [False, True]
    assert frame["found_at"].tolist() == [pd.Timestamp("2020-03-02"), pd.Timestamp("2020-03-03")]
    assert frame["deadline"].tolist() == [pd.Timestamp("2020-03-20"), pd.Timestamp("2020-04-30")]
    assert frame["rectified_at"].iloc[0] == pd.Timestamp("2020-03-15") and pd.isna(frame["rectified_at"].iloc[1])
    assert frame["source_row"].tolist() == [4, 5]
    row = file_row(run, name)
    assert row["reporting_unit_id"] == "T04" and row["report_date"] == pd.Timestamp("2020-04-01")


def test_real_biff_xls_with_date_cells(run):
    frame = rows_of(run, "accidents", "事故_BIFF.xls").set_index("accident_id")
    assert frame.loc["XLS-1", "occurred_at"] == pd.Timestamp("2020-03-21 09:30")
    assert frame.loc["XLS-1", "reported_at"] == pd.Timestamp("2020-03-21 10:00")
    assert frame.loc["XLS-1", "late_report"] == False  # noqa: E712
    assert frame.loc["XLS-1", "deaths"] == 1 and frame.loc["XLS-1", "direct_loss_wan"] == 85.5
    assert frame.loc["XLS-2", "occurred_at"] == pd.Timestamp("2020-03-22")
    assert frame.loc["XLS-2", "serious_injuries"] == 2 and frame.loc["XLS-2", "direct_loss_wan"] == pytest.approx(0.3)
    assert frame["unit_id"].tolist() == ["T05", "T05"]
    assert frame["department_id"].tolist() == ["D02", "D01"]
    assert frame["source_row"].tolist() == [3, 4] and set(frame["source_sheet"]) == {"事故"}


def test_alias_units_are_mapped_and_a_misspelling_is_quarantined_with_a_suggestion(run):
    frame = rows_of(run, "enforcement", "单位名称.csv").set_index("record_id")
    assert frame.loc["U-1", "unit_id"] == "T06" and frame.loc["U-1", "unit"] == "高新区管理处"
    assert frame.loc["U-2", "unit_id"] == "D02" and frame.loc["U-2", "unit"] == "区住房和城乡建设局"
    assert frame.loc["U-4", "unit_id"] == "D01"
    assert "U-3" not in frame.index
    quarantine = rows_of(run, "quarantine", "单位名称.csv")
    assert len(quarantine) == 1
    issue = quarantine.iloc[0]
    assert issue["source_row"] == 5 and issue["raw_value"] == "高新区管委处" and "unit" in issue["column"]
    assert issue["reason"].startswith("单位“高新区管委处”不在单位名册中,是否为:高新区管理处")  # nearest name first
    assert issue["reason"].endswith("(unknown unit; closest registry names)")


def test_same_accident_in_two_months_files_is_kept_once_latest_wins(run):
    kept = run["accidents"][run["accidents"]["accident_id"].eq("DUP-SG-1")]
    assert len(kept) == 1
    assert kept["source_file"].iloc[0] == "事故_2020年4月_港口.xlsx" and kept["deaths"].iloc[0] == 1
    duplicate = run["warnings"][run["warnings"]["kind"].eq("重复") & run["warnings"]["source_file"].eq("事故_2020年3月_港口.xlsx")]
    assert len(duplicate) == 1 and duplicate["source_row"].iloc[0] == 3
    assert "事故_2020年4月_港口.xlsx" in duplicate["reason"].iloc[0] and "第3行" in duplicate["reason"].iloc[0]
    assert file_row(run, "事故_2020年3月_港口.xlsx")["duplicates"] == 1


def test_same_hazard_in_two_months_files_is_kept_once(run):
    hazards = run["hazards"]
    port = hazards[hazards["unit_id"].eq("T07")]
    assert sorted(port["enterprise"]) == ["港口仓储", "港口冷库"]
    assert set(port["source_file"]) == {"隐患_2020年4月_港口.csv"}
    assert port["rectified_at"].notna().all()
    march = file_row(run, "隐患_2020年3月_港口.csv")
    assert (march["clean"], march["duplicates"]) == (0, 2)
    reasons = rows_of(run, "warnings", "隐患_2020年3月_港口.csv")["reason"]
    assert reasons.str.contains("隐患_2020年4月_港口.csv", regex=False).all()


def test_identical_rows_in_one_file_are_kept_once(run):
    assert len(rows_of(run, "enforcement", "重复行.xlsx")) == 1
    row = file_row(run, "重复行.xlsx")
    assert (row["clean"], row["duplicates"]) == (1, 2)
    warnings = rows_of(run, "warnings", "重复行.xlsx")
    assert warnings["kind"].eq("重复").all() and warnings["reason"].str.contains("(identical row)", regex=False).all()


def test_two_hazards_with_one_natural_key_in_one_file_are_both_kept(run):
    frame = rows_of(run, "hazards", "同键两隐患.xlsx")
    assert frame["hazard_id"].tolist() == ["TW-1", "TW-2"]
    assert file_row(run, "同键两隐患.xlsx")["duplicates"] == 0


def test_a_summary_sheet_repeating_a_monthly_sheet_counts_each_record_once(run):
    frame = rows_of(run, "hazards", "隐患_含汇总.xlsx")
    assert sorted(frame["enterprise"]) == ["汇总企业1", "汇总企业2"]
    assert set(frame["source_sheet"]) == {"汇总"}  # the later sheet wins
    duplicates = rows_of(run, "warnings", "隐患_含汇总.xlsx")
    assert duplicates["source_sheet"].tolist() == ["3月", "3月"] and duplicates["kind"].eq("重复").all()
    assert duplicates["reason"].str.contains("保留 隐患_含汇总.xlsx 汇总 第", regex=False).all()


def test_personal_data_columns_dropped_and_free_text_scrubbed(run):
    frame = rows_of(run, "accidents", "事故_个人信息.xlsx")
    assert len(frame) == 1
    for column in ("姓名", "身份证号", "联系电话", "住址", "name", "id_number", "phone", "address"):
        assert column not in frame.columns
    assert "110101199003071234" not in frame["accident_type"].iloc[0]
    assert frame["accident_type"].iloc[0].startswith("车辆伤害,死者身份证[已脱敏]")
    assert frame["enterprise"].iloc[0] == "个体户(联系人[已脱敏])"
    message = file_row(run, "事故_个人信息.xlsx")["message"]
    assert all(h in message for h in ("姓名", "身份证号", "联系电话", "住址")) and "(personal data dropped)" in message
    scrubbed = rows_of(run, "warnings", "事故_个人信息.xlsx")
    assert len(scrubbed) == 2 and scrubbed["reason"].str.contains("(personal numbers removed from text)", regex=False).all()


@pytest.mark.parametrize("lines, unit, date, period", [
    (["2020年3月执法检查情况统计表", "填报单位：东湖办事处　　填报日期：２０２０年４月２日"], "东湖办事处", "2020年4月2日", "2020-03"),
    (["填报单位（盖章）：区应急管理局", "报送日期:2020-04-02"], "区应急管理局", "2020-04-02", None),
    (["隐患排查治理台账", "填报单位:南湖办 填报人:张三 填报日期:2020年4月2日"], "南湖办", "2020年4月2日", None),
])
def test_unit_date_and_month_lines(lines, unit, date, period):
    """The reporting date is never taken for the month a sheet is about."""
    meta = read_meta(lines, "台账.xlsx")
    assert (meta.reporting_unit, meta.report_date, meta.title_period) == (unit, date, period)


@pytest.mark.parametrize("fmt, name", [("xls", "真xls改名.xlsx"), ("xlsx", "xlsx另存为.xls"), ("xlsx", "无扩展名")])
def test_a_renamed_workbook_is_read_by_its_bytes(tmp_path, fmt, name):
    grid, first = submission(f"{MARCH}隐患排查治理台账", HAZARD_HEADER, [hazard(隐患编号="R-1")])
    write_sheet(tmp_path / name, grid, fmt=fmt, merges=[(0, 0, 0, 8)], sheet="隐患")
    (sheet,) = read_file(tmp_path / name)
    assert sheet.name == "隐患" and sheet.merged == [((0, 0), (0, 8))]
    assert sheet.table().iloc[first - 1].tolist()[:2] == ["R-1", "南湖办事处"]


def test_a_workbook_read_as_columns_is_prepared_as_its_frame_would_be(tmp_path):
    """A workbook's sheet comes as Arrow columns and its first rows (RawSheet.columns, .head), its
    frame built only when asked for: the rows the layout is found from and the body cells cut out
    are the frame's, and the cells written back for formulas saved without a result are in them."""
    import dataclasses

    import openpyxl

    from pipeline import config
    from pipeline.clean import prepare_sheet
    from pipeline.ingest_rules import load_ingest_rules
    from pipeline.layout import SCAN_ROWS, sheet_rows
    from pipeline.read import UNSAVED_FORMULA

    rules = load_ingest_rules(config.INGEST_RULES)

    def prepared(sheet):
        part = prepare_sheet(sheet, "x.xlsx", rules)
        cells = {name: [v for chunk in chunks for v in chunk.to_pylist()] for name, chunks in part.cells.items()}
        return cells, part.rows.tolist(), part.summary, part.counts, part.meta

    rows = [inspection(检查编号=f"H-{i}", 被检查单位=f"H企业{i}") for i in range(40)]
    rows[0][ENFORCEMENT_HEADER.index("发现隐患数")] = "=1+2"  # no result saved: calamine reads ""
    grid, _ = submission("2020年3月执法检查情况统计表", ENFORCEMENT_HEADER, rows)
    book = openpyxl.Workbook()
    for row in grid:
        book.active.append(row)
    book.save(tmp_path / "head.xlsx")
    [sheet] = read_file(tmp_path / "head.xlsx")
    from_grid = sheet_rows(dataclasses.replace(sheet, head=None), SCAN_ROWS)
    assert sheet_rows(sheet, SCAN_ROWS) == from_grid
    assert any(cell.startswith(UNSAVED_FORMULA) for row in from_grid for cell in row)
    assert len(from_grid) == SCAN_ROWS
    rows[0][ENFORCEMENT_HEADER.index("发现隐患数")] = 3  # no formula: the reader's rows are kept and used
    for length in (40, 2):  # more rows than the layout looks at, and fewer
        grid, _ = submission("2020年3月执法检查情况统计表", ENFORCEMENT_HEADER, rows[:length])
        book = openpyxl.Workbook()
        for row in grid:
            book.active.append(row)
        book.save(tmp_path / f"kept{length}.xlsx")
        [sheet] = read_file(tmp_path / f"kept{length}.xlsx")
        assert sheet.head is not None and sheet.columns is not None and sheet.grid is None
        as_frame = dataclasses.replace(sheet, grid=sheet.table().copy(), head=None, columns=None)
        assert sheet_rows(sheet, SCAN_ROWS) == sheet_rows(as_frame, SCAN_ROWS)
        assert prepared(sheet) == prepared(as_frame)
        assert len(prepared(sheet)[1]) == length


def test_sources_cleaned_two_at_a_time_give_what_one_after_the_other_gives(run, tmp_path, monkeypatch):
    """A batch is cleaned two sources at a time (clean.TWO_AT_A_TIME); without it the same raw
    folder is cleaned one source after the other: every table equal."""
    from pipeline import clean

    assert clean.TWO_AT_A_TIME
    monkeypatch.setattr(clean, "TWO_AT_A_TIME", False)
    serial = run_process(run.raw, tmp_path / "processed")
    for name, table in run.tables.items():
        pd.testing.assert_frame_equal(serial[name], table, check_exact=True, obj=name)


def test_columns_parsed_on_both_cores_give_what_one_at_a_time_gives(run, tmp_path, monkeypatch):
    """A source's columns are parsed on the free cores (`cores.spread`) from clean.THREAD_ROWS
    rows; with the limit at 1 every source of the quirks corpus is (and a single one not at all
    without it), sources one after the other or two at a time: every table equal to the default run's."""
    from pipeline import clean, cores

    monkeypatch.setattr(cores, "LIMIT", 2)  # (two threads on a one-core machine too)
    monkeypatch.setattr(clean, "THREAD_ROWS", 1)
    calls = []
    spread = cores.spread
    monkeypatch.setattr(cores, "spread", lambda f, items, threads=True, window=cores.WINDOW:  # (the columns')
                        (window == clean.PARSE_WINDOW and calls.append(threads)) or spread(f, items, threads, window))
    for two in (False, True):
        monkeypatch.setattr(clean, "TWO_AT_A_TIME", two)
        calls.clear()
        threaded = run_process(run.raw, tmp_path / f"processed{two}")
        assert calls and set(calls) == {True}
        for name, table in run.tables.items():
            pd.testing.assert_frame_equal(threaded[name], table, check_exact=True, obj=name)


def test_a_text_parquet_read_as_columns_is_prepared_as_its_frame_would_be(tmp_path):
    """A Parquet export whose columns are all text comes as Arrow columns of several row groups
    (RawSheet.columns, chunked), nulls read as empty cells; prepared exactly as its frame would
    be. A Parquet file with a column of numbers still comes as a frame."""
    import dataclasses

    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline import config
    from pipeline.clean import prepare_sheet
    from pipeline.ingest_rules import load_ingest_rules
    from pipeline.layout import SCAN_ROWS, sheet_rows

    rules = load_ingest_rules(config.INGEST_RULES)

    def prepared(sheet):
        part = prepare_sheet(sheet, "x.parquet", rules)
        cells = {name: [v for chunk in chunks for v in chunk.to_pylist()] for name, chunks in part.cells.items()}
        return cells, part.rows.tolist(), part.summary, part.counts

    rows = [hazard(隐患编号=f"PQ-{i}", 企业名称=f"导出{i}") for i in range(100)]
    rows[3][HAZARD_HEADER.index("整改完成日期")] = None
    table = pa.table({name: pa.array([row[j] for row in rows], pa.string()) for j, name in enumerate(HAZARD_HEADER)})
    pq.write_table(table, tmp_path / "导出.parquet", row_group_size=30)  # four row groups
    [sheet] = read_file(tmp_path / "导出.parquet")
    assert sheet.grid is None and sheet.columns[0].num_chunks == 4 and sheet.height == 100
    assert sheet.preamble == [list(HAZARD_HEADER)] and sheet.head[3][HAZARD_HEADER.index("整改完成日期")] == ""
    as_frame = dataclasses.replace(sheet, grid=sheet.table().copy(), head=None, columns=None)
    assert sheet_rows(sheet, SCAN_ROWS) == sheet_rows(as_frame, SCAN_ROWS)
    assert prepared(sheet) == prepared(as_frame)
    assert prepared(sheet)[1] == list(range(2, 102))  # the header is row 1
    numbers = table.set_column(0, HAZARD_HEADER[0], pa.array(range(100)))
    pq.write_table(numbers, tmp_path / "数字.parquet")
    [sheet] = read_file(tmp_path / "数字.parquet")
    assert sheet.columns is None and sheet.table().iat[5, 0] == "5"


def test_a_parquet_sheets_repeating_text_is_read_as_dictionaries_and_cleaned_as_plain_text_is(tmp_path):
    """Parquet text read as dictionaries: a column whose values repeat stays dictionary chunks,
    one whose values barely repeat (ids) or with empty cells is read as plain text; cleaning
    the sheet (its dictionaries giving the distinct values, `clean._stacked`) gives exactly what
    cleaning the same cells as plain text gives, over several row groups with dictionaries of
    their own and a value no row uses."""
    import dataclasses

    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline import config
    from pipeline.clean import Registry, clean_sheet
    from pipeline.ingest_rules import load_ingest_rules
    from pipeline.read import _repeating
    from pipeline.registry import load_registry

    rules = load_ingest_rules(config.INGEST_RULES)
    registry = Registry(load_registry(config.RAW_DIR / config.REGISTRY_NAME))
    rows = [hazard(隐患编号=f"PQ-{i}", 企业名称=f"导出{i % 7}", 隐患等级=["一般", "重大", "乙级"][i % 3] if i < 50 else "一般")
            for i in range(120)]
    rows[5][HAZARD_HEADER.index("整改完成日期")] = None
    table = pa.table({name: pa.array([row[j] for row in rows], pa.string()) for j, name in enumerate(HAZARD_HEADER)})
    pq.write_table(table, tmp_path / "导出.parquet", row_group_size=40)  # 三个行组 (three row groups)
    [sheet] = read_file(tmp_path / "导出.parquet")
    repeating = _repeating(pq.ParquetFile(tmp_path / "导出.parquet").metadata)
    assert "企业名称" in repeating and "隐患编号" not in repeating  # (ids: not asked for as dictionaries)
    kinds = {name: pa.types.is_dictionary(column.type) for name, column in zip(HAZARD_HEADER, sheet.columns)}
    assert kinds["企业名称"] and kinds["隐患等级"] and not kinds["隐患编号"] and not kinds["整改完成日期"]
    assert sheet.columns[HAZARD_HEADER.index("隐患等级")].chunk(2).dictionary.to_pylist() == ["一般"]
    plain = dataclasses.replace(sheet, columns=[column.cast(pa.large_string()) for column in sheet.columns])
    dictionary, text = (clean_sheet(s, "导出.parquet", rules, registry) for s in (sheet, plain))
    assert len(dictionary.data) + len(dictionary.quarantine) == 120 and len(dictionary.quarantine)  # (乙级: no such level)
    for got, expected in ((dictionary.data, text.data), (dictionary.quarantine, text.quarantine), (dictionary.warnings, text.warnings)):
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_tables_finalized_two_at_a_time_give_what_one_after_the_other_gives(run, tmp_path, monkeypatch):
    """From frames.THREAD_ROWS rows in all, the batch checks work on two tables at a time, and
    from finalize.VALIDATE_HALVES_ROWS rows a table is validated in two halves; the quirks corpus
    is below both: with the limits at 1 it runs on two threads, and every table (quarantine and
    warnings included) equals the default run's."""
    from pipeline import cores, finalize, frames

    assert sum(run["files"]["rows_read"]) < min(frames.THREAD_ROWS, finalize.VALIDATE_HALVES_ROWS)
    monkeypatch.setattr(frames, "THREAD_ROWS", 1)
    monkeypatch.setattr(finalize, "VALIDATE_HALVES_ROWS", 1)
    monkeypatch.setattr(cores, "LIMIT", 2)
    calls = []
    each = cores.each
    monkeypatch.setattr(cores, "each", lambda f, items, threads=True: calls.append((len(items), threads))
                        or each(f, items, threads))
    threaded = run_process(run.raw, tmp_path / "processed")
    assert (4, True) in calls or (3, True) in calls  # the tables (those with rows)
    assert calls.count((2, True)) >= 3  # every table's halves, and the deductions beside the assessment
    for name, table in run.tables.items():
        pd.testing.assert_frame_equal(threaded[name], table, check_exact=True, obj=name)
    assert len(run.tables["warnings"]) and len(run.tables["quarantine"])


def test_process_has_big_blocks_handed_back_to_the_system(run, tmp_path, monkeypatch):
    """`process` sets glibc's mmap threshold once per process (frames.big_blocks_returned): each
    array of millions of rows is then returned when freed, and two threads' heaps do not stack
    their high-water marks into the peak. Without glibc nothing is set and nothing fails; big
    batches are then cleaned one source at a time."""
    import ctypes
    import sys
    import threading

    from pipeline import clean, frames

    calls = []

    class Libc:
        def mallopt(self, parameter, value):
            calls.append((parameter, value))
            return 1

        def malloc_trim(self, pad):  # (release_memory's)
            return 1

    monkeypatch.setattr(frames, "_LIBC", Libc())
    monkeypatch.setattr(frames, "_BIG_BLOCKS", [])
    assert not frames.big_blocks_in_effect()
    run_process(run.raw, tmp_path / "processed")
    run_process(run.raw, tmp_path / "again")
    assert calls == [(-3, 4 << 20)] and frames.big_blocks_in_effect()  # once per process
    monkeypatch.setattr(frames, "_LIBC", None)
    monkeypatch.setattr(frames, "_BIG_BLOCKS", [])
    assert frames.big_blocks_returned() is False and not frames.big_blocks_in_effect()
    # without it, a batch past TWO_AT_A_TIME_ROWS is cleaned one source after the other
    monkeypatch.setattr(clean, "TWO_AT_A_TIME_ROWS", 0)
    threads = []
    clean_source = clean._clean_source
    monkeypatch.setattr(clean, "_clean_source", lambda *a, **k: threads.append(threading.current_thread())
                        or clean_source(*a, **k))
    alone = run_process(run.raw, tmp_path / "alone")
    assert len(threads) > 1 and set(threads) == {threading.main_thread()}
    for name, table in run.tables.items():
        pd.testing.assert_frame_equal(alone[name], table, check_exact=True, obj=name)
    try:
        libc = ctypes.CDLL("libc.so.6") if sys.platform.startswith("linux") else None
    except OSError:  # (not glibc)
        libc = None
    if libc is not None and hasattr(libc, "mallopt"):  # the real glibc takes the setting
        assert libc.mallopt(-3, 4 << 20) == 1


def test_process_has_arrow_allocate_from_jemalloc_set_to_hand_pages_back(run, tmp_path, monkeypatch):
    """`process` switches Arrow to its jemalloc once per process (frames.arrow_allocator), set on
    Linux (on importing the package, before pyarrow loads) never to leave freed pages counted as
    resident (muzzy). A memory pool the user names wins, and a pyarrow without jemalloc keeps its
    default; the tables are the same whichever allocates."""
    import os
    import subprocess
    import sys

    import pyarrow as pa

    from pipeline import frames

    chosen = []
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    monkeypatch.setattr(frames, "_ARROW_POOL", [])
    monkeypatch.setattr(pa, "set_memory_pool", lambda pool: chosen.append(pool.backend_name))
    monkeypatch.setattr(pa, "jemalloc_memory_pool", lambda: pa.system_memory_pool())
    again = run_process(run.raw, tmp_path / "processed")
    run_process(run.raw, tmp_path / "again")
    assert chosen == ["system"] and frames._ARROW_POOL  # once per process
    for name, table in run.tables.items():
        pd.testing.assert_frame_equal(again[name], table, check_exact=True, obj=name)

    def unavailable():
        raise NotImplementedError("this build of pyarrow has no jemalloc")

    monkeypatch.setattr(frames, "_ARROW_POOL", [])
    monkeypatch.setattr(pa, "jemalloc_memory_pool", unavailable)
    assert frames.arrow_allocator() == pa.default_memory_pool().backend_name and chosen == ["system"]
    monkeypatch.setattr(frames, "_ARROW_POOL", [])
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    monkeypatch.setattr(pa, "jemalloc_memory_pool", lambda: pytest.fail("the user's pool is overridden"))
    frames.arrow_allocator()
    assert chosen == ["system"]
    # A fresh interpreter: the settings are in place before pyarrow loads, and jemalloc is chosen.
    script = ("import os, pipeline, pyarrow as pa; from pipeline import frames; "
              "print(os.environ['JE_ARROW_MALLOC_CONF'], frames.arrow_allocator(), pa.default_memory_pool().backend_name)")
    environment = {k: v for k, v in os.environ.items() if k not in ("ARROW_DEFAULT_MEMORY_POOL", "JE_ARROW_MALLOC_CONF")}
    if not sys.platform.startswith("linux"):
        return
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, check=True).stdout.split()
    assert out[0] == "dirty_decay_ms:1000,muzzy_decay_ms:0"
    mine = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          env={**environment, "JE_ARROW_MALLOC_CONF": "dirty_decay_ms:0"}).stdout.split()
    assert mine[0] == "dirty_decay_ms:0"
    if "jemalloc" in pa.supported_memory_backends():
        assert out[1:] == ["jemalloc", "jemalloc"]
        # jemalloc itself took the setting (its statistics, printed at exit, list its options)
        stats = ("import os, pipeline; os.environ['JE_ARROW_MALLOC_CONF'] += ',stats_print:true'; "
                 "import pyarrow as pa; pa.allocate_buffer(1024, memory_pool=pa.jemalloc_memory_pool())")
        printed = subprocess.run([sys.executable, "-c", stats], capture_output=True, text=True, env=environment, check=True)
        assert "opt.muzzy_decay_ms: 0 " in printed.stdout + printed.stderr


def test_a_big_csv_read_as_arrow_columns_is_the_grid_the_general_reader_gives(tmp_path, monkeypatch):
    """A CSV of ARROW_CSV_BYTES or more is read by pyarrow into Arrow columns (title lines above
    the table included, as the first rows); it is the sheet pd.read_csv's grid gives."""
    from pipeline import read

    path = tmp_path / "执法检查_202003.csv"
    lines = ["2020年3月执法检查情况统计表", "填报单位:东湖办事处", "单位,被检查单位,检查日期,备注"]
    lines += [f'东湖办事处,"企业{i},分厂",2020-03-{i % 28 + 1:02d},{"" if i % 3 else "复查"}' for i in range(150)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    monkeypatch.setattr(read, "ARROW_CSV_BYTES", 0)
    fast = read.read_file(path)[0]
    monkeypatch.setattr(read, "ARROW_CSV_BYTES", 1 << 40)
    general = read.read_file(path)[0]
    assert fast.columns is not None and general.columns is None  # (each reader was the one meant)
    pd.testing.assert_frame_equal(fast.table(), general.table())
    assert fast.rows == general.rows == 153
    assert fast.head == general.table().head(read.HEAD_ROWS).to_numpy().tolist()
    assert fast.head[0][0] == "2020年3月执法检查情况统计表" and fast.head[3][1] == "企业0,分厂"


def test_a_row_has_a_reason_when_any_of_its_columns_has_one():
    """clean._any_reason is errors.notna().any(axis=1), the all-NA columns skipped."""
    from pipeline import clean, parse

    index = pd.RangeIndex(5, 11)
    errors = pd.DataFrame({"a": parse.no_text(index), "b": pd.Series([None, "坏", None, None, None, "坏"], dtype="str", index=index),
                           "c": pd.Series([None, None, "错", None, None, None], dtype="str", index=index), "d": parse.no_text(index)})
    for frame in (errors, errors[["a", "d"]], errors[["b"]], errors.iloc[:0], pd.DataFrame(index=index)):
        pd.testing.assert_series_equal(clean._any_reason(frame), frame.notna().any(axis=1), check_exact=True)


def test_parquet_dictionary_columns_go_through_process_as_their_plain_text_does(tmp_path, monkeypatch):
    """Repeating Parquet text stays dictionary-encoded through cleaning (`clean._stacked`: decoded
    only where text is read row by row). Two Parquet files of one source, their columns in other
    orders (each canonical column picked per sheet), with a repeated header, a padding row, a blank
    row, a total in the third column beside empty cells, a bad level and footers: every
    processed table equals the one the same files give read as plain text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline import clean, read

    raw = tmp_path / "raw"
    raw.mkdir()
    units, firms, levels = ["南湖办事处", "东湖办事处"], ["甲公司", "乙公司", "丙公司"], ["一般", "重大"]
    rows = [hazard(隐患编号=f"YH-A-{i}", 属地单位=units[i % 2], 企业名称=firms[i % 3], 隐患等级=levels[i % 2],
                   发现日期=f"2020-03-0{1 + i % 3}", 挂牌督办="是" if i % 4 else "否") for i in range(299)]
    rows[7][HAZARD_HEADER.index("隐患等级")] = "乙级"  # (no such level: quarantined)
    rows[10] = list(HAZARD_HEADER)  # a repeated header (a page break)
    rows[20] = ["", "南湖办事处", "", "", "", "", "", "", ""]  # a template's padding row
    rows[25] = [""] * len(HAZARD_HEADER)
    rows[45] = ["", "", "合 计", "", "", "", "", "", ""]
    rows += [["填报人:王五", "", "审核人:赵六", "", "", "", "", "", ""]]
    table = pa.table({name: pa.array([row[j] for row in rows], pa.string()) for j, name in enumerate(HAZARD_HEADER)})
    pq.write_table(table, raw / "隐患排查_甲.parquet", row_group_size=100)  # (big enough to be read as dictionaries)
    order = ["企业名称", "隐患编号", "属地单位", "隐患等级", "发现日期", "整改期限", "整改完成日期", "挂牌督办", "来源"]
    other = [hazard(隐患编号=f"YH-B-{i}", 属地单位=units[i % 2], 企业名称=firms[i % 3], 整改完成日期=f"2020-03-1{i % 4}")
             for i in range(200)]
    columns = {name: pa.array([row[HAZARD_HEADER.index(name)] for row in other], pa.string()) for name in order}
    pq.write_table(pa.table({**columns, "备注": pa.array([""] * 200, pa.string())}), raw / "隐患排查_乙.parquet",
                   row_group_size=100)

    unified = []
    original = clean._unified
    monkeypatch.setattr(clean, "_unified", lambda column: unified.append(column) or original(column))
    dictionary = run_process(raw, tmp_path / "dictionary")
    assert len(unified) >= 6  # (columns that are dictionaries in both files, whichever their place)
    detail = " ".join(dictionary.tables["files"]["nondata_detail"])
    assert all(kind in detail for kind in ("空行", "预留行", "重复表头", "合计", "页脚")), detail
    assert len(dictionary.tables["quarantine"]) and len(dictionary.tables["hazards"]) > 450
    monkeypatch.setattr(read, "_repeating", lambda metadata: [])
    unified.clear()
    text = run_process(raw, tmp_path / "text")
    assert not unified
    for name, expected in text.tables.items():
        pd.testing.assert_frame_equal(dictionary.tables[name], expected, check_exact=True, obj=name)
