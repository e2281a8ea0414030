"""What makes SR: method adapters turning LR clips into SR frames."""
