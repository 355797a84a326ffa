"""The fenced code blocks of a Markdown file, for the README tests (extract_cpp.py,
run_commands.py).

A block opens with a line that starts with ``` and closes at the next such line. The first
word after the fence is its language (`cpp`, `sh`, `kir`, or "" for output and prose); the
rest of the line are flags (`cpp continued`: the snippet goes on from the one before).
"""

import re
from dataclasses import dataclass


@dataclass
class Block:
    lang: str            # "cpp", "sh", "kir" or ""
    flags: list          # the words after the language
    line: int            # 1-based line number of the block's first content line
    lines: list          # the content, without the fences
    section: str         # the nearest heading above the block


def read_blocks(path):
    blocks, section = [], ""
    current = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f.read().splitlines(), start=1):
            if current is None:
                if line.startswith("```"):
                    words = line[3:].split()
                    current = Block(words[0] if words else "", words[1:], number + 1, [],
                                    section)
                elif re.match(r"#+ ", line):
                    section = line.lstrip("#").strip()
            elif line.startswith("```"):
                blocks.append(current)
                current = None
            else:
                current.lines.append(line)
    if current is not None:
        raise SystemExit(f"{path}:{current.line - 1}: a code block is never closed")
    return blocks
