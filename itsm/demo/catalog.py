"""Demo catalogue at the five contracts' real scale (pure data, deterministic, no I/O).

Contracts C0..C4 come from the tender documents in ``/work/shared/seeds``:

* C0 Beijing 医耗联动 reform, 1,360 institutions using the 北京市新社区卫生服务综合管理信息系统.
  The seed's table 2 (实施部署机构统计表) groups them as: 城区 centres and hospitals 54,
  远郊 centres and hospitals 134, 城区 stations/卫生所/门诊部 221, 远郊 stations/卫生所/门诊部
  659, centrally deployed (海淀, 西城, 通州) 292; by type 231 community centres, 1,101
  stations, 12 门诊部/卫生所（室） (kind ``clinic``) and 16 综合/中医/专科 hospitals
  (kind ``hospital``). The seed says 12 districts but names only the three centralised
  ones. We take 城区 = 东城, 丰台, 石景山 (朝阳's ~45 centres on top would overflow the 54)
  and 远郊 = 房山, 顺义, 昌平, 门头沟, 平谷, 密云. Per-district counts in ``_C0_PLAN`` add
  up exactly to every table-2 group and every type total. Table 2's 远郊 is simply "not
  城区"; it is not the SLA tier below.
* C1 Beijing 医政信息管理系统: the 医政处, 19 QC centres, 11,174 institutions in 16 districts.
* C2 Hangzhou Binjiang: 3 community centres (西兴, 长河, 浦沿 streets) and 35 stations.
* C3 珠海市妇幼保健院 (香洲区) and its 50 HIS subsystems.
* C4 Chengdu Wuhou: 12 centres, 15 stations, 区卫健局 and 区医院管理服务中心.

District tiers (they drive C1-7's 2 h / 4 h arrival and C2-1's suburb allowance): the six
城六区 are ``urban``. For the rest we follow the Beijing master plan 2016-2035: 通州 (城市副中心)
and the plain new towns 顺义, 昌平, 大兴, 房山 are ``near_suburb``; the 生态涵养区 门头沟,
怀柔, 平谷, 密云, 延庆 are ``far_suburb``. 门头沟 is mostly mountains and its far villages
are hours away, so it goes with the far ring. The older reading (城区 + 近郊区 = 城六区, all
ten others 远郊) would make the five plain districts far; C1's 4 h applies to "远郊区的偏远
地区", so the stricter 2 h for them is the safer promise. The mountain townships of 房山
and 昌平 are still near_suburb here; a tier per district cannot express them.

Remote areas (``remote_area``): C1-7 gives 4 h only to "远郊区的偏远地区", the remote parts of
the far-suburban districts; the rest of those districts get 2 h. We mark the stations, clinics
and village clinics (村卫生室, kind ``other``) of the far-suburban districts' mountain
townships far from the district seat (``_REMOTE_TOWNSHIPS``: 门头沟's 斋堂 and 清水, 怀柔's
northern 汤河口 and 喇叭沟门, 平谷's 镇罗营 and 熊儿寨, 密云's 古北口 and 不老屯, 延庆's
千家店 and 珍珠泉, …); their community centres and hospitals, in the townships' seats, are
not. The mountain townships of 房山 and 昌平 stay 2 h: their districts are near_suburb, and
C1-7's 4 h is for far-suburban districts only.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from itsm.demo import places as P


@dataclass(frozen=True)
class ContractSeed:
    """A service contract (one tender document)."""

    code: str
    name: str
    customer: str
    timezone: str
    service_hours: str
    calendar: str  # "cn-5x8" or "24x7"


@dataclass(frozen=True)
class DistrictSeed:
    """A county-level district; ``tier`` is urban, near_suburb or far_suburb."""

    code: str
    name: str
    city: str
    tier: str


@dataclass(frozen=True)
class InstitutionSeed:
    """A served institution (hospital, community centre, QC centre, commission...)."""

    code: str
    name: str
    kind: str
    district_code: str
    contract_code: str
    address: str
    latitude: float
    longitude: float
    phones: tuple[str, ...]
    remote_area: bool = False
    """In a remote part of a far-suburban district (C1-7 远郊区的偏远地区)."""


@dataclass(frozen=True)
class ConfigurationItemSeed:
    """A system or subsystem maintained under a contract; ``group`` as SLA rules match it."""

    contract_code: str
    code: str
    name: str
    description: str
    group: str | None = None


_TZ = "Asia/Shanghai"

CONTRACTS: tuple[ContractSeed, ...] = (
    ContractSeed(
        "C0",
        "北京市医耗联动综合改革社区卫生服务综合管理信息系统运维实施项目",
        "北京市卫生健康委员会",
        _TZ,
        "5×8",
        "cn-5x8",
    ),
    ContractSeed(
        "C1",
        "北京市卫生健康委医政信息管理系统运维项目（2020年度）",
        "北京市卫生健康委信息中心",
        _TZ,
        "5×8；远程应急响应7×24",
        "cn-5x8",
    ),
    ContractSeed(
        "C2",
        "滨江区基层医疗卫生机构补偿机制改革绩效考核信息化项目",
        "杭州市滨江区社会发展局",
        _TZ,
        "7×24",
        "24x7",
    ),
    ContractSeed(
        "C3",
        "珠海市妇幼保健院HIS年度维保服务及接口定制开发",
        "珠海市妇幼保健院",
        _TZ,
        "工作日驻场；非工作日值班响应",
        "cn-5x8",
    ),
    ContractSeed(
        "C4",
        "武侯区区域卫生信息化运营服务采购项目",
        "成都市武侯区卫生健康局",
        _TZ,
        "7×24",
        "24x7",
    ),
)

_U, _N, _F = "urban", "near_suburb", "far_suburb"

DISTRICTS: tuple[DistrictSeed, ...] = (
    DistrictSeed("110101", "东城区", "北京市", _U),
    DistrictSeed("110102", "西城区", "北京市", _U),
    DistrictSeed("110105", "朝阳区", "北京市", _U),
    DistrictSeed("110106", "丰台区", "北京市", _U),
    DistrictSeed("110107", "石景山区", "北京市", _U),
    DistrictSeed("110108", "海淀区", "北京市", _U),
    DistrictSeed("110109", "门头沟区", "北京市", _F),
    DistrictSeed("110111", "房山区", "北京市", _N),
    DistrictSeed("110112", "通州区", "北京市", _N),
    DistrictSeed("110113", "顺义区", "北京市", _N),
    DistrictSeed("110114", "昌平区", "北京市", _N),
    DistrictSeed("110115", "大兴区", "北京市", _N),
    DistrictSeed("110116", "怀柔区", "北京市", _F),
    DistrictSeed("110117", "平谷区", "北京市", _F),
    DistrictSeed("110118", "密云区", "北京市", _F),
    DistrictSeed("110119", "延庆区", "北京市", _F),
    DistrictSeed("330108", "滨江区", "杭州市", _U),
    DistrictSeed("440402", "香洲区", "珠海市", _U),
    DistrictSeed("510107", "武侯区", "成都市", _U),
)

# The mountain townships of the far-suburban districts far from the district seat, whose
# stations and clinics are C1-7's 远郊区的偏远地区.
_REMOTE_TOWNSHIPS: dict[str, frozenset[str]] = {
    "110109": frozenset({"大台", "王平", "妙峰山", "雁翅", "斋堂", "清水"}),
    "110116": frozenset({"汤河口", "渤海", "九渡河", "琉璃庙", "宝山", "长哨营", "喇叭沟门"}),
    "110117": frozenset({"镇罗营", "熊儿寨", "黄松峪", "大华山", "金海湖", "南独乐河", "刘家店"}),
    "110118": frozenset(
        {"古北口", "太师屯", "高岭", "不老屯", "冯家峪", "大城子", "新城子", "石城"}
    ),
    "110119": frozenset({"千家店", "珍珠泉", "四海", "刘斌堡", "大庄科", "香营", "井庄"}),
}
_REMOTE_KINDS = frozenset({"community_station", "clinic", "other"})

_DISTRICT = {d.code: d for d in DISTRICTS}
_BEIJING = tuple(d.code for d in DISTRICTS if d.city == "北京市")

# (latitude, longitude, jitter in degrees) of each district's centre of mass.
_GEO: dict[str, tuple[float, float, float]] = {
    "110101": (39.9288, 116.4164, 0.02),
    "110102": (39.9123, 116.3660, 0.02),
    "110105": (39.9480, 116.4860, 0.06),
    "110106": (39.8400, 116.2870, 0.05),
    "110107": (39.9060, 116.2050, 0.025),
    "110108": (39.9900, 116.2700, 0.06),
    "110109": (39.9600, 115.9800, 0.12),
    "110111": (39.7300, 115.9800, 0.15),
    "110112": (39.8100, 116.7000, 0.10),
    "110113": (40.1300, 116.6500, 0.10),
    "110114": (40.2200, 116.2300, 0.12),
    "110115": (39.7000, 116.3500, 0.10),
    "110116": (40.5000, 116.6000, 0.15),
    "110117": (40.1400, 117.1200, 0.08),
    "110118": (40.4500, 116.9000, 0.15),
    "110119": (40.4600, 116.0500, 0.12),
    "330108": (30.2000, 120.2000, 0.02),
    "440402": (22.2600, 113.5500, 0.03),
    "510107": (30.6300, 104.0300, 0.03),
}

# City -> (area code, number of local digits, allowed first digits).
_PHONE_PLAN: dict[str, tuple[str, int, str]] = {
    "北京市": ("010", 8, "68"),
    "杭州市": ("0571", 8, "8"),
    "珠海市": ("0756", 7, "23"),
    "成都市": ("028", 8, "68"),
}
_MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "159",
    "186",
    "187",
    "188",
    "189",
)

# C0 per-district plan: (community centres, stations, clinics, hospitals).
_C0_CENTRAL = ("110108", "110102", "110112")  # 海淀, 西城, 通州: 全区集中部署
_C0_PLAN: dict[str, tuple[int, int, int, int]] = {
    # 城区 (non-centralised): 50 + 4 = 54 centres/hospitals, 217 + 4 = 221 stations/clinics
    "110101": (13, 55, 1, 1),
    "110106": (27, 110, 2, 2),
    "110107": (10, 52, 1, 1),
    # centralised: 150 + 64 + 78 = 292
    "110108": (28, 118, 2, 2),
    "110102": (15, 47, 1, 1),
    "110112": (12, 64, 1, 1),
    # 远郊: 126 + 8 = 134 centres/hospitals, 655 + 4 = 659 stations/clinics
    "110111": (27, 130, 1, 2),
    "110113": (25, 125, 1, 2),
    "110114": (22, 110, 1, 1),
    "110109": (13, 60, 0, 1),
    "110117": (19, 105, 0, 1),
    "110118": (20, 125, 1, 1),
}

# C1: institutions by kind, and district weights (2020 census population, 10k).
_C1_KINDS: dict[str, int] = {
    "hospital": 720,
    "community_center": 340,
    "community_station": 1650,
    "clinic": 6210,
    "other": 2254,
}
_POPULATION: dict[str, int] = {
    "110101": 71,
    "110102": 110,
    "110105": 345,
    "110106": 202,
    "110107": 57,
    "110108": 313,
    "110109": 39,
    "110111": 131,
    "110112": 184,
    "110113": 132,
    "110114": 227,
    "110115": 199,
    "110116": 44,
    "110117": 46,
    "110118": 53,
    "110119": 35,
}
# "other" is mostly village clinics (村卫生室), hence weighted towards the suburbs.
_OTHER_WEIGHT: dict[str, int] = {
    "110101": 20,
    "110102": 25,
    "110105": 80,
    "110106": 60,
    "110107": 20,
    "110108": 80,
    "110109": 120,
    "110111": 280,
    "110112": 260,
    "110113": 250,
    "110114": 200,
    "110115": 240,
    "110116": 180,
    "110117": 190,
    "110118": 230,
    "110119": 190,
}


def _apportion(total: int, weights: dict[str, int]) -> dict[str, int]:
    """Split ``total`` over the keys proportionally (largest remainder, stable ties)."""
    whole = sum(weights.values())
    raw = {k: total * w / whole for k, w in weights.items()}
    counts = {k: int(v) for k, v in raw.items()}
    rest = total - sum(counts.values())
    for k in sorted(weights, key=lambda k: (counts[k] - raw[k], k))[:rest]:
        counts[k] += 1
    return counts


# A name maker returns (name, street the name refers to or None).
_Maker = Callable[[], tuple[str, str | None]]


class _Builder:
    """Accumulates institutions of one contract with unique codes, names and phones."""

    def __init__(self, contract: str, seed: int, phones: set[str]) -> None:
        self.contract = contract
        self.rng = random.Random(seed)
        self.names: set[str] = set()
        self.phones = phones
        self.items: list[InstitutionSeed] = []

    def add_unique(self, makers: Sequence[_Maker], kind: str, district: str) -> None:
        """Add one institution named by a randomly chosen maker, retrying on duplicates."""
        for _ in range(200):
            name, street = self.rng.choice(makers)()
            if name not in self.names:
                self.add(name, kind, district, street=street)
                return
        raise RuntimeError(f"{self.contract}: name space exhausted")

    def add(
        self,
        name: str,
        kind: str,
        district: str,
        address: str | None = None,
        street: str | None = None,
    ) -> None:
        """Append one institution; address and coordinates are generated if not given."""
        if name in self.names:
            raise ValueError(f"duplicate name {name!r} in {self.contract}")
        self.names.add(name)
        rng = self.rng
        d = _DISTRICT[district]
        if address is None:
            street = street or rng.choice(P.STREETS[district])
            address = self.address(district, street)
        lat, lon, r = _GEO[district]
        remote = (
            d.tier == "far_suburb"
            and kind in _REMOTE_KINDS
            and street in _REMOTE_TOWNSHIPS.get(district, ())
        )
        code = f"{self.contract}-{len(self.items) + 1:05d}"
        self.items.append(
            InstitutionSeed(
                code=code,
                name=name,
                kind=kind,
                district_code=district,
                contract_code=self.contract,
                address=address,
                latitude=round(lat + rng.uniform(-r, r), 6),
                longitude=round(lon + rng.uniform(-r, r) * 1.2, 6),
                phones=self.phone_numbers(d.city),
                remote_area=remote,
            )
        )

    def address(self, district: str, street: str | None = None) -> str:
        """A street address inside the district."""
        d = _DISTRICT[district]
        rng = self.rng
        street = street or rng.choice(P.STREETS[district])
        number = rng.randint(1, 199)
        if d.city == "北京市":
            return f"北京市{d.name}{street}{rng.choice(P.ROAD_ENDINGS)}{number}号"
        return f"{d.city}{d.name}{street}街道{rng.choice(P.ROADS[district])}{number}号"

    def phone_numbers(self, city: str) -> tuple[str, ...]:
        """One landline, sometimes a mobile too; unique across the whole catalogue."""
        area, digits, first = _PHONE_PLAN[city]
        rng = self.rng
        makers: list[Callable[[], str]] = [
            lambda: f"{area}-{rng.choice(first)}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"
        ]
        if rng.random() < 0.3:
            makers.append(lambda: f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**8):08d}")
        out = []
        for make in makers:
            number = make()
            while number in self.phones:
                number = make()
            self.phones.add(number)
            out.append(number)
        return tuple(out)


# --- Beijing name makers ----------------------------------------------------------------


def _short(district: str) -> str:
    """朝阳区 -> 朝阳."""
    return _DISTRICT[district].name.removesuffix("区")


def _bj_centres(b: _Builder, district: str, count: int) -> list[tuple[str, str]]:
    """Community health service centres as (name, street); one per street, then by place."""
    dname = _DISTRICT[district].name
    streets = list(P.STREETS[district])
    out: list[tuple[str, str]] = []
    for street in streets[:count]:
        name = f"北京市{dname}{street}社区卫生服务中心"
        b.add(name, "community_center", district, street=street)
        out.append((name, street))
    stems = list(P.COMMUNITY_STEMS)
    b.rng.shuffle(stems)
    for stem in stems:
        if len(out) >= count:
            break
        name = f"北京市{dname}{stem}社区卫生服务中心"
        if name in b.names:
            continue
        street = b.rng.choice(streets)
        b.add(name, "community_center", district, street=street)
        out.append((name, street))
    return out


def _bj_stations(b: _Builder, district: str, count: int, centres: list[tuple[str, str]]) -> None:
    """Stations named after their centre and a community (社区) unique in the district."""
    dname = _DISTRICT[district].name
    communities = [s + e for s in P.COMMUNITY_STEMS for e in P.COMMUNITY_ENDINGS]
    b.rng.shuffle(communities)
    for i, community in enumerate(communities[:count]):
        # every centre gets one station before the rest are spread at random
        centre, street = centres[i] if i < len(centres) else b.rng.choice(centres)
        address = f"北京市{dname}{street}{community}{b.rng.randint(1, 40)}号楼"
        name = f"{centre}{community}社区卫生服务站"
        b.add(name, "community_station", district, address, street=street)


def _person(rng: random.Random) -> str:
    """A plausible personal name (used for private clinics)."""
    return rng.choice(P.SURNAMES) + rng.choice(P.GIVEN_FIRST) + rng.choice(P.GIVEN_SECOND)


def _bj_clinics(b: _Builder, district: str, count: int, private: bool = True) -> None:
    """门诊部, 医务室 and 卫生所, plus private 诊所 if ``private``."""
    rng, dname, short = b.rng, _DISTRICT[district].name, _short(district)

    def outpatient() -> tuple[str, str | None]:
        return f"北京{short}{rng.choice(P.BRANDS)}{rng.choice(P.CLINIC_SPECIALTIES)}门诊部", None

    def doctor() -> tuple[str, str | None]:
        return f"北京{short}{_person(rng)}{rng.choice(P.CLINIC_SPECIALTIES)}诊所", None

    def infirmary() -> tuple[str, str | None]:
        street = rng.choice(P.STREETS[district])
        return f"北京市{dname}{street}{rng.choice(P.WORKPLACES)}医务室", street

    def health_post() -> tuple[str, str | None]:
        street = rng.choice(P.STREETS[district])
        return f"北京市{dname}{street}卫生所", street

    makers: list[_Maker] = [outpatient, outpatient, infirmary, health_post]
    if private:
        makers += [doctor, doctor, doctor]
    for _ in range(count):
        b.add_unique(makers, "clinic", district)


def _bj_hospitals(b: _Builder, district: str, count: int, public_first: bool) -> None:
    """District hospitals first (if asked), then town and private hospitals."""
    rng, dname = b.rng, _DISTRICT[district].name
    if public_first:
        for suffix in ("医院", "中医医院", "妇幼保健院")[:count]:
            b.add(f"北京市{dname}{suffix}", "hospital", district)
            count -= 1

    def town() -> tuple[str, str | None]:
        street = rng.choice(P.STREETS[district])
        return f"北京市{dname}{street}医院", street

    def specialist() -> tuple[str, str | None]:
        return f"北京{rng.choice(P.BRANDS)}{rng.choice(P.HOSPITAL_SPECIALTIES)}医院", None

    def general() -> tuple[str, str | None]:
        return f"北京{_short(district)}{rng.choice(P.BRANDS)}医院", None

    for _ in range(count):
        b.add_unique((town, specialist, specialist, general), "hospital", district)


def _bj_others(b: _Builder, district: str, count: int) -> None:
    """Village clinics (suburbs only), nursing stations, labs, dialysis and hospice centres."""
    rng, dname, short = b.rng, _DISTRICT[district].name, _short(district)

    def village() -> tuple[str, str | None]:
        street = rng.choice(P.STREETS[district])
        return f"北京市{dname}{street}{rng.choice(P.VILLAGES)}村卫生室", street

    def facility() -> tuple[str, str | None]:
        kind = rng.choice(("护理站", "医学检验实验室", "血液透析中心", "安宁疗护中心", "急救站"))
        return f"北京{short}{rng.choice(P.BRANDS)}{kind}", None

    makers: list[_Maker] = [facility]
    if _DISTRICT[district].tier != "urban":
        makers = [village, village, village, village, facility]
    for _ in range(count):
        b.add_unique(makers, "other", district)


# --- contracts --------------------------------------------------------------------------


def _c0(phones: set[str]) -> list[InstitutionSeed]:
    """C0: 1,360 institutions in 12 districts, per table 2 of the seed."""
    b = _Builder("C0", 20190114, phones)
    for district, (centres, stations, clinics, hospitals) in _C0_PLAN.items():
        made = _bj_centres(b, district, centres)
        _bj_stations(b, district, stations, made)
        _bj_clinics(b, district, clinics, private=False)
        _bj_hospitals(b, district, hospitals, public_first=False)
    return b.items


def _c1(phones: set[str]) -> list[InstitutionSeed]:
    """C1: the 医政处, 19 QC centres and 11,174 institutions over Beijing's 16 districts."""
    b = _Builder("C1", 20201012, phones)
    b.add("北京市卫生健康委员会医政医管处", "commission", "110102", "北京市西城区枣林前街70号")
    for spec in P.QC_SPECIALTIES:
        district = b.rng.choice(("110101", "110102", "110105", "110108", "110106"))
        b.add(f"北京市{spec}质量控制和改进中心", "qc_center", district)
    streets_weight = {d: len(P.STREETS[d]) for d in _BEIJING}
    plan = {
        "hospital": _apportion(_C1_KINDS["hospital"], _POPULATION),
        "community_center": _apportion(_C1_KINDS["community_center"], streets_weight),
        "community_station": _apportion(_C1_KINDS["community_station"], _POPULATION),
        "clinic": _apportion(_C1_KINDS["clinic"], _POPULATION),
        "other": _apportion(_C1_KINDS["other"], _OTHER_WEIGHT),
    }
    known: dict[str, list[str]] = {}
    for district, name in P.KNOWN_BEIJING_HOSPITALS:
        known.setdefault(district, []).append(name)
    for district in _BEIJING:
        made = _bj_centres(b, district, plan["community_center"][district])
        _bj_stations(b, district, plan["community_station"][district], made)
        hospitals = plan["hospital"][district]
        for name in known.get(district, [])[:hospitals]:
            b.add(name, "hospital", district)
            hospitals -= 1
        _bj_hospitals(b, district, hospitals, public_first=True)
        _bj_clinics(b, district, plan["clinic"][district])
        _bj_others(b, district, plan["other"][district])
    return b.items


