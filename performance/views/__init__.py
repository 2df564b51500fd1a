"""Pages, by concern: feeds, scorecards, heatmap (the home page is composed in config)."""
