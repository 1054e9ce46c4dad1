"""The public figures: statistics of registrations, applications, reviews and complaints, published
with small counts suppressed (statistics/), refreshed by a task and never computed on a page view.
It reads every domain app below it and writes only its summary (registrations.PublishedStatistics)."""
