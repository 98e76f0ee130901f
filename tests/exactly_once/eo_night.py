"""The size and date of the night every exactly-once test runs."""

from __future__ import annotations

from datetime import date

AS_OF = date(2026, 11, 24)
#: The size of the night every exactly-once test runs: at 80 rows per chunk, 5 bulk files of
#: invoices and 5 dispatch calls, so every stage takes several chunks and a kill can land between
#: them; 20 customers' reminders (4 calls each) give the reminder stage room for faults and kills.
#: The smallest night that still exercises every path, so the fault matrix and the crash tests stay
#: quick.
CUSTOMERS, INVOICES = 20, 400
#: Rows per bulk file in every exactly-once night.
CHUNK_SIZE = 80
