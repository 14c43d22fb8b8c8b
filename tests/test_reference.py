"""Reference data shipped in the package: territories and the 2025 merger, VSIC 2018, indicators."""

from __future__ import annotations

import csv
from datetime import date
from importlib import resources

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shared_path
from kinhteso.errors import ReferenceDataError
from kinhteso.reference import indicators as ind
from kinhteso.reference import territories as terr
from kinhteso.reference import vsic

# --- territories: counts and keys -------------------------------------------------------------


def test_counts_per_basis():
    ts = terr.territories()
    assert sum(t.basis == 63 for t in ts) == 63
    assert sum(t.basis == 34 for t in ts) == 34
    assert [t.key for t in ts if t.basis is None] == [terr.nation_key] == ["VN"]
    assert len(ts) == 98


def test_keys_carry_the_basis():
    bac_giang, bac_ninh = terr.get_territory("63:24"), terr.get_territory("34:24")
    assert bac_giang != bac_ninh
    assert (bac_giang.name_vi, bac_ninh.name_vi) == ("Bắc Giang", "Bắc Ninh")
    assert bac_giang.code == bac_ninh.code == "24"


def test_validity_dates():
    for t in terr.territories():
        if t.basis == 63:
            assert t.valid_to == date(2025, 6, 30)
            assert t.valid_on(date(2025, 6, 30)) and not t.valid_on(date(2025, 7, 1))
        elif t.basis == 34:
            assert t.valid_from == date(2025, 7, 1) and t.valid_to is None
            assert t.valid_on(date(2025, 7, 1)) and not t.valid_on(date(2025, 6, 30))
        else:
            assert t.valid_from is None and t.valid_to is None


def test_types():
    ts = terr.territories()
    cities63 = sorted(t.name_vi for t in ts if t.basis == 63 and t.type == "city")
    cities34 = sorted(t.name_vi for t in ts if t.basis == 34 and t.type == "city")
    assert cities63 == sorted(["Hà Nội", "Hải Phòng", "Đà Nẵng", "TP. Hồ Chí Minh", "Cần Thơ"])
    assert cities34 == sorted(cities63 + ["Huế"])
    assert terr.get_territory("VN").type == "nation"


def test_territory_table_keeps_leading_zeros():
    df = terr.territory_table()
    assert list(df.columns) == [
        "key", "basis", "code", "name_vi", "name_vi_ascii", "name_en", "type", "valid_from", "valid_to",
    ]
    assert df.loc[df.key == "63:01", "code"].item() == "01"
    assert df.loc[df.key == "34:04", "code"].item() == "04"
    assert pd.isna(df.loc[df.key == "VN", "basis"].item())
    df.loc[0, "name_vi"] = "changed"  # a copy: the cached table is untouched
    assert terr.territory_table().loc[0, "name_vi"] == "Việt Nam"


def test_diacritics_and_ascii_names():
    for t in terr.territories():
        assert t.name_vi_ascii == terr.strip_diacritics(t.name_vi)
        assert t.name_vi_ascii.isascii() and t.name_en.isascii()
    assert terr.get_territory("63:66").name_vi == "Đắk Lắk"
    assert terr.get_territory("63:66").name_vi_ascii == "Dak Lak"
    assert terr.get_territory("63:77").name_vi_ascii == "Ba Ria - Vung Tau"
    assert terr.get_territory("34:79").name_en == "Ho Chi Minh City"


def test_unknown_territory_suggests():
    with pytest.raises(ReferenceDataError, match=r"63:24 \(Bắc Giang\)") as err:
        terr.get_territory("24")
    assert err.value.code == "UNKNOWN_TERRITORY"
    assert "34:24 (Bắc Ninh)" in err.value.en and "Có phải ý bạn là" in err.value.vi
    with pytest.raises(ReferenceDataError, match=r"63:02 \(Hà Giang\)"):
        terr.get_territory("63:2")
    with pytest.raises(ReferenceDataError, match="63:24"):
        terr.get_territory("Bac Giang")


