"""The pipeline wires store, reference and methods together and records provenance."""
