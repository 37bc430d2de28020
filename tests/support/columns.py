"""Columns two warehouses may differ in while holding the same data (the crash-recovery comparisons)."""

# columns that record when a row was (re)computed rather than what it says: a re-enrichment moves them
BOOKKEEPING_COLUMNS = ("changed_at", "enriched_at")
# columns that record which run loaded a row and when: they differ between two warehouses loaded separately
LOAD_COLUMNS = ("ingested_at", "updated_at", "loaded_at", "run_id", "quarantined_at", "expired_at")
