"""kinhteso: measure and evaluate the digital economy (kinh tế số) of Viet Nam and its provinces.

Layers (see docs/architecture.md): ``reference`` (codes and frameworks as data), ``store`` (the
only module that speaks SQL), ``ingest`` (read → validate → normalise), ``methods`` (pure
numerics), ``pipeline`` (wires them together), ``cli`` (thin interface).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kinhteso")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
