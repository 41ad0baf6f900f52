"""What of a run's output may reach a terminal: one definition for the TUI, the CLI and `wait_for_completion`.

Run output is hostile by default: it may hold escape sequences that retitle the terminal (OSC), move the
cursor, clear the screen, switch character sets or write hyperlinks. At most SGR colours and text attributes
survive; every other control sequence and control character is dropped. Carriage-return progress bars (tqdm)
collapse to the state a terminal would have shown last. Pure `re`: no Rich, no Textual.
"""

from __future__ import annotations

import re

TAB_SIZE = 8

# One alternation, tried left to right at each escape or control character:
#   CSI (7-bit ESC [ or 8-bit 0x9B) with parameters, intermediates and a final byte;
#   string controls (OSC, DCS, SOS, PM, APC) up to BEL or ST, or to the end of the line when unterminated;
#   any other ESC sequence (charset selection, save/restore cursor, reset, ...);
#   a lone ESC; every other C0/C1 control character except TAB.
CONTROL = re.compile(
    r"(?:\x1b\[|\x9b)(?P<params>[0-?]*)[ -/]*(?P<final>[@-~])"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|$)"
    r"|\x1b[ -/]*[0-~]"
    r"|\x1b"
    r"|[\x00-\x08\x0a-\x1f\x7f-\x9f]",
    re.DOTALL,
)
HAS_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_SGR_PARAMS = re.compile(r"[0-9;:]*")


def collapse_cr(line: str) -> str:
    """What a terminal shows for a line that redraws itself with carriage returns: its last state.

    A trailing CR (CRLF line endings, or a progress bar that ends in CR) is not a redraw.
    """
    stripped = line.rstrip("\r")
    cut = stripped.rfind("\r")
    return stripped if cut < 0 else stripped[cut + 1 :]


def strip_controls(line: str) -> str:
    """The plain characters of a line: every escape sequence and control character removed, tabs expanded."""
    if HAS_CONTROL.search(line) is None:
        return line.expandtabs(TAB_SIZE) if "\t" in line else line
    return CONTROL.sub("", line).expandtabs(TAB_SIZE)


def _sgr_only(match: re.Match[str]) -> str:
    seq = match.group()
    # Only plain 7-bit SGR (ESC [ digits ; : m) survives; private-mode "m" sequences change keyboard modes.
    if seq.startswith("\x1b[") and match.group("final") == "m" and _SGR_PARAMS.fullmatch(match.group("params") or ""):
        return seq
    return ""


def keep_sgr(line: str) -> str:
    """A line for a colour terminal: SGR colours kept (and reset at the end), everything else dropped."""
    if "\r" in line:
        line = collapse_cr(line)
    if HAS_CONTROL.search(line) is None:
        return line
    text = CONTROL.sub(_sgr_only, line)
    return text + "\x1b[0m" if "\x1b[" in text else text  # colours never bleed past the line


def plain(line: str) -> str:
    """A line for a pipe or a file: progress bars collapsed, no control sequence at all."""
    return strip_controls(collapse_cr(line) if "\r" in line else line)
