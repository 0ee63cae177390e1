"""Reports from the consolidated rows: pure computations, no HTTP (REQUIREMENTS.md «Reports»)."""
