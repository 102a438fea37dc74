"""Data in: the input contract and its validation, data health, the company's files and imports, parameters,
the planners' overrides file, snapshots, results and the decision log on disk. Imports only ``core``."""
