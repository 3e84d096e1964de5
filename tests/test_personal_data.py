"""Personal data (姓名, 身份证号, 联系电话, 住址) is dropped at ingest and never reaches data/processed."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from helpers_raw import (ACCIDENT_HEADER, ENFORCEMENT_HEADER, HAZARD_HEADER, credit_code, hazard, inspection, record,
                         run_process, submission, write_sheet)

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
PERSONAL_HEADERS = ("姓名", "身份证号", "联系电话", "住址")
ID_1, ID_2 = "110101199003071234", "44030419851231002X"
PHONE_1, PHONE_2 = "13812345678", "15999990000"


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    root = tmp_path_factory.mktemp("personal")
    raw = root / "raw"
    header = ACCIDENT_HEADER + ["事故类型", "姓名", "身份证号", "联系电话", "住址", "遇难者姓名"]
    people = dict(姓名="王五", 身份证号=ID_1, 联系电话=PHONE_1, 住址="南湖区幸福路1号", 遇难者姓名="赵六")
    rows = [
        record(header, 事故编号="P-1", 发生时间="2020-03-29 08:00", 属地单位="南湖办", 所属行业="个体运输 联系人" + PHONE_2,
               事故发生单位=f"个体户(联系人{PHONE_1})", 死亡人数="1", 事故类型=f"车辆伤害,死者身份证{ID_2}", **people),
        # quarantined rows carry personal data in the cells that are reported back
        record(header, 事故编号="P-2", 发生时间="2020-03-30 08:00", 属地单位=f"张三{PHONE_1}", 所属行业="道路运输",
               事故发生单位=f"李四 身份证{ID_1}", 死亡人数="-1", **people),
        record(header, 事故编号="P-3", 发生时间="2020-02-30", 属地单位="东湖办", 所属行业="道路运输",
               事故发生单位=f"电话{PHONE_2}", 事故类型=f"身份证号{ID_1}", **people),
        # two accidents whose ids look like ID numbers: scrubbed, and not mistaken for one record
        record(header, 事故编号=ID_1, 发生时间="2020-03-11 08:00", 属地单位="东湖办", 所属行业="道路运输", 事故发生单位="甲", **people),
        record(header, 事故编号=ID_2, 发生时间="2020-03-12 08:00", 属地单位="东湖办", 所属行业="道路运输", 事故发生单位="乙", **people),
    ]
    grid, _ = submission("2020年3月生产安全事故统计表", header, rows,
                         unit_line=f"填报单位:南湖办事处 填报人:王五 联系电话:{PHONE_1}", footer=[f"审核人:李四 手机{PHONE_2}"])
    write_sheet(raw / "事故_个人信息.xlsx", grid)

    header = ENFORCEMENT_HEADER + ["负责人姓名", "手机"]
    rows = [
        record(header, **dict(zip(ENFORCEMENT_HEADER, inspection(检查编号="E-1", 被检查单位="个体户李四", 统一社会信用代码=ID_1))),
               负责人姓名="李四", 手机=PHONE_2),
        record(header, **dict(zip(ENFORCEMENT_HEADER, inspection(检查编号="E-2", 被检查单位="乙公司", 统一社会信用代码=credit_code("91350100M000100Y4")))),
               负责人姓名="钱七", 手机=PHONE_1),
    ]
    grid, _ = submission("2020年3月执法检查", header, rows)
    write_sheet(raw / "执法.csv", grid, encoding="gbk")

    rows = [hazard(隐患编号="H-1", 企业名称=f"丙厂(负责人{PHONE_2})"), hazard(隐患编号="H-2", 企业名称=f"丁厂 {ID_2}", 发现日期="坏日期")]
    grid, _ = submission("2020年3月隐患", HAZARD_HEADER + ["联系电话"], [r + [PHONE_1] for r in rows])
    write_sheet(raw / "隐患.xls", grid, fmt="html")

    run = run_process(raw, root / "processed")
    assert len(run["accidents"]) == 3 and len(run["enforcement"]) == 2 and len(run["hazards"]) == 1
    return root / "processed"


def tables(folder):
    return {path.stem: pd.read_parquet(path) for path in sorted(folder.glob("*.parquet"))}


def test_no_personal_data_column_survives(processed):
    found = tables(processed)
    assert {"accidents", "enforcement", "hazards", "quarantine", "warnings", "files"} <= set(found)
    for name, frame in found.items():
        for column in frame.columns:
            assert not any(h in column for h in PERSONAL_HEADERS + ("手机", "负责人")), (name, column)
    accidents = found["accidents"]
    assert set(accidents.columns).isdisjoint({"name", "id_number", "phone", "address"})


def test_no_id_or_mobile_number_in_any_processed_text(processed):
    for name, frame in tables(processed).items():
        for column in frame.columns:
            if column == "sha256":  # a content hash, not text anyone wrote
                continue
            for value in frame[column].dropna().astype(str):
                assert not ID_NUMBER.search(value), (name, column, value)
                assert not MOBILE.search(value), (name, column, value)
                assert "王五" not in value and "幸福路" not in value, (name, column, value)


def test_scrubbed_text_keeps_the_rest(processed):
    accidents = pd.read_parquet(processed / "accidents.parquet").set_index("source_row")
    assert accidents.loc[4, "enterprise"] == "个体户(联系人[已脱敏])"
    assert accidents.loc[4, "accident_type"] == "车辆伤害,死者身份证[已脱敏]"
    assert accidents.loc[4, "industry"] == "个体运输 联系人[已脱敏]"
    enforcement = pd.read_parquet(processed / "enforcement.parquet").set_index("record_id")
    assert enforcement.loc["E-1", "credit_code"] == "[已脱敏]"
    assert enforcement.loc["E-2", "credit_code"] == "91350100M000100Y43"  # a valid code is never touched


def test_ids_scrubbed_as_personal_data_are_not_taken_for_duplicates(processed):
    accidents = pd.read_parquet(processed / "accidents.parquet")
    assert sorted(accidents["source_row"]) == [4, 7, 8]
    assert accidents.loc[accidents["source_row"].isin([7, 8]), "accident_id"].eq("[已脱敏]").all()
    warnings = pd.read_parquet(processed / "warnings.parquet")
    assert not warnings["kind"].eq("重复").any()


def test_dropped_columns_are_reported(processed):
    files = pd.read_parquet(processed / "files.parquet").set_index("source_file")
    assert "(personal data dropped)" in files.loc["事故_个人信息.xlsx", "message"]
    assert all(h in files.loc["事故_个人信息.xlsx", "message"] for h in ("姓名", "身份证号", "联系电话", "住址", "遇难者姓名"))
    assert "手机" in files.loc["执法.csv", "message"]


@pytest.mark.parametrize("text, scrubbed", [
    ("联系电话138-1234-5678", "联系电话[已脱敏]"), ("手机 139 8765 4321。", "手机 [已脱敏]。"),
    ("+86 150.1111.2222", "[已脱敏]"), ("8613812345678", "[已脱敏]"), ("电话:13812345678", "电话:[已脱敏]"),
    ("１３８－１２３４－５６７８", "[已脱敏]"), ("０５７１－８８８８８８８８", "[已脱敏]"), ("身份证４４０３０４１９８５１２３１００２X", "身份证[已脱敏]"),
    # not personal numbers: longer digit runs, dates, amounts, a ten-digit number
    ("订单2013812345678", "订单2013812345678"), ("2020-03-05", "2020-03-05"), ("1381234567", "1381234567"), ("12.5万元", "12.5万元"),
])
def test_scrub_catches_phone_numbers_written_in_groups_or_full_width(text, scrubbed):
    from pipeline.clean import scrub

    assert scrub(pd.Series([text], dtype="str")).iloc[0] == scrubbed