def _c2(phones: set[str]) -> list[InstitutionSeed]:
    """C2: Binjiang's 3 street community centres and 35 stations (12 + 12 + 11)."""
    b = _Builder("C2", 20180601, phones)
    district = "330108"
    for street, stations in (("西兴", 12), ("长河", 12), ("浦沿", 11)):
        centre = f"杭州市滨江区{street}街道社区卫生服务中心"
        b.add(centre, "community_center", district, street=street)
        for community in P.BINJIANG_COMMUNITIES[street][:stations]:
            name = f"杭州市滨江区{street}街道{community}社区卫生服务站"
            b.add(name, "community_station", district, street=street)
    return b.items


def _c3(phones: set[str]) -> list[InstitutionSeed]:
    """C3: the one hospital."""
    b = _Builder("C3", 20250401, phones)
    b.add("珠海市妇幼保健院", "hospital", "440402", "珠海市香洲区柠溪路543号")
    return b.items


def _c4(phones: set[str]) -> list[InstitutionSeed]:
    """C4: Wuhou's 12 centres, 15 stations and the two district bodies the seed names."""
    b = _Builder("C4", 20220101, phones)
    district = "510107"
    b.add("成都市武侯区卫生健康局", "commission", district)
    b.add("成都市武侯区医院管理服务中心", "other", district)
    streets = P.STREETS[district][:12]
    for street in streets:
        b.add(f"成都市武侯区{street}社区卫生服务中心", "community_center", district, street=street)
    for i, community in enumerate(P.WUHOU_COMMUNITIES[:15]):
        b.add(
            f"成都市武侯区{community}社区卫生服务站",
            "community_station",
            district,
            street=streets[i % len(streets)],
        )
    return b.items


