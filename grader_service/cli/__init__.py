"""Admin subcommands of `grader-service` (db, token, demo)."""
