"""The TUI's screens: main (tree, details, log), full-screen log, metrics, help, dialogs."""