def test_territory_validation():
    with pytest.raises(ReferenceDataError, match="basis must be 63 or 34"):
        terr.Territory("64:01", 64, "01", "Hà Nội", "Ha Noi", "Ha Noi", "city", None, None)
    with pytest.raises(ReferenceDataError, match="2 digits"):
        terr.Territory("63:1", 63, "1", "Hà Nội", "Ha Noi", "Ha Noi", "city", None, None)
    with pytest.raises(ReferenceDataError, match="type 'town' is unknown"):
        terr.Territory("63:01", 63, "01", "Hà Nội", "Ha Noi", "Ha Noi", "town", None, None)
    with pytest.raises(ReferenceDataError, match="not plain ASCII"):
        terr.Territory("63:01", 63, "01", "Hà Nội", "Hà Nội", "Ha Noi", "city", None, None)


def test_shipped_csvs_have_no_comment_lines():
    data = resources.files("kinhteso.reference").joinpath("data")
    for name in ("territories.csv", "merger_2025.csv", "vsic2018.csv"):
        first = data.joinpath(name).read_text(encoding="utf-8").splitlines()[0]
        assert not first.startswith("#") and "," in first, name


# --- the 2025 merger --------------------------------------------------------------------------


def test_merger_counts():
    m = terr.merger_map()
    assert list(m.columns) == ["old_key", "new_key"] and len(m) == 63
    assert m.old_key.is_unique
    new_keys = {t.key for t in terr.territories() if t.basis == 34}
    assert set(m.new_key) == new_keys  # every new unit has at least one predecessor
    sizes = m.groupby("new_key").size()
    assert (sizes == 1).sum() == 11  # 11 unchanged units
    assert (sizes > 1).sum() == 23 and sizes[sizes > 1].sum() == 52  # 52 merged into 23


@pytest.mark.parametrize(
    ("old", "new"),
    [("63:30", "34:31"), ("63:31", "34:31"), ("63:24", "34:24"), ("63:27", "34:24"),
     ("63:74", "34:79"), ("63:77", "34:79"), ("63:79", "34:79"), ("63:46", "34:46")],
)
def test_merger_examples(old, new):
    assert terr.successors_of(old) == new
    assert old in terr.predecessors_of(new)


def test_predecessors():
    assert terr.predecessors_of("34:31") == ("63:30", "63:31")
    assert terr.get_territory("34:31").name_vi == "Hải Phòng"
    assert terr.predecessors_of("34:24") == ("63:24", "63:27")
    assert terr.predecessors_of("34:79") == ("63:74", "63:77", "63:79")
    assert terr.predecessors_of("34:04") == ("63:04",)


def test_merger_lookups_refuse_the_wrong_basis():
    with pytest.raises(ReferenceDataError, match="not a 63-basis") as err:
        terr.successors_of("34:31")
    assert err.value.code == "NOT_A_63_BASIS_KEY"
    with pytest.raises(ReferenceDataError, match="not a 34-basis"):
        terr.predecessors_of("63:30")
    with pytest.raises(ReferenceDataError) as err:
        terr.successors_of("63:99")
    assert err.value.code == "UNKNOWN_TERRITORY"


def _facts_rows() -> list[dict[str, str]]:
    path = shared_path("facts", "province_merger_2025.csv")
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_shipped_mapping_matches_the_facts_file():
    facts = _facts_rows()
    assert len(facts) == 63
    merger = dict(terr.merger_map().itertuples(index=False, name=None))
    aliases = terr.territory_aliases()
    for row in facts:
        old_key = f"63:{row['old_gso_code']}"
        new_key = f"34:{row['new_code_qd19_2025']}"
        assert merger[old_key] == new_key, row
        # names in the facts file resolve (through the aliases) to the same territories
        fact_old = row["old_province"].split(" (")[0]
        for name, basis, key in ((fact_old, 63, old_key), (row["new_province"], 34, new_key)):
            hit = aliases[(aliases.alias == terr.normalise_alias(name)) & (aliases.basis == basis)]
            assert hit.key.tolist() == [key], (name, basis)
        expected_type = "city" if row["new_type"] == "thành phố TW" else "province"
        assert terr.get_territory(new_key).type == expected_type, row
        assert (row["merged"] == "no") == (terr.predecessors_of(new_key) == (old_key,)), row


