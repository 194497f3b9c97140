"""Pure SLA rules: business calendars, working-day schedules and clock durations."""
