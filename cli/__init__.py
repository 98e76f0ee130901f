"""cli package."""

# Before any command imports polars: its allocator reads this setting once (flows.process_memory).
import flows.process_memory  # noqa: F401