def test_every_new_code_of_the_facts_file_is_shipped():
    facts_codes = {r["new_code_qd19_2025"] for r in _facts_rows()}
    shipped = {t.code for t in terr.territories() if t.basis == 34}
    assert facts_codes == shipped


# --- aliases ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "basis", "key"),
    [
        ("1", 63, "63:01"), ("01", 34, "34:01"), ("Hà Nội", 34, "34:01"), ("Ha Noi", 63, "63:01"),
        ("Hanoi", 34, "34:01"),
        ("TP. Hồ Chí Minh", 34, "34:79"), ("TP Hồ Chí Minh", 63, "63:79"),
        ("Thành phố Hồ Chí Minh", 34, "34:79"), ("Ho Chi Minh City", 63, "63:79"), ("HCMC", 34, "34:79"),
        ("tp.hcm", 63, "63:79"),
        ("Thừa Thiên Huế", 63, "63:46"), ("Huế", 63, "63:46"), ("Huế", 34, "34:46"),
        ("Thừa Thiên Huế", 34, "34:46"),
        ("Bà Rịa - Vũng Tàu", 63, "63:77"), ("Bà Rịa–Vũng Tàu", 63, "63:77"), ("Ba Ria-Vung Tau", 63, "63:77"),
        ("Khánh Hoà", 34, "34:56"), ("KHÁNH HÒA", 63, "63:56"), ("Thanh Hoá", 63, "63:38"),
        ("Bắc Giang", 63, "63:24"), ("Bắc Ninh", 63, "63:27"), ("Bắc Ninh", 34, "34:24"),
        ("  tỉnh   Đắk Lắk ", 34, "34:66"), ("Dak Lak Province", 63, "63:66"),
        ("Việt Nam", 63, "VN"), ("cả nước", 34, "VN"),
    ],
)
def test_alias_lookup(text, basis, key):
    a = terr.territory_aliases()
    hit = a[(a.alias == terr.normalise_alias(text)) & (a.basis == basis)]
    assert hit.key.tolist() == [key]


def test_alias_table_shape():
    a = terr.territory_aliases()
    assert list(a.columns) == ["alias", "basis", "key"]
    assert not a.duplicated(["alias", "basis"]).any()
    assert set(a.basis) == {63, 34}
    assert (a.alias == a.alias.map(terr.normalise_alias)).all()  # already normalised
    for t in terr.territories():
        if t.basis is not None:
            mine = set(a[(a.basis == t.basis) & (a.key == t.key)].alias)
            assert {t.code, str(int(t.code)), terr.normalise_alias(t.name_vi),
                    terr.normalise_alias(t.name_vi_ascii), terr.normalise_alias(t.name_en)} <= mine
    # an old province is not an alias on the new basis
    assert a[(a.alias == "bắc giang") & (a.basis == 34)].empty


def test_normalise_alias_rules():
    assert terr.normalise_alias("  Bà  Rịa —Vũng   Tàu ") == "bà rịa - vũng tàu"
    assert terr.normalise_alias("TP.HCM") == terr.normalise_alias("TP HCM") == "tp hcm"
    assert terr.normalise_alias("Hoà Bình") == terr.normalise_alias("Hòa Bình") == "hòa bình"
    assert terr.normalise_alias("Thuỷ") == "thủy"
    assert terr.normalise_alias("quý") == "quý"  # "qu" is a consonant: no move
    assert terr.normalise_alias("hoàn") == "hoàn"  # not word-final: no move
    # decomposed input (NFD, as some spreadsheets store it) equals the composed form
    import unicodedata
    assert terr.normalise_alias(unicodedata.normalize("NFD", "Đắk Lắk")) == "đắk lắk"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aeouyqhnt .-–—ÀàáảãạòóỏõọèéẻẽẹỳýỷỹỵĐđ\t ")), max_size=20))
def test_normalise_alias_is_idempotent(text):
    once = terr.normalise_alias(text)
    assert terr.normalise_alias(once) == once
    assert once == once.strip() and "  " not in once


# --- VSIC 2018 --------------------------------------------------------------------------------


