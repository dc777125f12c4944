"""What a run produces from poses: drawings, the JSON/CSV sinks, the summary plot."""
