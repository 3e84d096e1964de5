"""Sample data: names and identifiers — enterprises with valid 统一社会信用代码, and the fake but
well-formed people data (names, 18-digit ID numbers, mobiles) that personal-data columns hold.

Names are made of neutral words (no real company, no real person: 王某某); unit names are never
made up here, they come from the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from pipeline.sample_base import Rng, Unit, pick, rng_for

# ---------------------------------------------------------------------------------- enterprises
BRANDS = (
    "宏达", "鑫源", "华泰", "恒信", "永安", "金桥", "瑞丰", "东方", "新世纪", "天成", "中联", "博远",
    "盛世", "国泰", "兴业", "顺通", "安平", "正大", "联众", "德润", "福瑞", "汇通", "嘉禾", "锦程",
    "凯达", "隆昌", "茂源", "明珠", "铭诚", "润泽", "三力", "胜利", "泰和", "天宇", "万通", "伟业",
    "祥和", "信达", "旭日", "亚泰", "宇通", "远大", "振华", "志诚", "中天", "卓越", "佳美", "金鹰",
    "长城", "银河", "华鑫", "广源", "恒丰", "金鼎", "利民", "龙腾", "瑞祥", "盛达", "通达", "新锐",
)
PLACES = (
    "青松", "朝阳", "向阳", "实验", "育才", "光明", "新华", "红星", "桃源", "枫林", "白沙", "清水",
    "金盆", "望月", "芙蓉", "梅溪", "松雅", "月湖", "洋湖", "雨花", "丁字", "星沙", "黄花", "莲花",
)
# Industry (as the registry spells it) -> the kinds of enterprise found in it. Data, not logic:
# an industry missing here falls back to GENERIC_KINDS.
ENTERPRISE_KINDS = {
    "危险化学品": ("化工有限公司", "气体有限公司", "化学品仓储有限公司"),
    "非煤矿山": ("石料有限公司", "矿业有限公司"),
    "冶金工贸": ("钢结构有限公司", "机械制造有限公司", "金属制品有限公司"),
    "烟花爆竹": ("烟花爆竹经营部", "花炮有限公司"),
    "建筑施工": ("建筑工程有限公司", "建设集团有限公司", "路桥工程有限公司"),
    "城镇燃气": ("燃气有限公司", "液化气供应站"),
    "道路运输": ("运输有限公司", "客运有限公司", "物流有限公司"),
    "水上交通": ("航运有限公司", "船务有限公司"),
    "特种设备": ("电梯工程有限公司", "锅炉安装有限公司", "起重设备有限公司"),
    "食品生产": ("食品有限公司", "酒业有限公司"),
    "消防": ("大酒店", "宾馆", "购物广场"),
    "人员密集场所": ("购物中心", "娱乐城", "影城"),
    "道路交通": ("驾驶培训学校", "汽车租赁有限公司"),
    "民用爆炸物品": ("爆破工程有限公司",),
    "商贸流通": ("商贸有限公司", "超市", "批发市场"),
    "成品油": ("加油站", "石油经营部"),
    "校园安全": ("小学", "中学", "幼儿园", "职业技术学校"),
    "农业机械": ("农机专业合作社",),
    "渔业船舶": ("渔业专业合作社",),
    "文化旅游": ("旅行社", "景区", "文化传媒有限公司"),
    "体育场馆": ("体育馆", "健身中心"),
    "水利工程": ("水利水电工程有限公司", "水库管理所"),
    "市政设施": ("市政工程有限公司", "环卫有限公司"),
    "户外广告": ("广告有限公司",),
    "燃气管网": ("管道燃气有限公司",),
    "医疗机构": ("医院", "诊所", "社区卫生服务中心"),
}
GENERIC_KINDS = ("电子科技有限公司", "纺织有限公司", "家具有限公司", "塑料制品有限公司", "印刷有限公司", "仓储有限公司")
# Industries an accident may belong to that no department lists (charged to the territory only).
UNLISTED_INDUSTRIES = ("仓储物流", "电力", "其他")

CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
AREA_CODES = ("430102", "430103", "430104", "430105", "430111", "430121", "430181")


def credit_code(rng: Rng) -> str:
    """A well-formed 统一社会信用代码: GB 11714 organisation-code check and GB 32100-2015 check char."""
    body = "".join(pick(rng, CODE_CHARS[:10] if i < 2 else CODE_CHARS) for i in range(8))
    org_sum = sum(CODE_CHARS.index(ch) * w for ch, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2)))
    org_check = {10: "X", 11: "0"}.get(11 - org_sum % 11, str(11 - org_sum % 11))
    first17 = "91" + pick(rng, AREA_CODES) + body + org_check
    total = sum(CODE_CHARS.index(ch) * w for ch, w in zip(first17, CODE_WEIGHTS))
    return first17 + CODE_CHARS[(31 - total % 31) % 31]


@dataclass(frozen=True)
class Enterprise:
    name: str
    credit_code: str
    industry: str


def enterprise_name(rng: Rng, industry: str, compound: bool = False) -> str:
    """`宏达化工有限公司`, `青松小学`; compound names (`青松宏达宾馆`) once the short ones run out."""
    kind = pick(rng, ENTERPRISE_KINDS.get(industry, GENERIC_KINDS))
    prefix = pick(rng, BRANDS) if kind.endswith("公司") else pick(rng, PLACES)
    return (pick(rng, PLACES) + pick(rng, BRANDS) if compound else prefix) + kind


def draw_enterprises(units: list[Unit], seed: int) -> dict[str, tuple[Enterprise, ...]]:
    """Each unit's pool of regularly inspected enterprises; names are unique district-wide."""
    all_industries = sorted({ind for unit in units for ind in unit.industries}) or ["其他"]
    used: set[str] = set()
    pools: dict[str, tuple[Enterprise, ...]] = {}
    for unit in units:
        rng = rng_for(seed, "enterprises", unit.unit_id)
        industries = list(unit.industries) or [*all_industries, "其他", "其他"]
        pool, clashes = [], 0
        size = max(12, min(unit.enterprises // 4, 80))
        while len(pool) < size:
            industry = pick(rng, industries)
            name = enterprise_name(rng, industry, compound=clashes > 20)
            if name in used:
                clashes += 1
                continue
            used.add(name)
            pool.append(Enterprise(name, credit_code(rng), industry))
        pools[unit.unit_id] = tuple(pool)
    return pools


# ---------------------------------------------------------------------------------------- people
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余杜叶程魏苏吕丁任沈"
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                   "153", "155", "156", "158", "159", "177", "180", "182", "186", "187", "188", "189", "199")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def mobile(rng: Rng) -> str:
    """An 11-digit mainland mobile number."""
    return pick(rng, MOBILE_PREFIXES) + f"{int(rng.integers(0, 10**8)):08d}"


def id_card(rng: Rng) -> str:
    """A fake but well-formed 18-digit resident ID (GB 11643 ISO 7064 MOD 11-2 check character)."""
    birth = date(1960, 1, 1) + timedelta(days=int(rng.integers(0, 40 * 365)))
    body = pick(rng, AREA_CODES) + birth.strftime("%Y%m%d") + f"{int(rng.integers(0, 1000)):03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS)) % 11]


def person(rng: Rng) -> str:
    """Names are never real: surname + 某 (某某)."""
    return pick(rng, SURNAMES) + ("某某" if rng.random() < 0.5 else "某")
