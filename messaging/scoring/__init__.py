"""Lead scoring: 0-100 from engagement (opens, clicks, replies by category, meetings), decaying
with a half-life, explained event by event. `engine` is the arithmetic (pure, no database);
`store` keeps scores current in the database (incremental, decay pass, full recomputation)."""
