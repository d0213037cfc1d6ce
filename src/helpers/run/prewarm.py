"""Build, on import, what every report reads the same way, for both report languages
(:func:`helpers.run.runner.warm_reports`: the message catalog, the page templates and
each language's report exporter, compiled).

For a process that forks many workbook commands: the tests' command server
(``tests/conftest.py``) imports it, so that each ``run`` it forks, and that run's fork
server, finds them built instead of compiling them again (about 0.13 core-seconds a
run).  All of it is static package data: nothing a command or a notebook could change.
A warm-up that fails leaves the importing process as it was: each run's fork server
builds what it needs, as it would without this module."""

from helpers.run.runner import warm_reports

for _language in ("zh", "en"):
    try:
        warm_reports(_language)
    except Exception:  # noqa: BLE001 - never stops the importing server (see above)
        pass
