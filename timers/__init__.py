"""Timer-triggered functions: the app's housekeeping, on schedules from core.settings."""
