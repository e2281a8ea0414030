"""What is shown: tables, plots and regression reports, read from the result store only."""
