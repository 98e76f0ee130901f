"""ar_sync: the engine that makes EnKash match the ERP, night after night (no Prefect inside).

It reads the ERP export (``erp_input``, ``erp_fields``), diffs it against what EnKash holds
(``planner``), sends what differs exactly once (``exactly_once``, around the ``run_ledger``), keeps
reminder schedules in place (``reminder_policy``) and sums up what is owed (``receivables``,
``summaries``). It talks to EnKash only through the ``enkash_ar`` SDK.
"""
