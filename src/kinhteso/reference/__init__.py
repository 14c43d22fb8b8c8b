"""Reference data shipped with the package: codes and frameworks as data files, small typed loaders.

Facts come with their source and date (see each data file's header or the YAML ``source`` keys).
"""
