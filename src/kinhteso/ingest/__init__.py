"""Ingestion: read → validate → normalise. A file with any problem is refused whole."""
