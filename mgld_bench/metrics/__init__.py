"""What scores: metrics over SR frames, with or without ground truth."""
