"""Output formats of a check run; all are written from the same :class:`CheckRun`."""
