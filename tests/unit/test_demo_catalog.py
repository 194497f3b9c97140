"""The demo catalogue matches the five contracts' scale and stays internally consistent."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from itsm.demo import catalog
from itsm.demo.catalog import InstitutionSeed

KINDS = {
    "commission",
    "qc_center",
    "community_center",
    "community_station",
    "clinic",
    "hospital",
    "other",
}
TIERS = {"urban", "near_suburb", "far_suburb"}
BEIJING = {
    "110101": "东城区",
    "110102": "西城区",
    "110105": "朝阳区",
    "110106": "丰台区",
    "110107": "石景山区",
    "110108": "海淀区",
    "110109": "门头沟区",
    "110111": "房山区",
    "110112": "通州区",
    "110113": "顺义区",
    "110114": "昌平区",
    "110115": "大兴区",
    "110116": "怀柔区",
    "110117": "平谷区",
    "110118": "密云区",
    "110119": "延庆区",
}
CITY_SIX = {"110101", "110102", "110105", "110106", "110107", "110108"}
FAR_FOUR = {"110116", "110117", "110118", "110119"}
C0_CENTRAL = {"110108", "110102", "110112"}  # 海淀, 西城, 通州 (全区集中部署)
PHONE = re.compile(r"^(010-[68]\d{7}|0571-8\d{7}|0756-[23]\d{6}|028-[68]\d{7}|1[358]\d{9})$")


@pytest.fixture(scope="module")
def insts() -> list[InstitutionSeed]:
    return catalog.institutions()


def of(insts: list[InstitutionSeed], contract: str) -> list[InstitutionSeed]:
    return [i for i in insts if i.contract_code == contract]


def kinds(insts: list[InstitutionSeed], contract: str) -> Counter[str]:
    return Counter(i.kind for i in of(insts, contract))


def test_contracts() -> None:
    assert [c.code for c in catalog.CONTRACTS] == ["C0", "C1", "C2", "C3", "C4"]
    for c in catalog.CONTRACTS:
        assert c.calendar in {"cn-5x8", "24x7"}
        assert 0 < len(c.name) <= 120 and c.customer and c.service_hours
        assert c.timezone == "Asia/Shanghai"
    calendars = {c.code: c.calendar for c in catalog.CONTRACTS}
    assert calendars == {"C0": "cn-5x8", "C1": "cn-5x8", "C2": "24x7", "C3": "cn-5x8", "C4": "24x7"}


def test_districts() -> None:
    codes = [d.code for d in catalog.DISTRICTS]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"\d{6}", c) for c in codes)
    assert {d.tier for d in catalog.DISTRICTS} <= TIERS
    by_code = {d.code: d for d in catalog.DISTRICTS}
    beijing = {d.code: d.name for d in catalog.DISTRICTS if d.city == "北京市"}
    assert beijing == BEIJING
    assert {c for c in BEIJING if by_code[c].tier == "urban"} == CITY_SIX
    assert all(by_code[c].tier == "far_suburb" for c in FAR_FOUR)
    assert (by_code["330108"].name, by_code["330108"].city) == ("滨江区", "杭州市")
    assert (by_code["440402"].name, by_code["440402"].city) == ("香洲区", "珠海市")
    assert (by_code["510107"].name, by_code["510107"].city) == ("武侯区", "成都市")


def test_codes_names_and_fields(insts: list[InstitutionSeed]) -> None:
    codes = [i.code for i in insts]
    assert len(codes) == len(set(codes))
    assert all(c.isascii() and len(c) <= 32 for c in codes)
    for contract in ("C0", "C1", "C2", "C3", "C4"):
        names = [i.name for i in of(insts, contract)]
        assert len(names) == len(set(names)), contract
    known = {d.code for d in catalog.DISTRICTS}
    contracts = {c.code for c in catalog.CONTRACTS}
    for i in insts:
        assert i.kind in KINDS
        assert i.district_code in known
        assert i.contract_code in contracts
        assert 0 < len(i.name) <= 120 and i.address
        assert 1 <= len(i.phones) <= 2 and all(PHONE.match(p) for p in i.phones), i.phones
        assert 18 < i.latitude < 42 and 100 < i.longitude < 122
    phones = [p for i in insts for p in i.phones]
    assert len(phones) == len(set(phones))


def test_addresses_in_own_district(insts: list[InstitutionSeed]) -> None:
    by_code = {d.code: d for d in catalog.DISTRICTS}
    for i in insts:
        d = by_code[i.district_code]
        assert i.address.startswith(d.city + d.name), (i.name, i.address)


def test_c0_scale_and_table2(insts: list[InstitutionSeed]) -> None:
    c0 = of(insts, "C0")
    assert len(c0) == 1360
    assert kinds(insts, "C0") == Counter(
        community_center=231, community_station=1101, clinic=12, hospital=16
    )
    districts = {i.district_code for i in c0}
    assert len(districts) == 12 and districts <= set(BEIJING) and C0_CENTRAL <= districts
    tier = {d.code: d.tier for d in catalog.DISTRICTS}
    groups: Counter[str] = Counter()
    for i in c0:
        where = (
            "central"
            if i.district_code in C0_CENTRAL
            else "urban"
            if tier[i.district_code] == "urban"
            else "far"
        )
        size = "centre" if i.kind in {"community_center", "hospital"} else "station"
        groups[where if where == "central" else f"{where}_{size}"] += 1
    # 表 2：实施部署机构统计表
    assert groups == Counter(
        urban_centre=54, far_centre=134, urban_station=221, far_station=659, central=292
    )


def test_c1_scale(insts: list[InstitutionSeed]) -> None:
    k = kinds(insts, "C1")
    assert k["commission"] == 1 and k["qc_center"] == 19
    assert sum(k.values()) - 1 - 19 == 11174
    assert set(k) <= KINDS
    assert {i.district_code for i in of(insts, "C1")} == set(BEIJING)
    qc = [i.name for i in of(insts, "C1") if i.kind == "qc_center"]
    assert "北京市病案质量控制和改进中心" in qc
    assert all(n.startswith("北京市") and n.endswith("质量控制和改进中心") for n in qc)


def test_c2_c3_c4_scale(insts: list[InstitutionSeed]) -> None:
    assert kinds(insts, "C2") == Counter(community_center=3, community_station=35)
    assert {i.district_code for i in of(insts, "C2")} == {"330108"}
    c3 = of(insts, "C3")
    assert [(i.kind, i.name, i.district_code) for i in c3] == [
        ("hospital", "珠海市妇幼保健院", "440402")
    ]
    k4 = kinds(insts, "C4")
    assert k4["community_center"] == 12 and k4["community_station"] == 15
    assert set(k4) <= {"community_center", "community_station", "commission", "other"}
    assert {i.district_code for i in of(insts, "C4")} == {"510107"}


def test_configuration_items() -> None:
    cis = catalog.CONFIGURATION_ITEMS
    per = Counter(ci.contract_code for ci in cis)
    assert per["C0"] == 11 and per["C3"] == 50
    assert all(per[c.code] > 0 for c in catalog.CONTRACTS)
    codes = [ci.code for ci in cis]
    assert len(codes) == len(set(codes)) and all(c.isascii() and len(c) <= 32 for c in codes)
    for contract in per:
        names = [ci.name for ci in cis if ci.contract_code == contract]
        assert len(names) == len(set(names))
    c3 = [ci.name for ci in cis if ci.contract_code == "C3"]
    assert c3[0] == "门急诊挂号管理系统" and c3[-1] == "其他建设系统及接口"


def test_deterministic_copies() -> None:
    first, second = catalog.institutions(), catalog.institutions()
    assert first == second and first is not second


def test_remote_areas_are_stations_and_clinics_of_far_suburban_mountain_townships(
    insts: list[InstitutionSeed],
) -> None:
    """C1-7 gives 4 h to 远郊区的偏远地区 only: the flag is never set in town or near suburbs."""
    tiers = {d.code: d.tier for d in catalog.DISTRICTS}
    remote = [i for i in insts if i.remote_area]
    assert all(tiers[i.district_code] == "far_suburb" for i in remote)
    assert {i.kind for i in remote} == {"community_station", "clinic", "other"}
    c1_far = [i for i in of(insts, "C1") if tiers[i.district_code] == "far_suburb"]
    c1_remote = [i for i in c1_far if i.remote_area]
    assert 0 < len(c1_remote) < len(c1_far)  # the other institutions there get 2 h
    assert any(i.name.endswith("村卫生室") for i in c1_remote)
    assert not any(i.remote_area for i in c1_far if i.kind in ("community_center", "hospital"))


def test_his_and_interoperability_systems_carry_their_group() -> None:
    """C4-2's limits are per service item: rules match the system's group."""
    groups = {(ci.contract_code, ci.name): ci.group for ci in catalog.CONFIGURATION_ITEMS}
    assert groups[("C4", "医院信息系统")] == "his"
    assert groups[("C4", "互联互通服务")] == "interoperability"
    assert groups[("C2", "区域HIS")] == "his"
    assert groups[("C3", "门诊医生工作站")] == "his"
    from sla_rules.vocabulary import SystemGroup

    known = {g.value for g in SystemGroup}
    assert {g for g in groups.values() if g is not None} <= known