@lru_cache(maxsize=1)
def _all_institutions() -> tuple[InstitutionSeed, ...]:
    phones: set[str] = set()
    out: list[InstitutionSeed] = []
    for build in (_c0, _c1, _c2, _c3, _c4):
        out.extend(build(phones))
    return tuple(out)


def institutions() -> list[InstitutionSeed]:
    """All institutions of all contracts, in a stable order (built once, then cached)."""
    return list(_all_institutions())


# --- configuration items ----------------------------------------------------------------


def _cis(
    contract: str,
    rows: Sequence[tuple[str, str]],
    groups: dict[str, str] | None = None,
) -> tuple[ConfigurationItemSeed, ...]:
    """The contract's systems, numbered; ``groups`` gives the group of those named in it."""
    groups = groups or {}
    unknown = set(groups) - {name for name, _ in rows}
    if unknown:
        raise ValueError(f"{contract}: groups of unknown systems {sorted(unknown)}")
    return tuple(
        ConfigurationItemSeed(
            contract, f"{contract}-CI-{i:02d}", name, description, groups.get(name)
        )
        for i, (name, description) in enumerate(rows, start=1)
    )


_C0_SYS = "北京市新社区卫生服务综合管理信息系统子系统。运维功能项："
_C0_CIS = _cis(
    "C0",
    [
        (
            "基础数据维护",
            _C0_SYS + "价表项目基础数据维护；价表模版维护；护士站基础数据维护：同步项目；"
            "医生站医嘱项目列表视图更新",
        ),
        (
            "窗口收费",
            _C0_SYS + "收费功能调整，关联医改后价表目录；收费项目明细小条打印；收费发票打印；"
            "医保分解接口；公费医疗实时报销",
        ),
        ("自助缴费", _C0_SYS + "终端系统；服务端系统；接口服务"),
        (
            "窗口退费",
            _C0_SYS + "退费功能；医保退费分解接口；退费发票打印；公费医疗实时报销；"
            "医保非实时结算数据导出；医保收费数据导出；医保退费数据导出",
        ),
        ("发票重打", _C0_SYS + "收费发票；收费项目明细小条"),
        ("收费结账", _C0_SYS + "收费结账；结账打印；结账查询"),
        (
            "价表目录更新",
            _C0_SYS + "导入医改新增项目列表到标准目录；本院导入新增的医疗服务项目；"
            "导入医改停用项目列表；对照新增项目与停用项目；自动侦测社区在用的待停用项目；查询待停用项目；"
            "批量停用项目；根据新增和停用对照关系，批量新增项目；自动侦测社区门诊患者待作废处置单；"
            "自动侦测社区住院患者待停止或作废医嘱；查询待患者停止或作废医嘱",
        ),
        (
            "查询统计",
            _C0_SYS + "结账明细；发票明细；交款书；公疗实时结算日报；门诊综合报表；"
            "执行科室销售汇总；开单科室销售汇总；科室汇总：明细报表；门诊非药品销售统计；"
            "门诊处方汇总：报表汇总；开单执行科室核算-非药品；开单医生销售汇总（二）：医生病人明细",
        ),
        (
            "院长查询",
            _C0_SYS + "门诊综合报表；执行科室销售汇总；开单科室销售汇总；科室汇总：明细报表；"
            "门诊非药品销售统计；门诊处方汇总：报表汇总；开单执行科室核算-非药品；"
            "开单医生销售汇总（二）：医生病人明细",
        ),
        (
            "医改数据监控",
            _C0_SYS + "改革监测日报表、周报表、月报表；病种周报表、月报表；"
            "药品周报表、月报表及各自上报接口（均关联医改后价表目录）；医改数据监测数据上报接口",
        ),
        (
            "其他系统接口",
            _C0_SYS + "LIS、体检、电子病历、自助设备等调价涉及的周边系统："
            "价表项目基础数据同步；申请单数据同步；报告数据同步",
        ),
    ],
)

