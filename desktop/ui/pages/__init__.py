"""The pages of the main window. Later areas add a `PageSpec` to `PAGES` and nothing else."""
