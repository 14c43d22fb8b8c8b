"""Periods: one parser (kinhteso.periods) for files and command options alike.

Every accepted form reads to its SDMX TIME_PERIOD; every malformed period is ``None`` for
ingestion and the usage error ``BAD_PERIOD`` (exit code 2) for a ``--period`` option, with a
message in both languages that names what was given.
"""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from kinhteso.cli import main
from kinhteso.domain import FIRST_YEAR, MERGER_DATE
from kinhteso.errors import UsageError
from kinhteso.ingest.load import ingest_file
from kinhteso.ingest.rules import RULES
from kinhteso.periods import (
    ACCEPTED_FORMS_EN,
    ACCEPTED_FORMS_VI,
    FORMS,
    MAX_YEAR,
    MIN_YEAR,
    Period,
    match_period,
    parse_period,
    period,
)
from kinhteso.workspace import Workspace


@pytest.mark.parametrize(("text", "code"), [
    ("2025", "2025"),
    ("Năm 2025", "2025"),
    ("nam 2025", "2025"),
    ("2025-Q3", "2025-Q3"),
    ("2025Q3", "2025-Q3"),
    ("2025 Q3", "2025-Q3"),
    ("2025q3", "2025-Q3"),
    ("Q3/2025", "2025-Q3"),
    ("Q3-2025", "2025-Q3"),
    ("Quý 3/2025", "2025-Q3"),
    ("Quy 3/2025", "2025-Q3"),
    ("quý III/2025", "2025-Q3"),
    ("Quý 3 năm 2025", "2025-Q3"),
    ("QUÝ IV NĂM 2024", "2024-Q4"),
    ("2025-07", "2025-07"),
    ("2025-7", "2025-07"),
    ("2025M07", "2025-07"),
    ("2025/07", "2025-07"),
    ("07/2025", "2025-07"),
    ("7/2025", "2025-07"),
    ("Tháng 7/2025", "2025-07"),
    ("Thang 7/2025", "2025-07"),
    ("Tháng 7 năm 2025", "2025-07"),
    ("  2025-Q3 ", "2025-Q3"),          # surrounding spaces
    ("2025\u2013Q3", "2025-Q3"),        # an en dash, as a word processor writes it
    ("Qu\u0079\u0301 3/2025", "2025-Q3"),  # decomposed (NFD) diacritics
])
def test_every_accepted_form_reads_to_its_sdmx_code(text, code):
    assert parse_period(text).code == code
    assert period(text).code == code


@pytest.mark.parametrize("text", [
    "2025-Q5", "2025-Q0", "Quý V/2025", "Quý 0/2025", "13/2025", "0/2025", "2025-13", "2024-00",
    "Q3/25", "25", "1899", "2101", "2101-Q1", "Tháng 13 năm 2025", "2025-W01", "Q3", "năm", "", "  ",
])
def test_every_bad_form_is_bad_period_in_both_languages(text):
    assert parse_period(text) is None
    with pytest.raises(UsageError) as exc:
        period(text)
    err = exc.value
    assert err.code == "BAD_PERIOD" and err.exit_code == 2
    assert f"'{text}'" in err.vi and f"'{text}'" in err.en
    assert ACCEPTED_FORMS_VI in err.vi and ACCEPTED_FORMS_EN in err.en


def test_files_and_options_share_one_message():
    vi, en = RULES["BAD_PERIOD"]
    err = pytest.raises(UsageError, period, "2025-Q5").value
    assert err.vi == vi.format(value="2025-Q5") and err.en == en.format(value="2025-Q5")


