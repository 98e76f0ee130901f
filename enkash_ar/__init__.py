"""enkash_ar package."""