_C1_CIS = _cis(
    "C1",
    [
        ("医疗质量控制系统", "19家质控中心质控数据的填报、审核、统计和分析；17,345家质控网点"),
        ("医政办公系统", "整合原医政处已有办公系统"),
        ("医政数据资源库", "医政医管业务数据资源库"),
        (
            "局端报表与统计查询",
            "年度报表格式预置、填报情况统计、上报数据核查；年底协助16区卫健委统计",
        ),
        ("报表统计接口", "医政管理系统报表统计接口，随数据填报统计需求更新"),
        ("机构与用户角色管理", "医政处、医疗质量控制中心、医疗机构、质控网点四类应用角色"),
        (
            "服务器主机设备",
            "日常监控与巡检（每年不少于52次），CPU和内存负载分析；8小时修复或临时环境",
        ),
        ("存储与备份设备", "存储、备份设备检测维修；每年至少2次备份策略分析检查"),
        ("网络设备", "与本项目运行相关的网络设备"),
        ("操作系统及基础软件", "操作系统维护；每年不少于2次补丁升级，经甲方评估同意后安装"),
    ],
    {
        "医政数据资源库": "data",
        "服务器主机设备": "server",
        "存储与备份设备": "server",
        "网络设备": "network",
    },
)

_C2_CIS = _cis(
    "C2",
    [
        ("区域绩效管理平台", "系统管理、绩效评价、政府补偿管理、绩效分配"),
        (
            "基层医疗卫生机构财政补偿考核",
            "考核方案制定（月度/季度/半年度/年度）、业务系统数据对账、"
            "手工填报、工作量确认、审核（通过/驳回/补充凭据）、考核评定（终审后不可更改）、"
            "工作质量结果确认与录入、工作质量考核总评定",
        ),
        (
            "综合报表及智能监控",
            "工作量、工作当量、财政补偿、预算、核减、排名、趋势、异常预警、薪酬分析",
        ),
        ("区域卫生信息平台", "滨江区已建智慧医疗系统（云平台租赁模式），绩效考核数据来源"),
        ("区域HIS", "滨江区已建智慧医疗系统，3家社区卫生服务中心及35家站点使用"),
        ("检验系统", "滨江区已建智慧医疗系统"),
        ("体检系统", "滨江区已建智慧医疗系统"),
        ("PACS影像系统", "滨江区已建智慧医疗系统"),
        ("PASS合理用药系统", "滨江区已建智慧医疗系统"),
        ("健康滨江APP", "滨江区已建智慧医疗系统"),
        ("智慧医疗自助服务系统", "滨江区已建智慧医疗系统"),
        ("统一支付平台", "滨江区已建智慧医疗系统"),
        ("综合管理平台", "滨江区已建智慧医疗系统"),
    ],
    {
        "区域卫生信息平台": "interoperability",
        "区域HIS": "his",
        "检验系统": "lis",
        "PACS影像系统": "pacs",
    },
)

