"""One module per command (or group of related commands); each exposes `run(args) -> int` style handlers."""
