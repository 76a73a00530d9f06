"""Prints layerc's GPU times over PyTorch eager's, from bench/gpu/run.sh's log.

    python3 ratios.py LOG
Lower is better; 1.0 is PyTorch's time.
"""
import re
import sys


def main(path):
    text = open(path).read()
    ours, theirs = {}, {}
    for m in re.finditer(r"^(\w+)\s+predict batch\s+(\d+): .* gpu\s+([\d.]+) ms", text, re.M):
        ours[(m[1], "predict", int(m[2]))] = float(m[3])
    for m in re.finditer(r"^(\w+)\s+train_step batch\s+(\d+) on the GPU:\s+([\d.]+) ms", text, re.M):
        ours[(m[1], "train_step", int(m[2]))] = float(m[3])
    for m in re.finditer(r"epoch \d+: .*epoch time gpu (\d+) ms", text):
        ours[("mlp", "epoch", 64)] = float(m[1])  # the last epoch
    for m in re.finditer(r"^pytorch (\w+)\s+predict batch\s+(\d+):\s+([\d.]+) ms", text, re.M):
        theirs[(m[1], "predict", int(m[2]))] = float(m[3])
    for m in re.finditer(r"^pytorch (\w+) train_step batch (\d+): ([\d.]+) ms", text, re.M):
        theirs[(m[1], "train_step", int(m[2]))] = float(m[3])
    m = re.search(r"epoch of 937 steps (\d+) ms", text)
    if m:
        theirs[("mlp", "epoch", 64)] = float(m[1])
    print("layerc CUDA / PyTorch eager (time; lower is better)")
    for key in sorted(ours):
        if key in theirs:
            name, what, batch = key
            print(f"  {name:12s} {what:10s} batch {batch:4d}: {ours[key]:9.3f} / "
                  f"{theirs[key]:9.3f} ms = {ours[key] / theirs[key]:6.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