# C3 seed, 服务范围 table: items 1-15 form the HIS proper, 16-50 are modules and interfaces.
_C3_HIS_CORE: tuple[str, ...] = (
    "门急诊挂号管理系统",
    "门急诊划价、收费系统",
    "门诊医生工作站",
    "门诊护士工作站",
    "住院病人出入转院管理系统",
    "住院收费管理系统",
    "住院医生工作站系统",
    "住院护士工作站系统",
    "门诊中西药房管理系统",
    "住院药房管理系统",
    "中西药库管理系统",
    "手术麻醉医嘱管理系统",
    "医技确费管理系统",
    "财务和统计分析管理系统",
    "基础维护管理系统",
)
_C3_OTHERS: tuple[str, ...] = (
    "结构化门诊电子病历系统",
    "统一对账管理系统/统一支付平台",
    "日间手术管理系统",
    "床位准备中心管理系统",
    "全院医技预约管理系统",
    "全院统一队列管理系统",
    "门诊号源管理系统",
    "危急值管理系统",
    "康复治疗管理系统",
    "传染病上报管理系统",
    "单病种管理系统",
    "抗菌药物管理系统",
    "儿童心理科测评系统对接HIS接口",
    "智慧产科对接HIS接口",
    "康复管理平台与HIS接口",
    "交接班模块的增加功能建设需求",
    "增加国家食源性疾病病例数据智能采集功能",
    "智慧医务对接HIS接口项目",
    "珠海市妇幼保健院门诊病种建设",
    "医保平台异地就医急诊外伤接口",
    "婚姻登记处婚检自助开单项目",
    "珠海市妇幼保健院生殖门诊排队叫号系统建设项目",
    "HIS系统改造及接口对接",
    "珠海市妇幼保健院门诊统筹建设",
    "特需收费系统建设",
    "微康呼叫系统和医院微信公众号、支付宝小程序运维",
    "检验检查结果互认",
    "传染病监控",
    "药品追溯码",
    "门诊电子病历诊疗页",
    "国家医保等指令性任务接口",
    "健康珠海对接",
    "SPD对接",
    "医保控费",
    "其他建设系统及接口",
)
_C3_CIS = _cis(
    "C3",
    [(n, "HIS系统子项（1套），2022年上线，原承建方湖南创星科技股份有限公司") for n in _C3_HIS_CORE]
    + [(n, "HIS相关模块及接口（1套）") for n in _C3_OTHERS],
    dict.fromkeys(_C3_HIS_CORE, "his"),
)

