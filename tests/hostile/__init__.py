"""The threat list: every way an untrusted submission can misbehave, graded for real."""
