#!/usr/bin/python3
"""Runs the commands README.md shows, as a user runs them, so that they cannot rot.

Usage: run_commands.py README.md PATH/TO/kiln PATH/TO/kiln-plan

- Every line of a ```sh block runs under `bash -o pipefail` and must exit 0. Each block gets
  a scratch folder holding the files the README names (model.kir from this folder, x.npy and
  w.npy for its parameters), and its lines run there in order (`--save-plan model.kplan`, then
  `kiln-plan model.kplan`). `kiln` and `kiln-plan` are the built ones, first on PATH, and
  KILN_CACHE_DIR is in the scratch folder, never the user's ~/.cache/kiln. Lines that run
  scripts/dev.sh are skipped: they install packages and build the project; so are `cmake` and
  `pkg-config` lines, which need a build folder and an installed kiln: tests/install runs them.
- Every plain ``` block must be one OUTPUTS knows: output the README shows is produced again
  (from the block's own `$ ` command, or the commands given here) and compared, exactly or by
  the first word of each line where the numbers are timings.
- Every ```kir block must parse and verify (`kiln dump`).
- Every pass a `--passes=` list names is one `kiln opt` knows, and the README's list of passes
  and pipelines is kiln's own.
"""

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from readme_blocks import read_blocks  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SKIPPED = ("scripts/dev.sh", "cmake ", "pkg-config ")


