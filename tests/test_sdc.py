"""Statistical disclosure control of published magnitude tables (issue 17, item 4; docs/microdata.md).

Threshold, (n, k) dominance and p% rules; secondary suppression over the table's totals, checked by a
checker written here apart from the module (every additive relation of the *published* table tried:
total minus published parts, parts summing to zero, and any linear combination of relations), by the
module's own audit and by linear programs (what a reader can bound a suppressed cell to).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kinhteso.errors import MethodError
from kinhteso.methods import sdc
from kinhteso.methods.disclosure import MIN_UNITS

CHANNEL = {"_T": ["online", "offline"]}
BUYER = {"_T": ["B2B", "B2C", "B2G"]}
HIER_2D = {"channel": CHANNEL, "buyer_type": BUYER}


# --- an independent checker: what a reader can do with the published table ---------------------------------
def _relations_of(published: pd.DataFrame, dims: list[str], hierarchies: dict) -> list[tuple[tuple, list[tuple]]]:
    """(total key, part keys present) for each total present in the published table."""
    keys = {tuple(str(x) for x in k) for k in published[dims].itertuples(index=False)}
    out = []
    for d, tree in hierarchies.items():
        pos = dims.index(d)
        for k in sorted(keys):
            if k[pos] in tree:
                parts = [k[:pos] + (c,) + k[pos + 1:] for c in tree[k[pos]]]
                out.append((k, [p for p in parts if p in keys]))
    return out


def reader_recovers(published: pd.DataFrame, dims: list[str], hierarchies: dict, value: str = "value") -> list:
    """Every suppressed (blank) cell a reader gets back from the published table, and how: the only
    blank cell of a relation (total minus published parts), blank parts whose published total minus
    published parts is 0 (each must be 0, values being ≥ 0), or a blank cell fixed by a linear
    combination of relations (rank test: the cell's unit vector adds nothing to the relations' rank)."""
    vals = {tuple(str(x) for x in k[:-1]): k[-1] for k in published[[*dims, value]].itertuples(index=False)}
    hidden = sorted(k for k, x in vals.items() if x is None or (isinstance(x, float) and math.isnan(x)))
    found = []
    rels = _relations_of(published, dims, hierarchies)
    for total, parts in rels:
        blanks = [k for k in (total, *parts) if k in hidden]
        if len(blanks) == 1:
            found.append(("subtraction", blanks[0]))
        elif blanks and total not in blanks:
            rest = vals[total] - sum(vals[p] for p in parts if p not in blanks)
            if abs(rest) <= 1e-9 * max(1.0, abs(vals[total])):
                found.extend(("zero_sum", b) for b in blanks)
    col = {k: j for j, k in enumerate(hidden)}
    rows = []
    for total, parts in rels:
        row = np.zeros(len(hidden))
        for sign, k in [(1.0, total)] + [(-1.0, p) for p in parts]:
            if k in col:
                row[col[k]] += sign
        if row.any():
            rows.append(row)
    if rows:
        a = np.vstack(rows)
        rank = np.linalg.matrix_rank(a)
        for k, j in col.items():
            e = np.zeros(len(hidden))
            e[j] = 1.0
            if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
                found.append(("linear", k))
    return found


def _records(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["channel", "buyer_type", "seller", "value"])


# --- primary: threshold --------------------------------------------------------------------------------------
def test_threshold_two_sellers_suppressed_three_published():
    r = _records([("online", "B2B", "a", 10.0), ("online", "B2B", "b", 12.0), ("online", "B2B", "a", 5.0),  # 2 sellers
                  ("offline", "B2B", "a", 10.0), ("offline", "B2B", "b", 11.0), ("offline", "B2B", "c", 12.0)])
    cells = sdc.cells_from_contributions(r, ["channel", "buyer_type"], unit="seller")
    assert cells.set_index("channel")["n_units"].to_dict() == {"offline": 3, "online": 2}
    assert cells.set_index("channel").loc["online", "top1"] == 15.0  # a's two invoices summed: a unit, not an invoice
    out = sdc.primary_suppression(cells).set_index("channel")
    assert bool(out.at["online", "sensitive"]) and out.at["online", "sdc_rule"] == "threshold"
    assert not bool(out.at["offline", "sensitive"]) and out.at["offline", "sdc_rule"] == ""
    assert out.at["online", "protection"] == pytest.approx(0.10 * 27.0)  # the safety range, 10 % of the value
    assert MIN_UNITS == 3  # the rule of kinhteso.methods.disclosure, not a second copy
    four = sdc.primary_suppression(cells, min_units=4)
    assert four["sensitive"].all()
    one = pd.DataFrame({"value": [5.0, 0.0, 0.0], "n_units": [1, 0, 1], "top1": [5.0, 0.0, 0.0]})
    flags = sdc.primary_suppression(one, dominance=[])
    assert flags["sensitive"].tolist() == [True, False, True]  # an empty cell is not sensitive; a 0 from 1 seller is


# --- primary: dominance and p% -----------------------------------------------------------------------------------
def test_dominance_1_85_and_a_configured_2_90():
    c = pd.DataFrame({"value": [100.0, 100.0, 100.0, 100.0, 200.0],
                      "n_units": [10, 10, 10, 10, 10],
                      "top1": [86.0, 85.0, 60.0, 45.0, 100.0],
                      "top2": [1.0, 1.0, 31.0, 45.0, 80.0]})
    default = sdc.primary_suppression(c)
    assert default["sensitive"].tolist() == [True, False, False, False, False]  # more than 85 %, not 85 % exactly
    assert default.at[0, "sdc_rule"] == "dominance(1,85)"
    assert default.at[0, "protection"] == pytest.approx(100 / 85 * 86 - 100)  # the total must reach x1 / 0.85
    two = sdc.primary_suppression(c, dominance=[(2, 90)])
    assert two["sensitive"].tolist() == [False, False, True, False, False]  # 91 % > 90 %; 90 % exactly is not
    assert two.at[2, "protection"] == pytest.approx(100 / 90 * 91 - 100)
    both = sdc.primary_suppression(c, dominance=[(1, 85), (2, 90)])
    assert both["sensitive"].tolist() == [True, False, True, False, False]
    none = sdc.primary_suppression(c, dominance=None)
    assert not none["sensitive"].any()
    # a precomputed top-n sum serves the (n, k) rule for that n
    pre = pd.DataFrame({"value": [100.0, 100.0], "n_units": [9, 9], "top3_sum": [96.0, 94.0]})
    assert sdc.primary_suppression(pre, dominance=[(3, 95)])["sensitive"].tolist() == [True, False]
    with pytest.raises(MethodError) as e:
        sdc.primary_suppression(pre, dominance=[(2, 90)])
    assert e.value.code == "SDC_TOP_MISSING" and e.value.vi and e.value.en


def test_p_percent_rule():
    # remainder T - x1 - x2 against p % of x1: 100 - 50 - 46 = 4 < 10 % of 50 = 5: sensitive
    c = pd.DataFrame({"value": [100.0, 100.0, 100.0], "n_units": [5, 5, 1], "top1": [50.0, 50.0, 100.0],
                      "top2": [46.0, 44.0, 0.0]})
    out = sdc.primary_suppression(c, dominance=[], p=10, min_units=1)
    assert out["sensitive"].tolist() == [True, False, True]  # one unit: nothing left to hide it (remainder 0)
    assert out.at[0, "protection"] == pytest.approx(0.10 * 50 - 4)
    assert out.at[0, "sdc_rule"] == "p%(10)"


def test_rules_are_checked():
    c = pd.DataFrame({"value": [1.0], "n_units": [5], "top1": [0.5]})
    for kwargs in ({"dominance": [(0, 85)]}, {"dominance": [(1, 120)]}, {"p": 0}, {"min_units": 0},
                   {"safety_range": -1}):
        with pytest.raises(MethodError) as e:
            sdc.primary_suppression(c, **kwargs)
        assert e.value.code == "SDC_RULE" and e.value.vi != e.value.en
    with pytest.raises(MethodError) as e:
        sdc.primary_suppression(pd.DataFrame({"value": [-1.0], "n_units": [5], "top1": [0.0]}))
    assert e.value.code == "SDC_NEGATIVE"
    with pytest.raises(MethodError) as e:  # a top contribution larger than the cell
        sdc.primary_suppression(pd.DataFrame({"value": [1.0], "n_units": [5], "top1": [2.0]}))
    assert e.value.code == "SDC_TOP_INCONSISTENT"
    with pytest.raises(MethodError) as e:
        sdc.primary_suppression(pd.DataFrame({"value": [1.0]}))
    assert e.value.code == "SDC_COLUMNS"


# --- secondary: a 2-D table by hand ------------------------------------------------------------------------------
def _by_hand() -> pd.DataFrame:
    """channel × buyer type with both margins; sellers s1… with their revenue per cell.

    =========  =====  =====  =====  =====
    (sellers)   B2B    B2C    B2G    _T
    online      4      4      2      …
    offline     5      4      3      …
    =========  =====  =====  =====  =====

    online × B2G has 2 sellers (threshold). Nothing else is sensitive."""
    rows = []
    sizes = {("online", "B2B"): [30, 25, 20, 15], ("online", "B2C"): [12, 10, 9, 8], ("online", "B2G"): [40, 7],
             ("offline", "B2B"): [50, 45, 40, 35, 30], ("offline", "B2C"): [11, 10, 9, 8],
             ("offline", "B2G"): [20, 18, 16]}
    for (ch, b), xs in sizes.items():
        rows += [(ch, b, f"s{j}", float(x)) for j, x in enumerate(xs)]
    return sdc.cells_from_contributions(_records(rows), ["channel", "buyer_type"], unit="seller",
                                        hierarchies=HIER_2D)


def test_secondary_suppression_on_a_2d_table_by_hand():
    cells = _by_hand()
    assert len(cells) == 12  # 2 × 3 inner cells, 3 + 2 margins, the grand total
    out = sdc.protect(cells, ["channel", "buyer_type"], HIER_2D, secondary_flag="D")
    flags = out.set_index(["channel", "buyer_type"])["flag"].to_dict()
    assert flags[("online", "B2G")] == "C"
    # the cheapest rectangle through (online, B2G): the smallest partner in its row is online×B2C (39),
    # in its column offline×B2G (54), closing at offline×B2C (38)
    assert {k for k, f in flags.items() if f == "D"} == {("online", "B2C"), ("offline", "B2G"), ("offline", "B2C")}
    assert out["value"].isna().sum() == 4 and out.loc[out["flag"] != "F", "n_units"].isna().all()
    assert out.attrs["sdc"]["primary"] == 1 and out.attrs["sdc"]["secondary"] == 3 and not out.attrs["sdc"]["unresolved"]
    assert not [c for c in out.columns if c.startswith("top") or c in ("protection", "sensitive")]  # nothing that discloses
    assert reader_recovers(out, ["channel", "buyer_type"], HIER_2D) == []
    # without secondary suppression a reader would subtract: the checker is not blind
    naive = cells.copy()
    naive.loc[(naive["channel"] == "online") & (naive["buyer_type"] == "B2G"), "value"] = np.nan
    assert ("subtraction", ("online", "B2G")) in reader_recovers(naive, ["channel", "buyer_type"], HIER_2D)
    # the pattern passes the module's audit and the LP audit bounds the sensitive cell widely enough
    full = sdc.protect(cells, ["channel", "buyer_type"], HIER_2D, blank=False, keep_detail=True)
    assert sdc.find_disclosures(full, ["channel", "buyer_type"], HIER_2D).empty
    lp = sdc.audit_intervals(full, ["channel", "buyer_type"], HIER_2D).set_index(["channel", "buyer_type"])
    cell = lp.loc[("online", "B2G")]
    assert cell["upper"] - cell["value"] >= cell["protection"] > 0 and cell["lower"] < cell["value"]
    assert (lp["upper"] - lp["lower"] > 1e-6).all()
    # the microdata CSV's contract knows only C
    assert set(sdc.protect(cells, ["channel", "buyer_type"], HIER_2D, secondary_flag="C")["flag"]) == {"C", "F"}


def test_a_bridge_between_two_rectangles_is_found_and_repaired():
    """Every row and column has two suppressions, yet the cell linking two rectangles is the
    difference of their row sums: the exact audit finds it and secondary suppression repairs it."""
    rows, cols = ["r1", "r2", "r3", "r4"], ["c1", "c2", "c3", "c4", "c5"]
    hier = {"r": {"_T": rows}, "c": {"_T": cols}}
    grid = pd.DataFrame([(r, c, 10.0 + i * 5 + j) for i, r in enumerate(rows) for j, c in enumerate(cols)],
                        columns=["r", "c", "value"])
    grid = pd.concat([grid,
                      grid.groupby("r", as_index=False)["value"].sum().assign(c="_T"),
                      grid.groupby("c", as_index=False)["value"].sum().assign(r="_T"),
                      pd.DataFrame({"r": ["_T"], "c": ["_T"], "value": [grid["value"].sum()]})], ignore_index=True)
    pattern = {("r1", "c1"), ("r1", "c2"), ("r2", "c1"), ("r2", "c2"),  # rectangle A
               ("r3", "c3"), ("r3", "c4"), ("r4", "c3"), ("r4", "c4"),  # rectangle B
               ("r1", "c3")}                                            # the bridge
    key = list(zip(grid["r"], grid["c"]))
    grid["suppressed"] = [k in pattern for k in key]
    grid["sensitive"] = [k == ("r1", "c3") for k in key]
    grid["protection"] = 0.0
    found = sdc.find_disclosures(grid, ["r", "c"], hier)
    linear = {key[i] for i in found.loc[found["kind"] == "linear", "cell"]}
    assert ("r1", "c3") in linear and set(found["kind"]) == {"linear"}  # no single relation gives it away
    published = grid.assign(value=grid["value"].where(~grid["suppressed"]))
    assert ("linear", ("r1", "c3")) in reader_recovers(published, ["r", "c"], hier)
    # the same pattern as primary cells: secondary suppression adds what breaks the bridge
    grid["n_units"] = 10
    grid["sensitive"] = grid["suppressed"]
    out = sdc.secondary_suppression(grid.drop(columns="suppressed"), ["r", "c"], hier)
    assert out["suppressed"].sum() > len(pattern) and not out.attrs["sdc"]["unresolved"]
    assert sdc.find_disclosures(out, ["r", "c"], hier).empty
    assert reader_recovers(out.assign(value=out["value"].where(~out["suppressed"])), ["r", "c"], hier) == []


# --- secondary: random tables ----------------------------------------------------------------------------------
VSIC = {"26": ["261", "262", "263"]}
HIER_3D = {"vsic": VSIC, "channel": CHANNEL, "buyer_type": BUYER}
DIMS_3D = ["territory", "vsic", "channel", "buyer_type"]


def _random_records(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for territory in ("34:31", "01:00"):  # not additive: two separate sub-tables
        n_sellers = int(rng.integers(3, 18))
        for s in range(n_sellers):
            vsic = str(rng.choice(VSIC["26"], p=[0.5, 0.3, 0.2]))
            size = float(rng.pareto(1.2) + 1.0) * 10.0
            for _ in range(int(rng.integers(1, 6))):
                ch = str(rng.choice(CHANNEL["_T"], p=[0.4, 0.6]))
                b = str(rng.choice(BUYER["_T"], p=[0.6, 0.3, 0.1]))
                rows.append((territory, vsic, ch, b, f"{territory}-{s}", round(size * float(rng.uniform(0.1, 1.0)), 3)))
    return pd.DataFrame(rows, columns=[*DIMS_3D, "seller", "value"])


@pytest.mark.parametrize("seed", range(50))
def test_secondary_suppression_on_random_tables(seed):
    records = _random_records(seed)
    cells = sdc.cells_from_contributions(records, DIMS_3D, unit="seller", hierarchies=HIER_3D, top_n=2)
    rules = {"dominance": [(1, 85), (2, 90)], "p": 10 if seed % 2 else None}
    full = sdc.protect(cells, DIMS_3D, HIER_3D, blank=False, keep_detail=True, **rules)
    info = full.attrs["sdc"]
    assert not info["unresolved"] and info["unaudited"] == 0, info
    published = sdc.protect(cells, DIMS_3D, HIER_3D, **rules)
    assert reader_recovers(published, DIMS_3D, HIER_3D) == []
    assert sdc.find_disclosures(full, DIMS_3D, HIER_3D).empty
    # every published cell rests on at least 3 distinct sellers and no seller holds more than 85 % of it
    free = full[full["flag"] == "F"].merge(published[[*DIMS_3D, "value"]], on=DIMS_3D, suffixes=("", "_pub"))
    assert (free["n_units"] >= 3).all() and (free["value"] == free["value_pub"]).all()
    assert (100 * free["top1"] <= 85 * free["value"] + 1e-9).all()
    assert set(full.loc[full["sensitive"], "flag"]) <= {"C"}
    # no suppressed cell is pinned down exactly, even with the bounds x ≥ 0 (linear programs)
    lp = sdc.audit_intervals(full, DIMS_3D, HIER_3D)
    assert ((lp["upper"] - lp["lower"]) > 1e-6 * np.maximum(1.0, lp["value"])).all()
    assert ((lp["lower"] <= lp["value"] + 1e-6) & (lp["value"] <= lp["upper"] + 1e-6)).all()


# --- edge cases --------------------------------------------------------------------------------------------------
def test_empty_table():
    empty = pd.DataFrame({"channel": pd.Series(dtype=str), "value": pd.Series(dtype=float),
                          "n_units": pd.Series(dtype=int), "top1": pd.Series(dtype=float)})
    out = sdc.protect(empty, ["channel"], {"channel": CHANNEL})
    assert out.empty and "flag" in out.columns
    assert sdc.find_disclosures(sdc.protect(empty, ["channel"], {"channel": CHANNEL}, keep_detail=True, blank=False),
                                ["channel"], {"channel": CHANNEL}).empty
    none = sdc.cells_from_contributions(_records([]), ["channel", "buyer_type"], unit="seller", hierarchies=HIER_2D)
    assert none.empty and list(none.columns) == ["channel", "buyer_type", "value", "n_units", "top1", "top2"]


def test_all_suppressed():
    r = _records([("online", "B2B", "a", 5.0), ("offline", "B2B", "b", 6.0)])  # two sellers in all: every cell < 3
    cells = sdc.cells_from_contributions(r, ["channel", "buyer_type"], unit="seller", hierarchies=HIER_2D)
    out = sdc.protect(cells, ["channel", "buyer_type"], HIER_2D)
    assert (out["flag"] == "C").all() and out["value"].isna().all()
    assert reader_recovers(out, ["channel", "buyer_type"], HIER_2D) == []


def test_zeros_and_empty_cells():
    # online: B2G is 0 from 3 sellers (published, but no protection for anyone); offline is empty (no seller)
    cells = pd.DataFrame({
        "channel": ["online"] * 4 + ["offline"] * 2,
        "buyer_type": ["_T", "B2B", "B2C", "B2G", "_T", "B2B"],
        "value": [35.0, 30.0, 5.0, 0.0, 0.0, 0.0],
        "n_units": [10, 7, 2, 3, 0, 0],
        "top1": [6.0, 6.0, 3.0, 0.0, 0.0, 0.0]})
    hier = {"buyer_type": BUYER}
    out = sdc.protect(cells, ["channel", "buyer_type"], hier, blank=False, keep_detail=True)
    f = out.set_index(["channel", "buyer_type"])["flag"].to_dict()
    assert f[("online", "B2C")] == "C" and not out.loc[out["channel"] == "offline", "sensitive"].any()
    assert f[("online", "B2G")] == "F" and f[("online", "B2B")] == "D"  # a zero partner would hide nothing
    assert f[("offline", "_T")] == f[("offline", "B2B")] == "F"  # empty cells: published, never sensitive
    assert sdc.find_disclosures(out, ["channel", "buyer_type"], hier).empty
    # the audit sees a zero partner: 5 + 0 suppressed under a published total reads 5 exactly
    zero = out.assign(suppressed=out["flag"].eq("C") | (out["buyer_type"] == "B2G") & (out["channel"] == "online"))
    assert set(sdc.find_disclosures(zero, ["channel", "buyer_type"], hier)["kind"]) >= {"interval"}
    assert ("linear", ("online", "B2C")) not in reader_recovers(zero.assign(value=zero["value"].where(~zero["suppressed"])),
                                                                 ["channel", "buyer_type"], hier)
    # a total whose parts do not add up (or are all empty but the total is not 0): relations() refuses it
    bad = cells.assign(value=[35.0, 30.0, 5.0, 0.0, 1.0, 0.0])
    with pytest.raises(MethodError) as e:
        sdc.protect(bad, ["channel", "buyer_type"], hier)
    assert e.value.code == "SDC_NOT_ADDITIVE" and "'buyer_type'" in e.value.en and "'buyer_type'" in e.value.vi


def test_tables_and_hierarchies_are_checked():
    cells = pd.DataFrame({"channel": ["_T", "online", "online"], "value": [2.0, 1.0, 1.0], "n_units": [5, 5, 5],
                          "top1": [1.0, 1.0, 1.0]})
    with pytest.raises(MethodError) as e:
        sdc.protect(cells, ["channel"], {"channel": CHANNEL})
    assert e.value.code == "SDC_DUPLICATE_CELL"
    ok = cells.iloc[:2].assign(value=[1.0, 1.0])
    for hier in ({"channel": {"_T": ["online"], "X": ["online"]}}, {"channel": {"a": ["b"], "b": ["a"]}},
                 {"region": CHANNEL}):
        with pytest.raises(MethodError) as e:
            sdc.protect(ok, ["channel"], hier)
        assert e.value.code == "SDC_HIERARCHY" and e.value.vi and e.value.en
    assert sdc.period_hierarchy(["2025-03", "2025-01"], year=False) == {"2025-Q1": ["2025-01", "2025-03"]}
    with pytest.raises(MethodError):
        sdc.period_hierarchy(["2025-13"])


def test_months_within_quarters():
    """The period dimension is additive too when quarters are published: a month of 2 sellers in a
    quarter's other months of many gets a partner month."""
    months = ["2025-01", "2025-02", "2025-03"]
    rows = []
    for m, n in zip(months, [2, 6, 7]):
        rows += [(m, f"s{j}", 10.0 + j) for j in range(n)]
    rec = pd.DataFrame(rows, columns=["period", "seller", "value"])
    hier = {"period": sdc.period_hierarchy(months, year=False)}
    cells = sdc.cells_from_contributions(rec, ["period"], unit="seller", hierarchies=hier)
    out = sdc.protect(cells, ["period"], hier)
    assert out.set_index("period")["flag"].to_dict() == {"2025-01": "C", "2025-02": "D", "2025-03": "F", "2025-Q1": "F"}
    assert reader_recovers(out, ["period"], hier) == []