def test_vsic_counts():
    levels = pd.Series([s.level for s in vsic.sectors()]).value_counts()
    assert levels["total"] == 1 and levels["section"] == 21 and levels["division"] == 88
    assert [s.code for s in vsic.sectors() if s.level == "section"] == list("ABCDEFGHIJKLMNOPQRSTU")
    assert vsic.sectors()[0].code == vsic.TOTAL == "_T"


def test_vsic_parent_links_are_consistent():
    by_code = {s.code: s for s in vsic.sectors()}
    step = {"class": "group", "group": "division", "division": "section", "section": "total"}
    for s in vsic.sectors():
        if s.level == "total":
            assert s.parent is None
            continue
        parent = by_code[s.parent]  # every parent exists
        assert parent.level == step[s.level]
        if s.level in ("group", "class"):
            assert s.code.startswith(parent.code)
        assert vsic.ancestors(s.code)[-1] == "_T"
        assert s.code in vsic.children(s.parent)


REQUIRED_SECTORS = [
    "26", "2610", "2620", "2630", "2640", "2651", "2652", "2660", "2670", "2680",
    "465", "4651", "4652", "479", "4791", "58", "582", "5820", "61", "62", "63", "631", "6311", "6312",
    "951", "9511", "9512", "64", "6419",
]


@pytest.mark.parametrize("code", REQUIRED_SECTORS)
def test_digital_economy_codes_are_present(code):
    s = vsic.get_sector(code)
    assert s.name_vi and s.name_en


def test_all_classes_of_division_26():
    classes = [c for g in vsic.children("26") for c in vsic.children(g)]
    assert classes == ["2610", "2620", "2630", "2640", "2651", "2652", "2660", "2670", "2680"]


def test_vsic_navigation():
    assert vsic.ancestors("4651") == ("465", "46", "G", "_T")
    assert vsic.section_of("6312") == "J" and vsic.division_of("6312") == "63"
    assert vsic.section_of("26") == "C" and vsic.division_of("26") == "26"
    assert vsic.section_of("C") == "C" and vsic.division_of("C") is None
    assert vsic.division_of("_T") is None
    assert vsic.get_sector("61").name_vi == "Viễn thông" and vsic.get_sector("61").name_en == "Telecommunications"
    assert vsic.get_sector("J").name_en == "Information and communication"
    with pytest.raises(ReferenceDataError, match="belongs to no section"):
        vsic.section_of("_T")


def test_unknown_sector():
    with pytest.raises(ReferenceDataError, match="Nearest codes: 465") as err:
        vsic.get_sector("4653")
    assert err.value.code == "UNKNOWN_SECTOR" and "Mã gần nhất" in err.value.vi
    with pytest.raises(ReferenceDataError, match="Nearest codes: 02"):
        vsic.get_sector("2")


def test_sector_table():
    df = vsic.sector_table()
    assert list(df.columns) == ["code", "level", "parent", "name_vi", "name_en"]
    assert df.code.is_unique and len(df) == len(vsic.sectors())
    assert df.loc[df.code == "01", "parent"].item() == "A"
    assert pd.isna(df.loc[df.code == "_T", "parent"].item())


def test_sector_validation():
    with pytest.raises(ReferenceDataError, match="start with its parent"):
        vsic.Sector("4651", "class", "466", "x", "x")
    with pytest.raises(ReferenceDataError, match="does not fit level division"):
        vsic.Sector("261", "division", "C", "x", "x")


# --- indicators -------------------------------------------------------------------------------

REQUIRED_INDICATORS = {
    "GRDP_VA": ("VND_BN", True, "vsic"), "GRDP": ("VND_BN", True, "total"),
    "DIGITAL_COEF": ("RATIO", False, "vsic"), "ALLOC_RATIO": ("RATIO", False, "vsic"),
    "POPULATION": ("PERSONS", True, "total"), "EINVOICE_REVENUE": ("VND_BN", True, None),
    "CASHLESS_PAYMENTS": ("VND_BN", True, None), "ECOMMERCE_RETAIL": ("VND_BN", True, None),
    "RETAIL_SALES": ("VND_BN", True, None), "PORT_TEU": ("TEU", True, None),
    "DIGITAL_FIRMS": ("COUNT", True, None), "SME_PLATFORM_SHARE": ("PCT", False, None),
    "ECONTRACT_SHARE": ("PCT", False, None), "DTI_MAIN_INDEX": ("INDEX01", False, "dti_main_index"),
    "DE_SHARE": ("PCT", False, None), "PLATFORM_VA": ("VND_BN", True, None),
}


