"""Run the nowcast backtest on real Vietnamese data and print the REAL_DATA_BACKTEST constant.

The data: GSO quarterly GDP by VSIC section 2014–2024 (three ``basis`` regimes) and monthly
industrial production growth, from ``../shared/reference/vietnam/`` (or ``--reference DIR``).
Origins 2019Q1–2024Q4 are evaluated; the feasible origins before them only feed the calibrated
intervals (each interval uses the errors of earlier origins only). Prints, per row, the RMSE,
the ratio to naive and the coverage of the model and calibrated 90 % intervals, then the pooled
coverage per engine. Paste the printed ``results`` into
``kinhteso.pipeline.nowcast.REAL_DATA_BACKTEST``; ``tests/test_nowcast.py`` and
``tests/test_nowcast_calibration.py`` check them against a fresh run.

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
    print(f"warm-up origins (calibration only): {out['warmup']}")
    print("\npooled over sections and months (mean coverage):")
    print(table.groupby("engine")[["coverage", "coverage_calibrated", "coverage_scaled", "coverage_absolute"]]
          .mean().to_string(float_format=lambda v: f"{v:.4f}"))
    compact = [{"sector": r["sector"], "months_available": r["months_available"], "engine": r["engine"],
                "n": int(r["n"]), "rmse": round(r["rmse"], 4), "rmse_ratio_to_naive": round(r["rmse_ratio_to_naive"], 4),
                "coverage": round(r["coverage"], 4), "coverage_calibrated": round(r["coverage_calibrated"], 4),
                "coverage_absolute": round(r["coverage_absolute"], 4), "n_warmup": int(r["n_warmup"])}
               for r in out["results"]]
    print(f"\nwarmup = {out['warmup']!r}")
    print("\nresults = ")
    pprint.pprint(compact, width=150, sort_dicts=False)


if __name__ == "__main__":
    main()
