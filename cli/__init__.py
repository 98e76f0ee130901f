"""cli package."""

# Before any command imports polars: its allocator reads this setting once (ar_sync.process_memory).
import ar_sync.process_memory  # noqa: F401