_C4_CIS = _cis(
    "C4",
    [
        (
            "基础设施云服务",
            "1.1.1 计算资源、云监控、专线、云安全、云备份；可用性≥99.9%，10分钟响应",
        ),
        ("基础设施运维服务", "1.1.2 服务器资源及基本运维；7×24技术响应，可用性≥99.9%"),
        ("数据资源服务", "1.2.1 全民健康数据仓库、数据采集与ETL、基础数据标准字典"),
        (
            "互联互通服务",
            "1.2.2 数据共享与交换总线；单次宕机≤2小时，数据字典<500ms，核心数据<200ms",
        ),
        ("医院信息系统", "1.3.1 基层HIS；年宕机≤4次，故障恢复≤1小时，7×24技术支持"),
        ("区域实验室（检验科）信息系统", "1.3.2 区域LIS"),
        ("区域医学影像信息系统", "1.3.3 区域PACS，支持DICOM"),
        ("合理用药管理信息系统", "1.3.4 用药知识库、处方干预与点评"),
        ("院内数字化系统和设备集成服务", "1.3.5 彩超、DR及健康监测设备集成"),
        ("基本公共卫生信息系统", "1.4.1 基本公卫"),
        ("基本公共卫生质量控制信息系统", "1.4.2 基本公卫质控"),
        ("家庭医生签约服务信息系统", "1.5.1 家医签约"),
        ("医疗协同服务信息系统", "1.5.2 检验、影像、心电协同"),
        ("互联网便民公众服务", "1.6.1 微信公众号及PC端居民服务"),
        ("综合卫生管理信息系统", "1.7.1 综合数据分析、报表、数据上传成都市全民健康信息平台"),
        ("绩效评价信息系统", "1.7.2 绩效评价（EPM）"),
        ("卫生办公协同信息系统", "1.7.3 OA、人事、薪资、项目与知识管理"),
        ("居民电子健康卡信息系统", "1.7.4 对接成都市电子健康卡平台"),
        ("医疗卫生专网", "3.1.4 武侯区医疗卫生专网及网络监控系统"),
        ("信息化需求管理平台", "3.1.1 信息化需求的收集、审批、实现跟踪与统计"),
    ],
    {  # C4-2 sets limits per service item: the HIS (1.3.1), interoperability (1.2.2), …
        "基础设施云服务": "cloud",
        "基础设施运维服务": "server",
        "数据资源服务": "data",
        "互联互通服务": "interoperability",
        "医院信息系统": "his",
        "区域实验室（检验科）信息系统": "lis",
        "区域医学影像信息系统": "pacs",
        "医疗卫生专网": "network",
    },
)

CONFIGURATION_ITEMS: tuple[ConfigurationItemSeed, ...] = (
    _C0_CIS + _C1_CIS + _C2_CIS + _C3_CIS + _C4_CIS
)
