"""Contract 003, the B0.4 side: ingestion into the PostgreSQL landing zone, and retention."""