def test_units():
    assert set(ind.UNITS) == {"VND_BN", "PCT", "RATIO", "COUNT", "PERSONS", "TEU", "INDEX01", "INDEX", "HOURS", "TEU_H"}
    assert all(vi and en for vi, en in ind.UNITS.values())


@pytest.mark.parametrize("code", sorted(REQUIRED_INDICATORS))
def test_registry_contents(code):
    unit, additive, sector_kind = REQUIRED_INDICATORS[code]
    i = ind.load_indicators()[code]
    assert unit in i.units and i.additive is additive
    if sector_kind:
        assert i.sector_kind == sector_kind
    assert set(i.frequencies) <= {"A", "Q", "M"}
    assert i.name_vi != i.name_en and i.description_vi and i.source


def test_registry_ranges():
    reg = ind.load_indicators()
    assert (reg["GRDP_VA"].min, reg["GRDP_VA"].max) == (0.0, None)
    for code in ("DIGITAL_COEF", "ALLOC_RATIO", "DTI_MAIN_INDEX"):
        assert (reg[code].min, reg[code].max) == (0.0, 1.0)
    for code in ("DE_SHARE", "SME_PLATFORM_SHARE", "ECONTRACT_SHARE"):
        assert (reg[code].min, reg[code].max) == (0.0, 100.0)


def test_indicator_table():
    reg = ind.load_indicators()
    df = ind.indicator_table(reg)
    assert list(df.columns) == ["code", "unit", "additive", "min", "max", "frequencies", "sector_kind"]
    assert len(df) == sum(len(i.units) for i in reg.values())
    assert not df.duplicated(["code", "unit"]).any()
    row = df[(df.code == "CASHLESS_PAYMENTS") & (df.unit == "COUNT")].iloc[0]
    assert row.frequencies == "AQM" and bool(row.additive)


def test_yaml_fields_match_the_dataclass():
    from dataclasses import fields
    assert set(ind._YAML_FIELDS.values()) == {f.name for f in fields(ind.Indicator)}


USER_ENTRY = """\
  - code: {code}
    name_vi: Số thuê bao băng rộng cố định
    name_en: Fixed broadband subscriptions
    units: [{unit}]
    additive: true
    min: {min}
    max: {max}
    frequencies: [Q, A]
    sector: total
    description_vi: Số thuê bao Internet băng rộng cố định.
    description_en: Number of fixed broadband Internet subscriptions.
    source: Bộ KH&CN
"""


def _user_file(tmp_path, **kw):
    values = {"code": "BROADBAND_SUBS", "unit": "COUNT", "min": 0, "max": "null", **kw}
    p = tmp_path / "my_indicators.yaml"
    p.write_text("indicators:\n" + USER_ENTRY.format(**values), encoding="utf-8")
    return p


def test_user_yaml_accepted(tmp_path):
    reg = ind.load_indicators(_user_file(tmp_path))
    new = reg["BROADBAND_SUBS"]
    assert new.units == ("COUNT",) and new.frequencies == ("A", "Q") and new.max is None
    assert "GRDP_VA" in reg
    assert "BROADBAND_SUBS" not in ind.load_indicators()  # the shipped registry is unchanged


@pytest.mark.parametrize(
    ("kw", "code", "text"),
    [
        ({"code": "GRDP_VA"}, "INDICATOR_REDEFINED", "redefines a shipped indicator"),
        ({"unit": "USD"}, "INDICATOR_UNKNOWN_UNIT", "unit(s) ['USD'] unknown"),
        ({"min": 5, "max": 1}, "INDICATOR_BAD_RANGE", "min (5) is greater than max (1)"),
        ({"unit": "RATIO", "max": 2}, "INDICATOR_BAD_RANGE", "inside [0, 1]"),
    ],
)
def test_user_yaml_refused(tmp_path, kw, code, text):
    if kw.get("unit") == "RATIO":  # a ratio is not additive either; test the range alone
        p = _user_file(tmp_path, **kw)
        p.write_text(p.read_text(encoding="utf-8").replace("additive: true", "additive: false"), encoding="utf-8")
    else:
        p = _user_file(tmp_path, **kw)
    with pytest.raises(ReferenceDataError) as err:
        ind.load_indicators(p)
    assert err.value.code == code
    assert text in err.value.en
    assert str(p) in err.value.en and str(p) in err.value.vi  # names the file
    assert "entry 1" in err.value.en and "mục 1" in err.value.vi  # and the entry


