"""Table rendering: cell formats, Markdown and booktabs LaTeX."""
from __future__ import annotations

import math

PLUS_MINUS = "±"


def format_cell(mean: float, std: float, n: int, expected: int, signed: bool = False) -> str:
    """`mean ± std (n=k)`, `(n=k/expected)` when runs are missing, "missing" when none is there."""
    if not n:
        return "missing" if expected else "--"
    text = f"{mean:+.2f}" if signed else f"{mean:.2f}"
    if not math.isnan(std):
        text += f" {PLUS_MINUS} {std:.2f}"
    count = f"n={n}" if n == expected else f"n={n}/{expected}"
    return f"{text} ({count})"


def format_gain(mean: float, low: float, high: float, n: int, expected: int, cls: str) -> str:
    """`+1.23 [+0.10, +2.36] ahead (n=5)`: mean paired gain, its 95 % interval, its class."""
    if not n:
        return "missing" if expected else "--"
    text = f"{mean:+.2f}"
    if not (math.isnan(low) or math.isnan(high)):
        text += f" [{low:+.2f}, {high:+.2f}]"
    count = f"n={n}" if n == expected else f"n={n}/{expected}"
    return f"{text} {cls} ({count})"


def markdown(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def tex_escape(text: str) -> str:
    for char, escaped in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                          ("#", r"\#"), (PLUS_MINUS, r"$\pm$"), ("−", "-")):
        text = text.replace(char, escaped)
    return text


def tex(header: list[str], body: list[list[str]], lead: int) -> str:
    """A booktabs tabular, the first `lead` columns left-aligned; the cells of `body` are LaTeX already."""
    lines = [r"\begin{tabular}{" + "l" * lead + "r" * (len(header) - lead) + "}", r"\toprule",
             " & ".join(tex_escape(h) for h in header) + r" \\", r"\midrule"]
    lines += [" & ".join(row) + r" \\" for row in body]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def bold(text: str, best: bool, style: str) -> str:
    """Markdown (`md`) or LaTeX (`tex`) text, bold when `best`."""
    if style == "md":
        return f"**{text}**" if best and text else text
    return rf"\textbf{{{tex_escape(text)}}}" if best and text else tex_escape(text)


def md_footer(footer: str) -> str:
    return f"\n{footer}\n" if footer else ""


def tex_footer(footer: str) -> str:
    return "".join(f"% {line}\n" for line in footer.splitlines())