def program(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return f.read()


# What a ```sh block's scratch folder holds.
MODEL = {"model.kir": program("model.kir"),
         "x.npy": np.linspace(-1, 1, 32, dtype=np.float32).reshape(4, 8),
         "w.npy": np.linspace(1, -1, 24, dtype=np.float32).reshape(8, 3)}

# Programs for the error messages the README shows.
BAD_ADD = """func @f(%x: f32[3], %y: f32[4]) -> f32[3] {
  %0 = add %x, %y : f32[3]
  return %0
}
"""
BAD_TRANSFORMS = """func @f(%x: f32[3]) -> f32[] {
  %0 = reduce_sum %x {axes=[0]} : f32[]
  return %0
}

func @g(%x: f32[3]) -> (f32[], f32[]) {
  %0 = reduce_sum %x {axes=[0]} : f32[]
  return %0, %0
}
"""


@dataclass
class Output:
    """How to produce a plain block's text: `commands` (default: the block's `$ ` line) run in
    a folder holding `files`, each exiting `status`; their stdout and stderr, in order, are
    compared with the block (without its `$ ` line) by `compare`: "exact", or "first words"
    (the first word of each of the block's lines against the output's last lines)."""
    files: dict
    commands: list = field(default_factory=list)
    status: int = 0
    compare: str = "exact"


# Every plain block of the README, keyed by its first line.
OUTPUTS = {
    "kernels: 1                    # kernel runs per call":
        Output(MODEL, ["kiln run model.kir --random-inputs --stats"], compare="first words"),
    "$ kiln bench w1.kir --repeat 10        # W1 on 4096x4096, this 2-core machine, 2026-11-22":
        Output({"w1.kir": program("w1.kir")}, compare="first words"),
    "$ kiln opt model.kir --passes=simplify":
        Output({"model.kir": program("simplify_example.kir")}),
    "model.kir:2:8: error: add expects operands of one shape and dtype, got f32[3] and f32[4]":
        Output({"model.kir": BAD_ADD}, ["kiln dump model.kir"], status=1),
    "[transform] --in-axes=0,1 has 2 entries but @f has 1 parameter (give one per parameter: "
    "an axis, or none for an unbatched one)":
        Output({"model.kir": BAD_TRANSFORMS},
               ["kiln transform model.kir --vmap --batch-size=2 --in-axes=0,1",
                "kiln transform model.kir --func g --grad"], status=1),
}

# Analyses that may end a --passes list; `kiln opt --passes=bogus` lists only the rewrites.
ANALYSES = {"fuse", "plan-memory"}


class Checker:
    def __init__(self, readme, kiln, kiln_plan):
        self.readme = readme
        self.kiln = kiln
        self.scratch = tempfile.TemporaryDirectory(prefix="kiln-readme-")
        bin_dir = os.path.join(self.scratch.name, "bin")
        os.mkdir(bin_dir)
        os.symlink(os.path.abspath(kiln), os.path.join(bin_dir, "kiln"))
        os.symlink(os.path.abspath(kiln_plan), os.path.join(bin_dir, "kiln-plan"))
        self.env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""),
                        KILN_CACHE_DIR=os.path.join(self.scratch.name, "cache"))
        self.env.pop("KILN_NO_DISK_CACHE", None)  # `kiln cache stats` shows a real cache
        self.folders = 0
        self.failures = []

    def fail(self, line, message):
        self.failures.append(f"{self.readme}:{line}: {message}")

    def folder(self, files):
        self.folders += 1
        path = os.path.join(self.scratch.name, f"block{self.folders}")
        os.mkdir(path)
        for name, content in files.items():
            if isinstance(content, np.ndarray):
                np.save(os.path.join(path, name), content)
            else:
                with open(os.path.join(path, name), "w", encoding="utf-8") as f:
                    f.write(content)
        return path

    def run(self, command, cwd, line):
        """Runs one README command line; returns (status, stdout + stderr)."""
        try:
            done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=cwd,
                                  env=self.env, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            self.fail(line, f"`{command}` ran past 60 s")
            return None, ""
        return done.returncode, done.stdout + done.stderr

    def check_sh(self, block):
        cwd = self.folder(MODEL)
        for offset, command in enumerate(block.lines):
            command = command.removeprefix("$ ").strip()
            if not command or command.startswith("#") or command.startswith(SKIPPED):
                continue
            status, output = self.run(command, cwd, block.line + offset)
            if status not in (0, None):
                self.fail(block.line + offset,
                          f"`{command}` exited {status}:\n{output[-2000:]}")

    def check_output(self, block):
        if not block.lines:
            self.fail(block.line, "an empty output block")
            return
        known = OUTPUTS.get(block.lines[0])
        if known is None:
            self.fail(block.line, "a block the README test does not know: say in OUTPUTS "
                                  "(tests/readme/run_commands.py) how to produce it, or fence "
                                  f"it as ```kir or ```sh:\n{block.lines[0]}")
            return
        shown, commands = block.lines, known.commands
        if shown[0].startswith("$ "):
            shown, commands = shown[1:], [shown[0][2:]]
        cwd = self.folder(known.files)
        output = ""
        for command in commands:
            status, text = self.run(command, cwd, block.line)
            if status != known.status:
                self.fail(block.line, f"`{command}` exited {status}, not {known.status}:\n"
                                      f"{text[-2000:]}")
                return
            output += text
        got = output.splitlines()
        if known.compare == "first words":
            expected = [line.split()[0] if line.split() else "" for line in shown]
            got = [line.split()[0] if line.split() else "" for line in got[-len(shown):]]
        else:
            expected = shown
        if got != expected:
            self.fail(block.line, "the output differs from the README's:\n" +
                      "\n".join(got) + "\nREADME:\n" + "\n".join(expected))

    def check_kir(self, block):
        cwd = self.folder({"block.kir": "\n".join(block.lines) + "\n"})
        status, output = self.run("kiln dump block.kir", cwd, block.line)
        if status != 0:
            self.fail(block.line, f"the .kir block does not parse and verify:\n{output}")

    def check_passes(self, text):
        done = subprocess.run([self.kiln, "opt", "-", "--passes=bogus"],
                              input=program("simplify_example.kir"), capture_output=True,
                              text=True)
        known = re.search(r"known: ([^;]*); pipelines: ([^)]*)\)", done.stderr)
        if not known:
            self.failures.append(f"`kiln opt --passes=bogus` does not list passes:\n"
                                 f"{done.stderr}")
            return
        passes, pipelines = (known.group(i).split(", ") for i in (1, 2))
        for match in re.finditer(r"--passes=([\w.,-]+)", text):
            if "..." in match.group(1):  # `--passes=a,b,...`
                continue
            line = text.count("\n", 0, match.start()) + 1
            for name in match.group(1).rstrip(".").split(","):
                if name not in passes + pipelines and name not in ANALYSES:
                    self.fail(line, f"kiln opt knows no pass `{name}`")
        listed = re.search(r"runs the named passes \(([^)]*)\)\s+and\s+pipelines\s+\(`(\w+)`",
                           text)
        if not listed:
            self.failures.append(f"{self.readme}: no sentence `runs the named passes (...)`")
        elif (re.split(r",\s*", listed.group(1)) != passes or [listed.group(2)] != pipelines):
            self.failures.append(f"{self.readme}: the README lists passes ({listed.group(1)}) "
                                 f"and pipelines ({listed.group(2)}); kiln knows "
                                 f"{', '.join(passes)} and {', '.join(pipelines)}")


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    readme, kiln, kiln_plan = sys.argv[1:]
    checker = Checker(readme, kiln, kiln_plan)
    with checker.scratch:
        counts = {}
        for block in read_blocks(readme):
            check = {"sh": checker.check_sh, "": checker.check_output,
                     "kir": checker.check_kir}.get(block.lang)
            if check:
                check(block)
                counts[block.lang or "output"] = counts.get(block.lang or "output", 0) + 1
        with open(readme, encoding="utf-8") as f:
            checker.check_passes(f.read())
    for failure in checker.failures:
        print(failure)
    print(f"{len(checker.failures)} failures; blocks checked: {counts}")
    sys.exit(1 if checker.failures else 0)


if __name__ == "__main__":
    main()
