"""Terminal text, JSON and Block Kit faces of one Diagnosis."""
