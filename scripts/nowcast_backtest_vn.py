"""Run the nowcast backtest on real Vietnamese data and print the REAL_DATA_BACKTEST constant.

The data: GSO quarterly GDP by VSIC section 2014–2024 (three ``basis`` regimes) and monthly
industrial production growth, from ``../shared/reference/vietnam/`` (or ``--reference DIR``).
Paste the printed ``results`` into ``kinhteso.pipeline.nowcast.REAL_DATA_BACKTEST``; the test
``tests/test_nowcast.py::test_real_data_backtest_matches_shipped_verdict`` checks them.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/nowcast_backtest_vn.py
"""

from __future__ import annotations

import argparse
import os
import pprint
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd  # noqa: E402

from kinhteso.pipeline.nowcast import default_engine, real_data_backtest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=ROOT.parent / "shared" / "reference" / "vietnam")
    args = ap.parse_args()
    out = real_data_backtest(args.reference)
    table = pd.DataFrame(out["results"])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\ndefault engine by the rule (beats naive in every case, lowest mean ratio): {default_engine(out)}")
    compact = [{"sector": r["sector"], "months_available": r["months_available"], "engine": r["engine"],
                "n": int(r["n"]), "rmse": round(r["rmse"], 4), "rmse_ratio_to_naive": round(r["rmse_ratio_to_naive"], 4),
                "coverage": round(r["coverage"], 4)} for r in out["results"]]
    print("\nresults = ")
    pprint.pprint(compact, width=150, sort_dicts=False)


if __name__ == "__main__":
    main()