def test_period_helpers():
    q = period("Quý 3/2025")
    assert (q.freq, q.year, q.quarter, q.month, q.start, q.end) == ("Q", 2025, 3, None, dt.date(2025, 7, 1),
                                                                    dt.date(2025, 9, 30))
    m = period("Tháng 2 năm 2024")
    assert (m.quarter, m.month, m.end) == (1, 2, dt.date(2024, 2, 29))
    a = period("Năm 2025")
    assert (a.quarter, a.end, str(a)) == (None, dt.date(2025, 12, 31), "2025")
    assert period(q) is q and parse_period(None) is None
    assert match_period("2025Q3")[0].name == "YYYYQn"
    assert q.start == MERGER_DATE and parse_period(str(FIRST_YEAR)) is not None


_PERIODS = st.one_of(
    st.builds(lambda y: Period.of("A", y), st.integers(MIN_YEAR, MAX_YEAR)),
    st.builds(lambda y, q: Period.of("Q", y, q), st.integers(MIN_YEAR, MAX_YEAR), st.integers(1, 4)),
    st.builds(lambda y, m: Period.of("M", y, m), st.integers(MIN_YEAR, MAX_YEAR), st.integers(1, 12)),
)


@given(_PERIODS)
def test_canonical_code_round_trips(p):
    assert parse_period(p.code) == p
    assert parse_period(p.code).code == p.code
    assert Period.from_ordinal(p.freq, p.ordinal) == p
    assert p.start <= p.end and (p.end + dt.timedelta(days=1)).day == 1


@given(_PERIODS, st.data())
def test_every_form_written_reads_back(p, data):
    form = data.draw(st.sampled_from([f for f in FORMS if f.freq == p.freq]))
    for template in (form.template, *form.variants):
        written = p.format(template)
        found = match_period(written)
        assert found is not None, written
        assert found == (form, p), written
        assert parse_period(written.upper()) == p and parse_period(f" {written.lower()} ") == p


# --- files and commands -------------------------------------------------------------------------
def test_ingestion_reads_vietnamese_periods_in_both_layouts(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    try:
        long_file = tmp_path / "long.csv"
        long_file.write_text("indicator,territory,basis,sector,period,value,unit\n"
                             "GRDP_VA,31,63,26,Năm 2023,1,VND_BN\n"
                             "GRDP_VA,31,63,26,Quý 1/2024,2,VND_BN\n", encoding="utf-8")
        wide_file = tmp_path / "wide.csv"
        wide_file.write_text("indicator,territory,basis,sector,unit,Năm 2022,Quý II/2024\n"
                             "GRDP_VA,30,63,26,VND_BN,3,4\n", encoding="utf-8")
        for f in (long_file, wide_file):
            ingest_file(ws.store, f, source="test", indicators=ws.indicators(), workdir=ws.tmp)
        obs = ws.store.observations(indicator="GRDP_VA")
        assert sorted(zip(obs.territory, obs.period)) == [("63:30", "2022"), ("63:30", "2024-Q2"),
                                                          ("63:31", "2023"), ("63:31", "2024-Q1")]
    finally:
        ws.close()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_cli_period_option_refuses_a_bad_period_with_exit_code_2(tmp_path, lang):
    r = CliRunner().invoke(main, ["--lang", lang, "measure", "--territory", "VN", "--period", "2025-Q5",
                                  "--workspace", str(tmp_path / "none")])
    assert r.exit_code == 2, r.output
    assert "BAD_PERIOD: " in r.output and "'2025-Q5'" in r.output
    assert "Traceback" not in r.output and isinstance(r.exception, SystemExit)
    assert not (tmp_path / "none").exists()  # refused before anything was opened


def test_cli_period_option_reads_any_form(tmp_path):
    # the period is read (Q3/2025 → 2025-Q3) before the workspace is looked for
    r = CliRunner().invoke(main, ["--lang", "en", "measure", "--territory", "VN", "--period", "Q3/2025",
                                  "--workspace", str(tmp_path / "none")])
    assert "BAD_PERIOD" not in r.output
    r = CliRunner().invoke(main, ["observations", "--period", "2024,Quý 5/2024", "--workspace", str(tmp_path)])
    assert r.exit_code == 2 and "BAD_PERIOD" in r.output and "Quý 5/2024" in r.output
