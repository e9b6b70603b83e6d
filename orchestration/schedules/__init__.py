"""Jobs, the nightly schedule and the landing sensor."""
