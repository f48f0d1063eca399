"""The sandbox: CBS and scoring-engine simulators and the runner of the whole journey."""
