"""The run directory: what one search wrote, readable while it runs and after it was killed.

A run directory holds::

    run.json        the run's description (`search.run.info.RunInfo`): settings, command, data
                    set, latency table (device, provenance), space, versions, sessions
    study.journal   the Optuna journal (unless --storage names an RDB)
    trials.jsonl    one `search.run.records.TrialRecord` per finished trial, appended (fsynced)
    trials.csv      the same records as CSV, rewritten after each trial

`search.run.directory` claims a directory for one driver, checks that a resumed run has the same
settings, and loads a run for the readers (``hwnas pareto``, ``report``, ``export``), which need
only ``run.json`` and ``trials.jsonl``.
"""
