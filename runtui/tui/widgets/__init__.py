"""The TUI's widgets: run tree, details pane, log view, line chart."""
