"""Plans and executes deployed flows on RQ; owns the run store, triggers, retries and dead letters."""
