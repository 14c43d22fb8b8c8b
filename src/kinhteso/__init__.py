"""kinhteso: measure and evaluate the digital economy (kinh tế số) of Viet Nam and its provinces.

Layers (see docs/architecture.md): ``reference`` (codes and frameworks as data), ``store`` (the
only module that speaks SQL), ``ingest`` (read → validate → normalise), ``methods`` (pure
numerics), ``pipeline`` (wires them together), ``cli`` (thin interface).
"""

from kinhteso._version import __version__

__all__ = ["__version__"]
