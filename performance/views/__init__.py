"""Pages, by concern: feeds, scorecards, heatmap, home."""
