"""Workspace commands: init, ingest, observations, vintages, template, demo."""

COMMANDS: list = []
