"""`python -m runtui ...`: the same as the `runtui` command."""

if __name__ == "__main__":
    from runtui.cli import entry

    entry()
