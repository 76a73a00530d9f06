"""Seeds for MlirFuzzer: every .mlir input of the lit suite and the
examples, split at `// -----` into modules of at most 4 KiB (the target's
input limit)."""
import pathlib
import sys

root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
n = 0
for path in sorted(list(root.glob("test/**/*.mlir")) +
                   list(root.glob("examples/**/*.mlir"))):
    for part in path.read_text().split("// -----"):
        body = "\n".join(line for line in part.splitlines()
                         if not line.lstrip().startswith("//"))
        data = body.encode()
        if body.strip() and len(data) <= 4096:
            (out / f"seed{n:04d}").write_bytes(data)
            n += 1
print(f"{n} seeds")
