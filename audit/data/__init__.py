"""The data layer: every SQL statement in the app lives in this package."""
