"""vizflow benchmarks: ``make bench`` runs every ``bench_*.py`` here (pytest never collects them)."""