def test_user_yaml_missing_field(tmp_path):
    p = _user_file(tmp_path)
    p.write_text(p.read_text(encoding="utf-8").replace("    source: Bộ KH&CN\n", ""), encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"entry 1 \(BROADBAND_SUBS\) lacks the field\(s\) \['source'\]") as err:
        ind.load_indicators(p)
    assert err.value.code == "INDICATOR_FIELD_MISSING" and err.value.context["file"] == str(p)


def test_user_yaml_other_refusals(tmp_path):
    p = _user_file(tmp_path)
    p.write_text(p.read_text(encoding="utf-8").replace("frequencies: [Q, A]", "frequencies: [Q, W]"), encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="frequencies must be"):
        ind.load_indicators(p)
    p.write_text(p.read_text(encoding="utf-8").replace("frequencies: [Q, W]", "frequncies: [Q]"), encoding="utf-8")
    with pytest.raises(ReferenceDataError) as err:
        ind.load_indicators(p)
    assert err.value.code == "INDICATOR_FIELD_MISSING"
    p.write_text("indicators: {}\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="'indicators:' holding a list"):
        ind.load_indicators(p)
    p.write_text("indicators: [\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError) as err:
        ind.load_indicators(p)
    assert err.value.code == "INDICATOR_FILE_UNREADABLE"
    with pytest.raises(ReferenceDataError) as err:
        ind.load_indicators(tmp_path / "absent.yaml")
    assert err.value.code == "INDICATOR_FILE_UNREADABLE"


def test_share_cannot_be_additive(tmp_path):
    p = _user_file(tmp_path, unit="PCT", max=100)
    with pytest.raises(ReferenceDataError, match="cannot be summed"):
        ind.load_indicators(p)


def test_duplicate_in_user_file(tmp_path):
    entry = USER_ENTRY.format(code="X_ONE", unit="COUNT", min=0, max="null")
    p = tmp_path / "dup.yaml"
    p.write_text("indicators:\n" + entry + entry, encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"entry 2 \(X_ONE\): code X_ONE appears twice"):
        ind.load_indicators(p)


# --- broken reference files are refused -------------------------------------------------------


@pytest.fixture
def fresh_caches():
    caches = (terr.territories, terr._by_key, terr._merger, terr._alias_index, terr._territory_frame)
    for c in caches:
        c.cache_clear()
    yield
    for c in caches:
        c.cache_clear()


def test_alias_naming_two_territories_is_refused(monkeypatch, fresh_caches):
    monkeypatch.setitem(terr._VARIANTS, "63:27", ("Bắc Giang",))  # Bắc Giang is 63:24
    with pytest.raises(ReferenceDataError, match="names two territories on basis 63") as err:
        terr.territory_aliases()
    assert err.value.code == "REFERENCE_FILE_BROKEN"


def test_merger_missing_an_old_province_is_refused(monkeypatch, fresh_caches):
    real = terr._read_data_csv
    monkeypatch.setattr(terr, "_read_data_csv", lambda name: real(name)[:-1] if name == "merger_2025.csv" else real(name))
    with pytest.raises(ReferenceDataError, match="exactly once"):
        terr.merger_map()


def test_territories_file_with_a_missing_row_is_refused(monkeypatch, fresh_caches):
    real = terr._read_data_csv
    monkeypatch.setattr(terr, "_read_data_csv", lambda name: real(name)[:-1] if name == "territories.csv" else real(name))
    with pytest.raises(ReferenceDataError, match="basis 34 has 33 territories, expected 34"):
        terr.territories()
